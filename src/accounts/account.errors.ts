import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';

/** Bad input a person can fix (a taken username, a weak password): 400 with the message shown. */
export class AccountInputError extends BadRequestException {}

/**
 * No credentials on a route that needs them. Pages answer with a redirect to the sign-in page;
 * APIs and token-accepting routes with 401 and `WWW-Authenticate: Basic`.
 */
export class SignInRequiredError extends UnauthorizedException {
  constructor(
    /** Whether the route takes browser sessions only: then a browser is sent to sign in. */
    readonly page: boolean,
    message = 'Sign in to continue.',
  ) {
    super(message);
  }
}

/** A sensitive change attempted with a sign-in older than 15 minutes. */
export class ReauthenticationRequiredError extends ForbiddenException {
  constructor() {
    super('Confirm your password to make this change.');
  }
}

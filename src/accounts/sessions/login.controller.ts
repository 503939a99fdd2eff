import {
  Body,
  HttpCode,
  Controller,
  Get,
  HttpException,
  Inject,
  NotFoundException,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { AccountInputError } from '../account.errors.js';
import {
  CurrentAuth,
  CurrentSession,
  CurrentUser,
  Public,
  SignedIn,
} from '../auth/auth.decorators.js';
import type { RequestAuth } from '../auth/auth.types.js';
import { EmailService } from '../emails/email.service.js';
import { PasswordResetService } from '../users/password-reset.service.js';
import type { User } from '../users/user.entity.js';
import { UserService } from '../users/user.service.js';
import { TooManyAttemptsError } from './login-limiter.service.js';
import {
  LoginDto,
  RegisterDto,
  ResetConfirmDto,
  ResetRequestDto,
  SecondFactorDto,
  TokenQueryDto,
} from './login.dto.js';
import { LoginService, type LoginResult } from './login.service.js';
import type { Session } from './session.entity.js';
import { cookieOptions } from './session.middleware.js';
import { SESSION_COOKIE } from './session.service.js';

/** Only a path on this site: `//evil.example` and `/\evil` are other sites to a browser. */
export function safeNext(next: string | undefined, fallback = '/manage/account/'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
    return fallback;
  return next;
}

/**
 * Renders `view` again with the error when a form's input is refused (400, or 429 with
 * Retry-After), so the person sees what to fix; anything else goes to the global filter.
 */
function rerender(
  res: Response,
  view: string,
  error: unknown,
  locals: Record<string, unknown>,
): void {
  if (error instanceof TooManyAttemptsError) {
    res.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  if (error instanceof AccountInputError || error instanceof TooManyAttemptsError) {
    res
      .status((error as HttpException).getStatus())
      .render(view, { ...locals, error: error.message });
    return;
  }
  throw error;
}

@Controller('account')
export class LoginController {
  constructor(
    private readonly login: LoginService,
    private readonly users: UserService,
    private readonly emails: EmailService,
    private readonly resets: PasswordResetService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get('login')
  @Public()
  loginPage(
    @Query() query: TokenQueryDto,
    @CurrentAuth() auth: RequestAuth,
    @Res() res: Response,
  ): void {
    const next = safeNext(query.next);
    if (auth.kind === 'session') return res.redirect(303, next);
    res.render('accounts/login', {
      title: 'Sign in',
      next,
      registration: this.config.registration === 'open',
    });
  }

  @HttpCode(200)
  @Post('login')
  @Public()
  async signIn(@Body() body: LoginDto, @Res() res: Response): Promise<void> {
    const next = safeNext(body.next);
    try {
      this.finish(res, await this.login.passwordStep(body.username, body.password), next);
    } catch (error) {
      // The password is never put back into the form.
      rerender(res, 'accounts/login', error, {
        title: 'Sign in',
        next,
        username: body.username,
        registration: this.config.registration === 'open',
      });
    }
  }

  @HttpCode(200)
  @Post('two-factor')
  @Public()
  async secondFactor(@Body() body: SecondFactorDto, @Res() res: Response): Promise<void> {
    const next = safeNext(body.next);
    const recovery = body.recovery_code?.trim();
    try {
      const factor = recovery
        ? { recoveryCode: recovery }
        : { totp: body.totp_value?.trim() ?? '' };
      this.finish(res, await this.login.secondFactorStep(body.ticket, factor), next);
    } catch (error) {
      rerender(res, 'accounts/two-factor-login', error, {
        title: 'Two-factor authentication',
        ticket: body.ticket,
        next,
      });
    }
  }

  @Post('logout')
  @SignedIn()
  async signOut(
    @CurrentSession() session: Session,
    @CurrentUser() user: User,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.logout(session, user);
    res.clearCookie(SESSION_COOKIE, cookieOptions(this.config));
    res.redirect(303, '/');
  }

  @Get('register')
  @Public()
  registerPage(@Res() res: Response): void {
    this.assertOpen();
    res.render('accounts/register', { title: 'Create an account' });
  }

  @HttpCode(200)
  @Post('register')
  @Public()
  async register(@Body() body: RegisterDto, @Res() res: Response): Promise<void> {
    this.assertOpen();
    const locals = { title: 'Create an account', username: body.username, email: body.email };
    try {
      if (body.password !== body.password_confirm) {
        throw new AccountInputError('The two passwords do not match.');
      }
      await this.users.create(
        { username: body.username, email: body.email, password: body.password },
        { byAdmin: false },
      );
      this.finish(
        res,
        await this.login.passwordStep(body.username, body.password),
        '/manage/account/',
      );
    } catch (error) {
      rerender(res, 'accounts/register', error, locals);
    }
  }

  @Get('verify-email')
  @Public()
  async verifyEmail(@Query() query: TokenQueryDto, @Res() res: Response): Promise<void> {
    try {
      const email = await this.emails.verify(query.token ?? '');
      res.render('accounts/message', {
        title: 'E-mail verified',
        message: `${email.email} is verified.`,
      });
    } catch (error) {
      rerender(res, 'accounts/message', error, { title: 'E-mail not verified' });
    }
  }

  @Get('reset-password')
  @Public()
  resetRequestPage(@Res() res: Response): void {
    res.render('accounts/reset-request', { title: 'Reset your password' });
  }

  @HttpCode(200)
  @Post('reset-password')
  @Public()
  async resetRequest(@Body() body: ResetRequestDto, @Res() res: Response): Promise<void> {
    await this.resets.request(body.username_or_email);
    res.render('accounts/message', {
      title: 'Check your e-mail',
      message:
        'If an account matches, a link to reset its password is on its way to its primary e-mail address.',
    });
  }

  @Get('reset-password/confirm')
  @Public()
  async resetConfirmPage(@Query() query: TokenQueryDto, @Res() res: Response): Promise<void> {
    const token = query.token ?? '';
    try {
      const user = await this.resets.userFor(token);
      res.render('accounts/reset-confirm', {
        title: 'Choose a new password',
        token,
        username: user.username,
      });
    } catch (error) {
      rerender(res, 'accounts/message', error, { title: 'Reset your password' });
    }
  }

  @HttpCode(200)
  @Post('reset-password/confirm')
  @Public()
  async resetConfirm(@Body() body: ResetConfirmDto, @Res() res: Response): Promise<void> {
    try {
      if (body.new_password !== body.password_confirm) {
        throw new AccountInputError('The two passwords do not match.');
      }
      await this.resets.reset(body.token, body.new_password);
      res.render('accounts/message', {
        title: 'Password changed',
        message: 'Your password is changed. Sign in with it now.',
        signIn: true,
      });
    } catch (error) {
      rerender(res, 'accounts/reset-confirm', error, {
        title: 'Choose a new password',
        token: body.token,
      });
    }
  }

  private assertOpen(): void {
    // Closed registration looks like no registration at all.
    if (this.config.registration !== 'open') throw new NotFoundException('Registration is closed.');
  }

  private finish(res: Response, result: LoginResult, next: string): void {
    if (result.kind === 'second-factor') {
      res.render('accounts/two-factor-login', {
        title: 'Two-factor authentication',
        ticket: result.ticket,
        next,
      });
      return;
    }
    res.cookie(SESSION_COOKIE, result.cookieValue, {
      ...cookieOptions(this.config),
      maxAge: this.config.session.maxHours * 3_600_000,
    });
    res.redirect(303, next);
  }
}

import { Body, Controller, Get, Param, Post, Render, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AccountInputError } from './account.errors.js';
import { AccountPages } from './account-pages.js';
import { AddEmailDto, ChangePasswordDto, SensitiveFormDto } from './account.dto.js';
import { CurrentSession, CurrentUser, SignedIn } from './auth/auth.decorators.js';
import { EmailService } from './emails/email.service.js';
import type { Session } from './sessions/session.entity.js';
import { SessionService, sessionHandle } from './sessions/session.service.js';
import { LoginService } from './sessions/login.service.js';
import { TwoFactorService } from './two-factor/two-factor.service.js';
import type { User } from './users/user.entity.js';
import { UserService } from './users/user.service.js';

/**
 * `/manage/account/`: the Account tab (username, e-mails) and the Security tab (password, 2FA,
 * signed-in sessions).
 */
@Controller('manage/account')
@SignedIn()
export class AccountController {
  constructor(
    private readonly pages: AccountPages,
    private readonly emails: EmailService,
    private readonly users: UserService,
    private readonly login: LoginService,
    private readonly twoFactor: TwoFactorService,
    private readonly sessions: SessionService,
  ) {}

  @Get()
  @Render('accounts/account')
  async account(@CurrentUser() user: User, @CurrentSession() session: Session) {
    const emails = await this.emails.list(user.id);
    return {
      ...this.pages.locals(user, session, 'account', 'Account settings'),
      emails: emails.map((e) => ({
        id: e.id,
        email: e.email,
        primary: e.primary,
        verified: e.verified,
      })),
    };
  }

  @Post('emails')
  async addEmail(
    @Body() body: AddEmailDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    await this.emails.add(user, body.email);
    res.redirect(303, '/manage/account/');
  }

  @Post('emails/:id/remove')
  async removeEmail(
    @Param('id') id: string,
    @Body() body: SensitiveFormDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    await this.emails.remove(user, id);
    res.redirect(303, '/manage/account/');
  }

  @Post('emails/:id/primary')
  async makePrimary(
    @Param('id') id: string,
    @Body() body: SensitiveFormDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    await this.emails.makePrimary(user, id);
    res.redirect(303, '/manage/account/');
  }

  @Post('emails/:id/resend')
  async resendVerification(
    @Param('id') id: string,
    @CurrentUser() user: User,
    @Res() res: Response,
  ): Promise<void> {
    await this.emails.resend(user, id);
    res.redirect(303, '/manage/account/');
  }

  @Get('security')
  @Render('accounts/security')
  async security(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return {
      ...this.pages.locals(user, session, 'security', 'Security'),
      twoFactorEnabled: await this.twoFactor.isEnabled(user.id),
      recoveryCodesLeft: await this.twoFactor.unusedRecoveryCodes(user.id),
      sessions: (await this.sessions.listActive(user.id)).map((s) => ({
        handle: sessionHandle(s),
        current: s.id === session.id,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        userAgent: s.userAgent ?? 'Unknown browser',
        twoFactor: s.twoFactorMethod,
      })),
    };
  }

  /** Signs out one of the user's other sessions (a handle from the Security tab). */
  @Post('sessions/:handle/end')
  async endSession(
    @Param('handle') handle: string,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.sessions.endSessions(user.id, [handle], session.id);
    res.redirect(303, '/manage/account/security/');
  }

  /** "Sign out everywhere else": a lost laptop, a shared computer. */
  @Post('sessions/end-others')
  async endOtherSessions(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.sessions.endSessions(user.id, 'others', session.id);
    res.redirect(303, '/manage/account/security/');
  }

  /** The current password is always asked here, whatever the age of the sign-in (as on PyPI). */
  @Post('password')
  async changePassword(
    @Body() body: ChangePasswordDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.confirmPassword(session, user, body.current_password);
    if (body.new_password !== body.password_confirm) {
      throw new AccountInputError('The two new passwords do not match.');
    }
    await this.users.changePassword(user, body.new_password, session.id);
    res.redirect(303, '/manage/account/security/');
  }
}

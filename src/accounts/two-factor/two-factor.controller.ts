import { Body, HttpCode, Controller, Get, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AccountPages } from '../account-pages.js';
import { SensitiveFormDto, TotpConfirmDto } from '../account.dto.js';
import { CurrentSession, CurrentUser, SignedIn } from '../auth/auth.decorators.js';
import type { Session } from '../sessions/session.entity.js';
import { LoginService } from '../sessions/login.service.js';
import type { User } from '../users/user.entity.js';
import { TwoFactorService } from './two-factor.service.js';

/** Two-factor set-up, removal and recovery codes, under the Security tab. */
@Controller('manage/account')
@SignedIn()
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly pages: AccountPages,
    private readonly login: LoginService,
  ) {}

  @Get('two-factor/totp')
  async enrolPage(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    const enrolment = await this.twoFactor.beginEnrolment(session, user);
    res.setHeader('Cache-Control', 'no-store');
    res.render('accounts/totp-setup', {
      ...this.pages.locals(user, session, 'security', 'Set up two-factor authentication'),
      secret: enrolment.secret,
      qrDataUri: `data:image/svg+xml;base64,${Buffer.from(enrolment.svg).toString('base64')}`,
    });
  }

  @HttpCode(200)
  @Post('two-factor/totp')
  async confirm(
    @Body() body: TotpConfirmDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    const codes = await this.twoFactor.confirmEnrolment(session, user, body.totp_value);
    this.showCodes(res, user, session, codes);
  }

  @Post('two-factor/totp/remove')
  async remove(
    @Body() body: SensitiveFormDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    await this.twoFactor.remove(user);
    res.redirect(303, '/manage/account/security/');
  }

  @HttpCode(200)
  @Post('recovery-codes')
  async regenerate(
    @Body() body: SensitiveFormDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    const codes = await this.twoFactor.generateRecoveryCodes(user, true);
    this.showCodes(res, user, session, codes);
  }

  /** The codes are in this response only: never stored in clear, never shown again. */
  private showCodes(res: Response, user: User, session: Session, codes: string[]): void {
    res.setHeader('Cache-Control', 'no-store');
    res.render('accounts/recovery-codes', {
      ...this.pages.locals(user, session, 'security', 'Recovery codes'),
      codes: codes.map(
        (code) => `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}-${code.slice(12)}`,
      ),
    });
  }
}

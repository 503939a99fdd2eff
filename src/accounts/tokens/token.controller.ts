import { Body, HttpCode, Controller, Get, Param, Post, Render, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AccountInputError } from '../account.errors.js';
import { AccountPages } from '../account-pages.js';
import { CreateTokenDto, SensitiveFormDto } from '../account.dto.js';
import { CurrentSession, CurrentUser, SignedIn } from '../auth/auth.decorators.js';
import type { Session } from '../sessions/session.entity.js';
import { LoginService } from '../sessions/login.service.js';
import type { User } from '../users/user.entity.js';
import { TokenService } from './token.service.js';

/** `/manage/account/token/`: the API tokens tab. */
@Controller('manage/account/token')
@SignedIn()
export class TokenController {
  constructor(
    private readonly tokens: TokenService,
    private readonly pages: AccountPages,
    private readonly login: LoginService,
  ) {}

  @Get()
  @Render('accounts/tokens')
  async list(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return this.listLocals(user, session);
  }

  /** Renders the list again with the new value: the one time it is shown. */
  @HttpCode(200)
  @Post()
  async create(
    @Body() body: CreateTokenDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    const projects =
      body.scope === 'projects' ? (body.projects ?? '').split(/[\s,]+/).filter(Boolean) : [];
    if (body.scope === 'projects' && projects.length === 0) {
      throw new AccountInputError('Name at least one project, or choose the whole account.');
    }
    const days = body.expires_days?.trim();
    if (days && !/^\d+$/.test(days)) {
      throw new AccountInputError('The expiry is a whole number of days, or empty for none.');
    }
    const { token, value } = await this.tokens.create(user, {
      name: body.name,
      projects,
      expiresInDays: days ? Number(days) : undefined,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.render('accounts/tokens', {
      ...(await this.listLocals(user, session)),
      created: { name: token.name, value },
    });
  }

  @Post(':id/revoke')
  async revoke(
    @Param('id') id: string,
    @Body() body: SensitiveFormDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.ensureRecentAuth(session, user, body.confirm_password);
    await this.tokens.revoke(user, id);
    res.redirect(303, '/manage/account/token/');
  }

  private async listLocals(user: User, session: Session) {
    const now = Date.now();
    const tokens = (await this.tokens.list(user.id)).map((t) => ({
      id: t.id,
      name: t.name,
      publicId: t.lookup,
      scope: t.projects ? t.projects.join(', ') : 'Whole account',
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      lastUsedAt: t.lastUsedAt,
      status: t.revokedAt
        ? 'revoked'
        : t.expiresAt && t.expiresAt.getTime() <= now
          ? 'expired'
          : 'active',
    }));
    return { ...this.pages.locals(user, session, 'tokens', 'API tokens'), tokens };
  }
}

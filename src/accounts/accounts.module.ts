import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { ACCOUNT_DIRECTORY } from '../plugin-host/directories.js';
import { AccountDirectoryService } from './account-directory.js';
import { TabRegistry } from '../web/tabs.js';
import { AccountController } from './account.controller.js';
import { AccountPages } from './account-pages.js';
import { AuthGuard } from './auth/auth.guard.js';
import { EmailService } from './emails/email.service.js';
import { Mailer } from './emails/mailer.service.js';
import { KeyRing } from './key-ring.js';
import { LoginController } from './sessions/login.controller.js';
import { LoginLimiter } from './sessions/login-limiter.service.js';
import { LoginService } from './sessions/login.service.js';
import { SessionMiddleware } from './sessions/session.middleware.js';
import { SessionService } from './sessions/session.service.js';
import { TokenController } from './tokens/token.controller.js';
import { TokenService } from './tokens/token.service.js';
import { TwoFactorController } from './two-factor/two-factor.controller.js';
import { TwoFactorService } from './two-factor/two-factor.service.js';
import { AdminUserService } from './users/admin-user.service.js';
import { PasswordResetService } from './users/password-reset.service.js';
import { PasswordService } from './users/password.service.js';
import { UserService } from './users/user.service.js';

/**
 * Accounts: users, e-mails, passwords, sessions, two-factor, API tokens, sign-in.
 * The AuthGuard and SessionMiddleware it exports are installed app-wide by AppModule. Global:
 * who is signed in, and the account directory plugins read, are needed everywhere.
 */
@Global()
@Module({
  controllers: [LoginController, AccountController, TwoFactorController, TokenController],
  providers: [
    KeyRing,
    Mailer,
    PasswordService,
    UserService,
    AdminUserService,
    EmailService,
    PasswordResetService,
    SessionService,
    LoginLimiter,
    LoginService,
    TwoFactorService,
    TokenService,
    AccountPages,
    AuthGuard,
    SessionMiddleware,
    { provide: ACCOUNT_DIRECTORY, useClass: AccountDirectoryService },
  ],
  exports: [
    ACCOUNT_DIRECTORY,
    KeyRing,
    Mailer,
    PasswordService,
    UserService,
    AdminUserService,
    EmailService,
    PasswordResetService,
    SessionService,
    LoginService,
    TwoFactorService,
    TokenService,
    AuthGuard,
    SessionMiddleware,
  ],
})
export class AccountsModule implements OnModuleInit {
  constructor(private readonly tabs: TabRegistry) {}

  onModuleInit(): void {
    const tab = (id: string, title: string, path: string, order: number) =>
      this.tabs.contribute({
        set: 'account',
        id,
        title,
        path,
        order,
        permission: 'signed-in',
        owner: 'core',
      });
    tab('account', 'Account', '/manage/account/', 10);
    tab('security', 'Security', '/manage/account/security/', 20);
    tab('tokens', 'API tokens', '/manage/account/token/', 30);
  }
}

import { UserEmail } from '../accounts/emails/user-email.entity.js';
import { LoginFailure } from '../accounts/sessions/login-failure.entity.js';
import { Session } from '../accounts/sessions/session.entity.js';
import { ApiToken } from '../accounts/tokens/api-token.entity.js';
import { RecoveryCode } from '../accounts/two-factor/recovery-code.entity.js';
import { TotpMethod } from '../accounts/two-factor/totp-method.entity.js';
import { User } from '../accounts/users/user.entity.js';
import { FilenameRegistry } from '../packages/filename-registry.entity.js';
import { ReleaseFile } from '../packages/release-file.entity.js';
import { Release } from '../packages/release.entity.js';
import { Project } from '../projects/project.entity.js';
import { RoleInvitation } from '../projects/role-invitation.entity.js';
import { Role } from '../projects/role.entity.js';

/**
 * Every core entity, listed explicitly (ESM: no globs). A feature adds its entities here and
 * generates a migration for them; the schema test fails until the two agree.
 */
export const coreEntities: Function[] = [
  User,
  UserEmail,
  Session,
  LoginFailure,
  ApiToken,
  TotpMethod,
  RecoveryCode,
  Project,
  Role,
  RoleInvitation,
  Release,
  ReleaseFile,
  FilenameRegistry,
];

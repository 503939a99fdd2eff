import { randomBytes, randomUUID } from 'node:crypto';
import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TokenRef } from '../../hooks/hook-map.js';
import { setActor } from '../../context/request-context.js';
import { HookBus } from '../../hooks/hook-bus.js';
import { isValidProjectName, normalizeName } from '../../packages/names.js';
import { AccountInputError } from '../account.errors.js';
import {
  PROJECT_ROLE_RESOLVER,
  type ProjectRoleResolver,
  type RequestAuth,
} from '../auth/auth.types.js';
import { KeyRing } from '../key-ring.js';
import type { User } from '../users/user.entity.js';
import { userRef } from '../users/user.refs.js';
import { ApiToken } from './api-token.entity.js';

export const TOKEN_PREFIX = 'larder-';
/** `larder-` + 16 hex (lookup) + `-` + 43 base64url (256 random bits). */
const TOKEN_FORMAT = /^larder-([0-9a-f]{16})-([A-Za-z0-9_-]{43})$/;
/** `last_used_at` is written at most this often per token. */
const TOUCH_EVERY_MS = 60 * 1000;
export const MAX_TOKEN_DAYS = 3650;

export function tokenRef(token: ApiToken): TokenRef {
  return {
    id: token.id,
    name: token.name,
    projects: token.projects,
    expiresAt: token.expiresAt,
  };
}

export interface NewToken {
  name: string;
  /** Project names; empty or omitted: the whole account. */
  projects?: string[];
  /** Omitted: never expires. */
  expiresInDays?: number;
}

/** Why a presented token is refused: the message the client sees with the 403. */
export class TokenRefusedError extends ForbiddenException {}

@Injectable()
export class TokenService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    private readonly keys: KeyRing,
    @Inject(PROJECT_ROLE_RESOLVER) private readonly projects: ProjectRoleResolver,
  ) {}

  /**
   * Creates a token (`token.created`) and returns its value: the only time it exists outside
   * the client. Project names are stored normalised; each must be a project `user` has a role
   * on, as on PyPI (a new project is first uploaded with an account-wide token).
   */
  async create(user: User, input: NewToken): Promise<{ token: ApiToken; value: string }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) {
      throw new AccountInputError('Give the token a name of 1 to 100 characters.');
    }
    let projects: string[] | null = null;
    const names = (input.projects ?? []).map((p) => p.trim()).filter(Boolean);
    if (names.length > 0) {
      const bad = names.find((p) => !isValidProjectName(p));
      if (bad) throw new AccountInputError(`"${bad}" is not a valid project name.`);
      projects = [...new Set(names.map(normalizeName))].sort();
      for (const project of projects) {
        // One answer for "no such project" and "not yours": names of private work stay private.
        if (!(await this.projects.resolve(project, user.id))?.role) {
          throw new AccountInputError(
            `You have no role on a project named "${project}": a token can be limited only to projects you maintain or own.`,
          );
        }
      }
    }
    let expiresAt: Date | null = null;
    if (input.expiresInDays !== undefined) {
      const days = input.expiresInDays;
      if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
        throw new AccountInputError(`The expiry must be 1 to ${MAX_TOKEN_DAYS} days.`);
      }
      expiresAt = new Date(Date.now() + days * 86_400_000);
    }
    const lookup = randomBytes(8).toString('hex');
    const value = `${TOKEN_PREFIX}${lookup}-${randomBytes(32).toString('base64url')}`;
    const token = new ApiToken();
    token.id = randomUUID();
    token.userId = user.id;
    token.name = name;
    token.lookup = lookup;
    token.valueHash = this.keys.hash('api-token', value);
    token.projects = projects;
    token.expiresAt = expiresAt;
    token.lastUsedAt = null;
    token.revokedAt = null;
    token.revokedReason = null;
    const saved = await this.hooks.perform(
      'token.created',
      { user: userRef(user), token: tokenRef(token) },
      (manager) => manager.save(token),
    );
    return { token: saved, value };
  }

  /** The user's tokens, newest first, revoked ones included (they show as revoked). */
  list(userId: string): Promise<ApiToken[]> {
    return this.dataSource.manager.find(ApiToken, {
      where: { userId },
      order: { createdAt: 'DESC' },
    });
  }

  /**
   * Revokes one of `owner`'s tokens (`token.revoked`). Another user's token answers exactly
   * like a missing one (404). `by: 'admin'` when an administrator does it.
   */
  async revoke(owner: User, tokenId: string, by: 'user' | 'admin' = 'user'): Promise<void> {
    const token = /^[0-9a-f-]{36}$/i.test(tokenId)
      ? await this.dataSource.manager.findOneBy(ApiToken, { id: tokenId, userId: owner.id })
      : null;
    if (!token) throw new NotFoundException('No such API token on your account.');
    if (token.revokedAt) return;
    await this.hooks.perform(
      'token.revoked',
      { user: userRef(owner), token: tokenRef(token), reason: by },
      async (manager) => {
        token.revokedAt = new Date();
        token.revokedReason = by;
        await manager.save(token);
      },
    );
  }

  /**
   * The token and its owner for a presented value. Throws {@link TokenRefusedError} (403)
   * naming the reason: unknown, revoked, expired, or the account disabled.
   */
  async authenticate(value: string): Promise<{ token: ApiToken; user: User }> {
    const match = TOKEN_FORMAT.exec(value);
    const token = match
      ? await this.dataSource.manager.findOne(ApiToken, {
          where: { lookup: match[1] },
          relations: { user: true },
        })
      : null;
    if (!token || !KeyRing.sameDigest(token.valueHash, this.keys.hash('api-token', value))) {
      throw new TokenRefusedError('Invalid API token: it is not known to this index.');
    }
    if (token.revokedAt) {
      throw new TokenRefusedError(
        `This API token was revoked on ${token.revokedAt.toISOString().slice(0, 10)}.`,
      );
    }
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) {
      throw new TokenRefusedError(
        `This API token expired on ${token.expiresAt.toISOString().slice(0, 10)}.`,
      );
    }
    const user = token.user!;
    if (user.isDisabled)
      throw new TokenRefusedError('The account that owns this API token is disabled.');
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      token.lastUsedAt = new Date();
      // Bookkeeping, not a sensitive change: written without entity listeners so the audit
      // subscriber does not log every use as a token change.
      await this.dataSource
        .createQueryBuilder()
        .update(ApiToken)
        .set({ lastUsedAt: token.lastUsedAt })
        .where('id = :id', { id: token.id })
        .callListeners(false)
        .execute();
    }
    delete token.user;
    return { token, user };
  }

  /**
   * {@link authenticate}, then the token's owner becomes the request's actor (the audit log
   * names the token): what the auth guard and the index's fast path do with a presented token.
   */
  async authenticateRequest(value: string): Promise<Extract<RequestAuth, { kind: 'token' }>> {
    const { token, user } = await this.authenticate(value);
    setActor({
      kind: 'token',
      tokenId: token.id,
      tokenName: token.name,
      userId: user.id,
      username: user.username,
      isAdmin: user.isAdmin,
    });
    return { kind: 'token', token, user };
  }

  /** Whether a token may act on a project (by its PEP 503 normalised name). */
  static allowsProject(token: ApiToken, projectName: string): boolean {
    return token.projects === null || token.projects.includes(normalizeName(projectName));
  }
}

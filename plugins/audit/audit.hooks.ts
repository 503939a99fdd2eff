import { Injectable } from '@nestjs/common';
import { OnHook, type HookEvent } from '../../src/plugin-api/index.js';
import { AuditWriter } from './audit.writer.js';

/**
 * Actions that change no audited row, or that fail: the core emits them as after-hooks
 * (`hooks.emit`), which carry what a route interceptor could not see — the account, the
 * reason a sign-in failed, the second factor used. Each is written in its own transaction
 * once the request's work is done (there is no change to commit with).
 */
@Injectable()
export class AuditHooks {
  constructor(private readonly writer: AuditWriter) {}

  @OnHook('account.login', { phase: 'after' })
  async login(event: HookEvent<'account.login'>): Promise<void> {
    if (event.outcome === 'success' && event.user) {
      // The context's actor is still anonymous: the session starts with this response.
      await this.write(event, {
        tag: 'account:login:success',
        userId: event.user.id,
        actor: {
          kind: 'user',
          userId: event.user.id,
          username: event.user.username,
          isAdmin: false,
          twoFactorMethod: event.method === 'password' ? 'none' : event.method,
        },
        additional: { two_factor_method: event.method === 'password' ? 'none' : event.method },
      });
      return;
    }
    const reason = event.reason ?? 'unknown';
    // An unknown username concerns no account: it goes to the admin log only.
    await this.write(event, {
      tag: 'account:login:failure',
      userId: event.user?.id ?? null,
      additional: event.user ? { reason } : { reason, username_attempted: event.usernameAttempted },
    });
  }

  @OnHook('account.logout', { phase: 'after' })
  async logout(event: HookEvent<'account.logout'>): Promise<void> {
    await this.write(event, { tag: 'account:logout', userId: event.user.id });
  }

  @OnHook('account.reauthenticated', { phase: 'after' })
  async reauthenticated(event: HookEvent<'account.reauthenticated'>): Promise<void> {
    if (event.outcome !== 'failure') return;
    await this.write(event, {
      tag: 'account:reauthenticate:failure',
      userId: event.user.id,
      additional: { reason: event.reason ?? 'unknown' },
    });
  }

  @OnHook('account.password.reset-requested', { phase: 'after' })
  async resetRequested(event: HookEvent<'account.password.reset-requested'>): Promise<void> {
    await this.write(event, { tag: 'account:password:reset:request', userId: event.user.id });
  }

  /**
   * `project:upload:rejected`: in the project's history when it exists; otherwise (no such
   * project yet, or a request refused before its form was read) in the admin log alone, still
   * under the name the upload gave.
   */
  @OnHook('file.upload.rejected', { phase: 'after' })
  async uploadRejected(event: HookEvent<'file.upload.rejected'>): Promise<void> {
    // What the client sent is bounded before it is kept: `project_name` is varchar(200), and a
    // refusal must not become a way to stuff the log.
    const cut = (text: string | null, max: number) =>
      text !== null && text.length > max ? `${text.slice(0, max - 1)}…` : text;
    const additional: Record<string, unknown> = {
      filename: cut(event.filename, 255),
      reason: event.reason,
      message: cut(event.message, 1000),
    };
    if (event.plugin) additional.plugin = event.plugin;
    const name = cut(event.projectName, 200);
    await this.write(event, {
      tag: 'project:upload:rejected',
      project: event.project
        ? { id: event.project.id, name: event.project.name }
        : name
          ? { id: null, name }
          : null,
      additional,
    });
  }

  private write(
    event: { context: HookEvent<'account.logout'>['context'] },
    draft: Omit<Parameters<AuditWriter['build']>[0], 'plugin'>,
  ): Promise<void> {
    const row = this.writer.build({ ...draft, plugin: 'core' }, event.context);
    return this.writer.track(this.writer.store([row]));
  }
}

import { Inject, Injectable } from '@nestjs/common';
import {
  ACCOUNT_DIRECTORY,
  OnHook,
  PluginContext,
  type AccountDirectory,
  type HookEvent,
} from '../../src/plugin-api/index.js';
import { Mailer } from './mailer.js';
import { noticeFor, type NotifiedHook } from './notices.js';
import type { NotifyEmailOptions } from './notify-email.options.js';

/** After each notified action commits, e-mails the accounts it concerns. */
@Injectable()
export class NotifyEmailHooks {
  constructor(
    @Inject(ACCOUNT_DIRECTORY) private readonly accounts: AccountDirectory,
    private readonly mailer: Mailer,
    private readonly plugin: PluginContext<NotifyEmailOptions>,
  ) {}

  @OnHook('account.password.changed', { phase: 'after' })
  @OnHook('account.password.reset', { phase: 'after' })
  @OnHook('account.2fa.added', { phase: 'after' })
  @OnHook('account.2fa.removed', { phase: 'after' })
  @OnHook('account.email.added', { phase: 'after' })
  @OnHook('account.email.removed', { phase: 'after' })
  @OnHook('role.added', { phase: 'after' })
  @OnHook('role.removed', { phase: 'after' })
  @OnHook('release.deleted', { phase: 'after' })
  @OnHook('release.yanked', { phase: 'after' })
  @OnHook('file.deleted', { phase: 'after' })
  @OnHook('token.created', { phase: 'after' })
  async notify(event: HookEvent<NotifiedHook>): Promise<void> {
    const notice = noticeFor(event);
    const userIds = new Set(notice.users);
    if (notice.projectMaintainersOf) {
      for (const id of await this.accounts.projectMaintainers(notice.projectMaintainersOf))
        userIds.add(id);
    }
    // One mail per address (compared case-insensitively); remember whose it is for the audit record.
    const recipients = new Map<string, { to: string; userId: string | null }>();
    const add = (to: string, userId: string | null) => {
      if (!recipients.has(to.toLowerCase())) recipients.set(to.toLowerCase(), { to, userId });
    };
    for (const id of userIds) {
      const address = await this.accounts.primaryEmail(id);
      if (address) add(address, id);
    }
    for (const address of notice.addresses ?? [])
      add(address, 'user' in event ? event.user.id : null);
    const project = 'project' in event ? { id: event.project.id, name: event.project.name } : null;
    for (const { to, userId } of recipients.values()) {
      this.mailer.enqueue({ to, subject: notice.subject, text: notice.text }, () =>
        this.plugin.recordAudit({
          tag: 'notify:email:sent',
          userId,
          project,
          additional: { to, subject: notice.subject, hook: event.hook },
        }),
      );
    }
  }
}

import type { HookEvent } from '../../src/plugin-api/index.js';

/** The actions that e-mail account holders: PyPI's list, plus API token creation. */
export const NOTIFIED_HOOKS = [
  'account.password.changed',
  'account.password.reset',
  'account.2fa.added',
  'account.2fa.removed',
  'account.email.added',
  'account.email.removed',
  'role.added',
  'role.removed',
  'release.deleted',
  'release.yanked',
  'file.deleted',
  'token.created',
] as const;
export type NotifiedHook = (typeof NOTIFIED_HOOKS)[number];

/** Who receives a notice: accounts (by id), the project's maintainers, or literal addresses. */
export interface Notice {
  subject: string;
  text: string;
  users: string[];
  projectMaintainersOf?: string;
  addresses?: string[];
}

function byWhom(event: HookEvent<NotifiedHook>): string {
  const actor = event.actor;
  if (actor.kind === 'user') return `by ${actor.username}`;
  if (actor.kind === 'token') return `by ${actor.username} via API token "${actor.tokenName}"`;
  if (actor.kind === 'system') return 'by the system';
  return 'anonymously';
}

const footer = (event: HookEvent<NotifiedHook>) =>
  `\n\nThis was done ${byWhom(event)}${event.context.ip ? ` from ${event.context.ip}` : ''}. ` +
  'If it was not you or someone you trust, secure your account and tell your administrator.\n';

/** The words of each notice. Never a secret: payloads carry none. */
export function noticeFor(event: HookEvent<NotifiedHook>): Notice {
  const end = footer(event);
  switch (event.hook) {
    case 'account.password.changed':
    case 'account.password.reset':
      return {
        subject: 'Your Larder password was changed',
        text: `The password of your account ${event.user.username} was ${event.hook === 'account.password.reset' ? 'reset' : 'changed'}.${end}`,
        users: [event.user.id],
      };
    case 'account.2fa.added':
    case 'account.2fa.removed': {
      const added = event.hook === 'account.2fa.added';
      return {
        subject: `Two-factor method ${added ? 'added to' : 'removed from'} your Larder account`,
        text: `A two-factor method (${event.method}) was ${added ? 'added to' : 'removed from'} your account ${event.user.username}.${end}`,
        users: [event.user.id],
      };
    }
    case 'account.email.added':
      return {
        subject: 'E-mail address added to your Larder account',
        text: `The address ${event.email} was added to your account ${event.user.username}.${end}`,
        users: [event.user.id],
      };
    case 'account.email.removed':
      // Tell the removed address too: if an attacker removed it, its owner must hear of it.
      return {
        subject: 'E-mail address removed from your Larder account',
        text: `The address ${event.email} was removed from your account ${event.user.username}.${end}`,
        users: [event.user.id],
        addresses: [event.email],
      };
    case 'role.added':
      return {
        subject: `${event.user.username} was added to ${event.project.name}`,
        text: `${event.user.username} was added to the project ${event.project.name} as ${event.role}.${end}`,
        users: [event.user.id],
        projectMaintainersOf: event.project.id,
      };
    case 'role.removed':
      return {
        subject: `${event.user.username} was removed from ${event.project.name}`,
        text: `${event.user.username} (${event.role}) was removed from the project ${event.project.name}.${end}`,
        users: [event.user.id],
        projectMaintainersOf: event.project.id,
      };
    case 'release.deleted':
      return {
        subject: `${event.project.name} ${event.release.version} was removed`,
        text: `Release ${event.release.version} of ${event.project.name} and its files were removed.${end}`,
        users: [],
        projectMaintainersOf: event.project.id,
      };
    case 'release.yanked':
      return {
        subject: `${event.project.name} ${event.release.version} was yanked`,
        text:
          `Release ${event.release.version} of ${event.project.name} was yanked` +
          `${event.reason ? ` (reason: ${event.reason})` : ''}.${end}`,
        users: [],
        projectMaintainersOf: event.project.id,
      };
    case 'file.deleted':
      return {
        subject: `${event.file.filename} was removed from ${event.project.name}`,
        text: `The file ${event.file.filename} of ${event.project.name} ${event.release.version} was removed.${end}`,
        users: [],
        projectMaintainersOf: event.project.id,
      };
    case 'token.created': {
      const scope = event.token.projects
        ? `projects ${event.token.projects.join(', ')}`
        : 'the whole account';
      const expires = event.token.expiresAt
        ? `, expiring ${event.token.expiresAt.toISOString().slice(0, 10)}`
        : '';
      return {
        subject: `API token "${event.token.name}" created`,
        text: `An API token named "${event.token.name}" was created for your account ${event.user.username}, for ${scope}${expires}.${end}`,
        users: [event.user.id],
      };
    }
  }
}

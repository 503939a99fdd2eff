import type { AuditDraft } from './audit.writer.js';

/**
 * How row changes of the core's audited tables become catalogue events, keyed by table name
 * so the plugin never imports a core entity. Rows are keyed by database column names.
 *
 * A rule sees one change and every other change of the same transaction (`tx`), because some
 * events are several rows: a primary e-mail change is two updates, regenerating recovery codes
 * is N removes and N inserts, creating an account inserts the user and its e-mail. A rule
 * returns the events to record, `[]` when a sibling change records it, or `undefined` when it
 * does not know the change (the subscriber then refuses it in tests, logs it in production).
 *
 * The project tables of issue 4 (`projects`, `roles`, `role_invitations`, `releases`,
 * `release_files`) are one more entry each in {@link RULES}.
 */
export type Operation = 'insert' | 'update' | 'remove';
export type Row = Record<string, unknown>;

export interface RowChange {
  table: string;
  operation: Operation;
  /** After the change (insert, update); before it for a remove. */
  row: Row;
  /** Before an update. */
  before?: Row;
  /** Database columns an update changed. */
  columns: string[];
  /** Who acted, from the request context at the time of the change. */
  actorKind: string;
}

export type Draft = Omit<AuditDraft, 'plugin'>;
type Rule = (change: RowChange, tx: RowChange[]) => Draft[] | undefined;

const str = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const iso = (value: unknown): string | null =>
  value instanceof Date ? value.toISOString() : str(value);

/** Columns that are bookkeeping, not a sensitive change: an update of only these records nothing. */
const BOOKKEEPING: Record<string, string[]> = {
  users: ['last_login_at', 'password_changed_at', 'disabled_reason'],
  user_emails: ['verified_at'],
  totp_methods: ['last_time_step'],
  api_tokens: ['last_used_at', 'revoked_reason'],
};

function sibling(
  tx: RowChange[],
  table: string,
  operation: Operation,
  test: (c: RowChange) => boolean = () => true,
): RowChange | undefined {
  return tx.find((c) => c.table === table && c.operation === operation && test(c));
}

/** Changes `columns` besides bookkeeping, or `undefined` when one of them is not understood. */
function update(known: Record<string, Rule>): Rule {
  return (change, tx) => {
    const ignored = BOOKKEEPING[change.table] ?? [];
    const drafts: Draft[] = [];
    for (const column of change.columns) {
      if (ignored.includes(column)) continue;
      const rule = known[column];
      if (!rule) return undefined;
      const found = rule(change, tx);
      if (!found) return undefined;
      drafts.push(...found);
    }
    return drafts;
  };
}

const userOf = (change: RowChange) => str(change.row.user_id);

export const RULES: Record<string, Partial<Record<Operation, Rule>>> = {
  users: {
    insert: (c, tx) => {
      const id = str(c.row.id);
      if (c.actorKind === 'anonymous') {
        // Registration: the e-mail is inserted with the account.
        const email = sibling(tx, 'user_emails', 'insert', (e) => userOf(e) === id);
        return [
          { tag: 'account:create', userId: id, additional: { email: str(email?.row.email) } },
        ];
      }
      return [
        {
          tag: 'admin:user:create',
          userId: id,
          additional: { username: str(c.row.username), admin: c.row.is_admin === true },
        },
      ];
    },
    update: update({
      // Never the hash itself: only that it changed. A reset link is used signed out.
      password_hash: (c) => [
        {
          tag: c.actorKind === 'anonymous' ? 'account:password:reset' : 'account:password:change',
          userId: str(c.row.id),
        },
      ],
      is_disabled: (c) => [
        c.row.is_disabled === true
          ? {
              tag: 'admin:user:disable',
              userId: str(c.row.id),
              additional: { reason: str(c.row.disabled_reason) },
            }
          : { tag: 'admin:user:enable', userId: str(c.row.id) },
      ],
      is_admin: (c) => [
        {
          tag: c.row.is_admin === true ? 'admin:user:grant_admin' : 'admin:user:revoke_admin',
          userId: str(c.row.id),
        },
      ],
    }),
  },

  user_emails: {
    insert: (c, tx) =>
      // An account's first address is part of account creation.
      sibling(tx, 'users', 'insert', (u) => str(u.row.id) === userOf(c))
        ? []
        : [
            {
              tag: 'account:email:add',
              userId: userOf(c),
              additional: { email: str(c.row.email) },
            },
          ],
    remove: (c) => [
      { tag: 'account:email:remove', userId: userOf(c), additional: { email: str(c.row.email) } },
    ],
    update: update({
      verified: (c) =>
        c.row.verified === true
          ? [
              {
                tag: 'account:email:verified',
                userId: userOf(c),
                additional: { email: str(c.row.email), primary: c.row.primary === true },
              },
            ]
          : [],
      primary: (c, tx) => {
        if (c.row.primary !== true) {
          // The old primary, demoted: recorded with the new one's change.
          const promoted = sibling(
            tx,
            'user_emails',
            'update',
            (o) => o !== c && o.row.primary === true && userOf(o) === userOf(c),
          );
          return promoted ? [] : undefined;
        }
        const old = sibling(
          tx,
          'user_emails',
          'update',
          (o) => o !== c && o.row.primary === false && userOf(o) === userOf(c),
        );
        return [
          {
            tag: 'account:email:primary:change',
            userId: userOf(c),
            additional: { old_primary: str(old?.row.email), new_primary: str(c.row.email) },
          },
        ];
      },
    }),
  },

  totp_methods: {
    insert: (c) => [
      { tag: 'account:two_factor:method_added', userId: userOf(c), additional: { method: 'totp' } },
    ],
    remove: (c) => [
      {
        tag: 'account:two_factor:method_removed',
        userId: userOf(c),
        additional: { method: 'totp' },
      },
    ],
    update: update({}),
  },

  recovery_codes: {
    insert: (c, tx) => {
      // One event for the batch: the first inserted code of the account records it.
      const first = sibling(tx, 'recovery_codes', 'insert', (o) => userOf(o) === userOf(c));
      if (first !== c) return [];
      const replaced = sibling(tx, 'recovery_codes', 'remove', (o) => userOf(o) === userOf(c));
      return [
        {
          tag: replaced ? 'account:recovery_codes:regenerated' : 'account:recovery_codes:generated',
          userId: userOf(c),
        },
      ];
    },
    // Removed with the two-factor method, or replaced by new codes: recorded by that change.
    remove: (c, tx) =>
      sibling(tx, 'totp_methods', 'remove', (o) => userOf(o) === userOf(c)) ||
      sibling(tx, 'recovery_codes', 'insert', (o) => userOf(o) === userOf(c))
        ? []
        : undefined,
    update: update({
      used_at: (c) =>
        c.row.used_at ? [{ tag: 'account:recovery_codes:used', userId: userOf(c) }] : [],
    }),
  },

  api_tokens: {
    insert: (c) => [
      {
        tag: 'account:api_token:added',
        userId: userOf(c),
        additional: {
          description: str(c.row.name),
          scope: Array.isArray(c.row.projects) ? c.row.projects : 'user',
          expires: iso(c.row.expires_at),
          token_id: str(c.row.id),
        },
      },
    ],
    update: update({
      revoked_at: (c) =>
        c.row.revoked_at
          ? [
              {
                tag: 'account:api_token:removed',
                userId: userOf(c),
                additional: {
                  description: str(c.row.name),
                  token_id: str(c.row.id),
                  reason: str(c.row.revoked_reason),
                },
              },
            ]
          : undefined,
    }),
  },
};

/** Tables of the core that are not audited row by row: sign-ins and sign-outs are events instead. */
export const UNAUDITED_TABLES = new Set([
  'sessions',
  'login_failures',
  'migrations',
  'filename_registry',
  'audit_events',
]);

import type { EntityManager } from 'typeorm';
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
 * Rows carry ids, events carry names (a project's, a user's, a release's version): a rule asks
 * its {@link Lookup}, which reads them from the transaction's own changes first (a project
 * deleted or created in it) and otherwise through the transaction's manager.
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
  /** The acting account (a user, or a token's owner); `null` for the system or anonymous. */
  actorId: string | null;
  /** `submitted_by`: the acting account's username, or the system job's name. */
  actorName: string | null;
}

export type Draft = Omit<AuditDraft, 'plugin'>;
type Result = Draft[] | undefined;
type Rule = (change: RowChange, tx: RowChange[], look: Lookup) => Result | Promise<Result>;

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
  return async (change, tx, look) => {
    const ignored = BOOKKEEPING[change.table] ?? [];
    const drafts: Draft[] = [];
    for (const column of change.columns) {
      if (ignored.includes(column)) continue;
      const rule = known[column];
      if (!rule) return undefined;
      const found = await rule(change, tx, look);
      if (!found) return undefined;
      drafts.push(...found);
    }
    return drafts;
  };
}

const userOf = (change: RowChange) => str(change.row.user_id);

export interface ProjectName {
  id: string | null;
  name: string;
}

/**
 * Names for the ids rows carry, for one transaction. The transaction's own changes answer
 * first (a project created or deleted with the change); then a read through the transaction's
 * manager — never the DataSource, whose only embedded connection the transaction holds.
 * Answers are cached for the transaction.
 */
export class Lookup {
  private readonly cache = new Map<string, Promise<Row | null>>();

  constructor(
    private readonly manager: EntityManager,
    private readonly tx: RowChange[],
  ) {}

  /** A row of `table` by id: from the transaction's changes, else from the database. */
  private row(table: string, column: string, value: string | null): Promise<Row | null> {
    if (value === null) return Promise.resolve(null);
    const inTx = this.tx.find((c) => c.table === table && str(c.row[column]) === value);
    if (inTx) return Promise.resolve(inTx.row);
    const key = `${table}.${column}=${value}`;
    let found = this.cache.get(key);
    if (!found) {
      // Table and column names are constants of this file, never input.
      found = this.manager
        .query(`SELECT * FROM "${table}" WHERE "${column}" = $1 LIMIT 1`, [value])
        .then((rows: Row[]) => rows[0] ?? null);
      this.cache.set(key, found);
    }
    return found;
  }

  async project(id: unknown): Promise<ProjectName> {
    const row = await this.row('projects', 'id', str(id));
    return { id: str(id), name: str(row?.name) ?? `(project ${str(id)})` };
  }

  /** A project by its normalised name (a token's scope), `id: null` when none has it yet. */
  async projectNamed(normalized: string): Promise<ProjectName> {
    const row = await this.row('projects', 'normalized_name', normalized);
    return { id: str(row?.id), name: str(row?.name) ?? normalized };
  }

  async username(id: unknown): Promise<string | null> {
    return str((await this.row('users', 'id', str(id)))?.username);
  }

  async version(releaseId: unknown): Promise<string | null> {
    return str((await this.row('releases', 'id', str(releaseId)))?.version);
  }
}

const projectOf = (change: RowChange) => str(change.row.project_id);
/** Removed because its whole project is: the one `project:delete` records it. */
const projectDeleted = (c: RowChange, tx: RowChange[]) =>
  sibling(tx, 'projects', 'remove', (p) => str(p.row.id) === projectOf(c)) !== undefined;
const sameCollaborator = (a: RowChange) => (b: RowChange) =>
  projectOf(b) === projectOf(a) && userOf(b) === userOf(a);

/**
 * A role or invitation change as its two events (audit-tags.md): the project's
 * (`project:role:*`, naming the target user) and the target account's (`account:role:*`,
 * naming the project).
 */
async function roleEvents(
  action: string,
  c: RowChange,
  look: Lookup,
  extra: Record<string, unknown>,
): Promise<Draft[]> {
  const project = await look.project(c.row.project_id);
  const target = await look.username(c.row.user_id);
  const role = { role_name: str(c.row.role_name), ...extra };
  return [
    {
      tag: `project:role:${action}`,
      project,
      additional: { target_user: target, ...role },
    },
    {
      tag: `account:role:${action}`,
      userId: userOf(c),
      project,
      additional: { project_name: project.name, ...role },
    },
  ];
}

/** `project:api_token:added|removed`: one per project a scoped token names. */
async function projectTokenEvents(tag: string, c: RowChange, look: Lookup): Promise<Draft[]> {
  if (!Array.isArray(c.row.projects)) return [];
  const user = await look.username(c.row.user_id);
  const drafts: Draft[] = [];
  for (const name of c.row.projects as string[]) {
    drafts.push({
      tag,
      project: await look.projectNamed(name),
      additional: { description: str(c.row.name), user },
    });
  }
  return drafts;
}

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
    insert: async (c, _tx, look) => [
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
      ...(await projectTokenEvents('project:api_token:added', c, look)),
    ],
    update: update({
      revoked_at: async (c, _tx, look) =>
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
              ...(await projectTokenEvents('project:api_token:removed', c, look)),
            ]
          : undefined,
    }),
  },

  projects: {
    insert: (c) => [
      {
        tag: 'project:create',
        project: { id: str(c.row.id), name: str(c.row.name)! },
        additional: { created_by: c.actorName },
      },
    ],
    // One event for the project: its releases, files, roles and invitations go with it.
    remove: (c) => [
      {
        tag: 'project:delete',
        project: { id: str(c.row.id), name: str(c.row.name)! },
        additional: { deleted_by: c.actorName },
      },
    ],
  },

  roles: {
    // A new project's Owner, or an accepted invitation (its removal is this change's part).
    insert: (c, _tx, look) => roleEvents('add', c, look, { submitted_by: c.actorName }),
    update: update({
      role_name: (c, _tx, look) =>
        roleEvents('change', c, look, {
          previous_role_name: str(c.before?.role_name),
          submitted_by: c.actorName,
        }),
    }),
    remove: (c, tx, look) =>
      projectDeleted(c, tx) ? [] : roleEvents('remove', c, look, { submitted_by: c.actorName }),
  },

  role_invitations: {
    insert: (c, _tx, look) => roleEvents('invite', c, look, { submitted_by: c.actorName }),
    remove: (c, tx, look) => {
      if (projectDeleted(c, tx)) return [];
      // Accepted: the role it became records it.
      if (sibling(tx, 'roles', 'insert', sameCollaborator(c))) return [];
      // An expired invitation replaced by a new one: the new `invite` records it.
      if (sibling(tx, 'role_invitations', 'insert', sameCollaborator(c))) return [];
      // The invitee declines; anyone else (an owner) revokes.
      return c.actorId !== null && c.actorId === userOf(c)
        ? roleEvents('decline_invite', c, look, {})
        : roleEvents('revoke_invite', c, look, { submitted_by: c.actorName });
    },
  },

  releases: {
    insert: async (c, _tx, look) => [
      {
        tag: 'project:release:add',
        project: await look.project(c.row.project_id),
        additional: {
          version: str(c.row.version),
          canonical_version: str(c.row.canonical_version),
          submitted_by: c.actorName,
        },
      },
    ],
    update: update({
      yanked: async (c, _tx, look) => [
        c.row.yanked === true
          ? {
              tag: 'project:release:yank',
              project: await look.project(c.row.project_id),
              additional: {
                version: str(c.row.version),
                yanked_reason: str(c.row.yanked_reason),
                submitted_by: c.actorName,
              },
            }
          : {
              tag: 'project:release:unyank',
              project: await look.project(c.row.project_id),
              additional: { version: str(c.row.version), submitted_by: c.actorName },
            },
      ],
      // Set and cleared with `yanked`, whose event carries it.
      yanked_reason: (c) => (c.columns.includes('yanked') ? [] : undefined),
    }),
    remove: async (c, tx, look) =>
      projectDeleted(c, tx)
        ? []
        : [
            {
              tag: 'project:release:remove',
              project: await look.project(c.row.project_id),
              additional: { version: str(c.row.version), submitted_by: c.actorName },
            },
          ],
  },

  release_files: {
    insert: async (c, _tx, look) => [
      {
        tag: 'file:add',
        project: await look.project(c.row.project_id),
        additional: {
          filename: str(c.row.filename),
          version: await look.version(c.row.release_id),
          sha256: str(c.row.sha256),
          size: c.row.size === null || c.row.size === undefined ? null : Number(c.row.size),
          submitted_by: c.actorName,
        },
      },
    ],
    remove: async (c, tx, look) =>
      // With its release or project: that one event records it.
      projectDeleted(c, tx) ||
      sibling(tx, 'releases', 'remove', (r) => str(r.row.id) === str(c.row.release_id))
        ? []
        : [
            {
              tag: 'file:remove',
              project: await look.project(c.row.project_id),
              additional: {
                filename: str(c.row.filename),
                version: await look.version(c.row.release_id),
                submitted_by: c.actorName,
              },
            },
          ],
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

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audit event (DESIGN.md §8, audit-tags.md). Written only by the audit plugin, never
 * updated. `id` is the global order: rows are inserted at commit time under a transaction
 * advisory lock (audit.writer.ts), so ids follow commit order and `prev_hash`/`hash` chain
 * them in id order (docs/audit.md).
 *
 * Indexes: what the histories read (account, project), each ending in `id` for keyset
 * pagination, and `occurred_at` (dates to ids). Every index here is written inside the audited
 * COMMIT, so the admin log's filters (tag, actor, project name, IP, `additional`) have theirs
 * on `audit_event_search`, a copy filled off the request path (AuditSearch1796700000000,
 * audit.search.ts).
 */
@Entity('audit_events')
@Index('IDX_audit_events_user_id_id', ['userId', 'id'])
@Index('IDX_audit_events_project_id_id', ['projectId', 'id'])
@Index('IDX_audit_events_occurred_at', ['occurredAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  /** `source:subject:action`, from the catalogue or a plugin's `auditTags`. */
  @Column({ type: 'varchar', length: 100 })
  tag: string;

  /** The acting account (a token's owner for tokens); `null` for system and anonymous. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** The acting username, or the system job's name; kept as it was at the time. */
  @Column({ name: 'actor_name', type: 'varchar', length: 100, nullable: true })
  actorName: string | null;

  /** `user`, `token`, `admin` (an administrator acting on another account), `system`, `anonymous`. */
  @Column({ name: 'actor_kind', type: 'varchar', length: 20 })
  actorKind: string;

  /** How the actor authenticated, when by API token: its id and name ("via API token …"). */
  @Column({ name: 'actor_token_id', type: 'uuid', nullable: true })
  actorTokenId: string | null;

  @Column({ name: 'actor_token_name', type: 'varchar', length: 100, nullable: true })
  actorTokenName: string | null;

  /** When by browser session: the second factor given at sign-in (`none`, `totp`, `recovery-code`). */
  @Column({ name: 'actor_two_factor', type: 'varchar', length: 20, nullable: true })
  actorTwoFactor: string | null;

  /** The account the event concerns: its Security history lists it. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  /** The project it concerns, id and name, so its history outlives the project. */
  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId: string | null;

  @Column({ name: 'project_name', type: 'varchar', length: 200, nullable: true })
  projectName: string | null;

  /** Dropped (set to null) by the IP retention; `ipHash` stays. */
  @Column({ type: 'inet', nullable: true })
  ip: string | null;

  /** HMAC-SHA256 of the IP keyed with the app secret (chain/canonical.ts `ipKey`): hashed in the chain, matched by the exact IP filter. */
  @Column({ name: 'ip_hash', type: 'bytea', nullable: true })
  ipHash: Buffer | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  /** Names, versions, filenames, token name and scope: never a secret. */
  @Column({ type: 'jsonb', default: {} })
  additional: Record<string, unknown>;

  /** `core` for the core's actions, or the plugin that recorded the event. */
  @Column({ type: 'varchar', length: 100 })
  plugin: string;

  /** The previous row's `hash` (32 zero bytes for the first row): docs/audit.md. */
  @Column({ name: 'prev_hash', type: 'bytea', nullable: true })
  prevHash: Buffer | null;

  /** sha256(prev_hash ‖ canonical(row)), chain/canonical.ts. */
  @Column({ type: 'bytea', nullable: true })
  hash: Buffer | null;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where audit events are streamed (issue 7 item 5): an HTTP webhook or a JSON Lines file for
 * log shippers. Configured by admins on /admin/audit/streams/. The webhook secret is stored
 * sealed (AES-256-GCM under a key derived from LARDER_SECRET) and never shown again.
 */
@Entity('audit_stream_destinations')
export class AuditStreamDestination {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('UQ_audit_stream_destinations_name', { unique: true })
  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 10 })
  kind: 'webhook' | 'file';

  /** The webhook URL or the file path. */
  @Column({ type: 'text' })
  target: string;

  /** Only events whose tag starts with one of these; empty: every event. */
  @Column({ name: 'tag_prefixes', type: 'text', array: true })
  tagPrefixes: string[];

  @Column({ name: 'secret_sealed', type: 'text', nullable: true })
  secretSealed: string | null;

  /** Paused: events still queue, nothing is delivered until resumed. */
  @Column({ type: 'boolean', default: false })
  paused: boolean;

  @Column({ type: 'bigint', default: 0 })
  delivered: string;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true })
  lastErrorAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/**
 * The outbox: one row per (event, destination), inserted in the event's own transaction and
 * deleted once delivered. `next_attempt_at` is both the retry time and the claim lease.
 */
@Entity('audit_outbox')
@Index('IDX_audit_outbox_next_attempt_at', ['nextAttemptAt'])
@Index('IDX_audit_outbox_destination_id_id', ['destinationId', 'id'])
export class AuditOutboxEntry {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'destination_id', type: 'uuid' })
  destinationId: string;

  @Column({ name: 'event_id', type: 'bigint' })
  eventId: string;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}

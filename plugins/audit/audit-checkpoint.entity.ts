import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A signed statement about the chain (docs/audit.md). `checkpoint`: row `headId` has hash
 * `headHash`. `anchor` (left by a prune): row `headId` — the first one kept — has prev_hash
 * `headHash`. The Ed25519 signature covers kind, id, head id, head hash and time
 * (audit.signer.ts `checkpointMessage`); the id is taken from the sequence before signing.
 */
@Entity('audit_checkpoints')
@Index('IDX_audit_checkpoints_head_id', ['headId'])
export class AuditCheckpoint {
  @PrimaryColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_audit_checkpoints_id' })
  id: string;

  @Column({ type: 'varchar', length: 20 })
  kind: 'checkpoint' | 'anchor';

  @Column({ name: 'head_id', type: 'bigint' })
  headId: string;

  @Column({ name: 'head_hash', type: 'bytea' })
  headHash: Buffer;

  @Column({ name: 'signed_at', type: 'timestamptz' })
  signedAt: Date;

  @Column({ type: 'bytea' })
  signature: Buffer;

  @Column({ name: 'key_fingerprint', type: 'varchar', length: 100 })
  keyFingerprint: string;
}

/** The outcome of a `larder audit verify` run, for the admin page's chain status. */
@Entity('audit_verify_runs')
export class AuditVerifyRun {
  @PrimaryGeneratedColumn('increment', {
    type: 'bigint',
    primaryKeyConstraintName: 'PK_audit_verify_runs_id',
  })
  id: string;

  @Column({ name: 'finished_at', type: 'timestamptz' })
  finishedAt: Date;

  @Column({ type: 'boolean' })
  ok: boolean;

  @Column({ name: 'from_id', type: 'bigint', nullable: true })
  fromId: string | null;

  @Column({ name: 'last_id', type: 'bigint', nullable: true })
  lastId: string | null;

  @Column({ type: 'bigint' })
  rows: string;

  @Column({ type: 'text', nullable: true })
  problem: string | null;
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { User } from '../users/user.entity.js';

/**
 * An API token. The value (`larder-<lookup>-<secret>`) is shown once; only `lookup` (to find
 * the row) and a keyed hash of the whole value are stored. Audited; revoking keeps the row so
 * a later use is answered with the reason.
 */
@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('IDX_api_tokens_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** Public part of the value, shown in lists so a user can tell tokens apart. */
  @Index('UQ_api_tokens_lookup', { unique: true })
  @Column({ type: 'varchar', length: 16 })
  lookup: string;

  /** HMAC-SHA256 of the value under a key derived from LARDER_SECRET (hex). */
  @Column({ name: 'value_hash', type: 'varchar', length: 64 })
  valueHash: string;

  /** `null`: the whole account; otherwise the normalised names of the projects it may touch. */
  @Column({ type: 'text', array: true, nullable: true })
  projects: string[] | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** `user`, `admin` or `expired`, as the audit catalogue names them. */
  @Column({ name: 'revoked_reason', type: 'varchar', length: 20, nullable: true })
  revokedReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

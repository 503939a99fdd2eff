import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { User } from '../users/user.entity.js';

/** What a session carries besides who is signed in; never a secret in clear. */
export interface SessionData {
  /** A TOTP secret being enrolled, encrypted, until the user confirms a code. */
  pendingTotp?: string;
  /** Recovery codes to show once, right after they were generated (encrypted). */
  freshRecoveryCodes?: string;
}

/**
 * A signed-in browser. Stored in Postgres so every app node sees it. The primary key is the
 * SHA-256 of the cookie value: a copy of this table does not let anyone sign in.
 */
@Entity('sessions')
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Index('IDX_sessions_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  /** Start of the session: the absolute lifetime counts from here. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Last request seen (updated at most once a minute): the idle lifetime counts from here. */
  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;

  /** Last time the password was given: sensitive changes need it within 15 minutes. */
  @Column({ name: 'authenticated_at', type: 'timestamptz' })
  authenticatedAt: Date;

  /** How the second factor was given at sign-in: `none`, `totp` or `recovery-code`. */
  @Column({ name: 'two_factor_method', type: 'varchar', length: 20, default: 'none' })
  twoFactorMethod: string;

  @Column({ type: 'jsonb', default: {} })
  data: SessionData;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;
}

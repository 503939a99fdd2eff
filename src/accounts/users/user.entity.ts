import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  OneToMany,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import type { UserEmail } from '../emails/user-email.entity.js';

/**
 * An account. Audited: change it only through `save`/`remove` inside `HookBus.perform`.
 * Usernames are unique case-insensitively through `normalizedUsername` (no citext here).
 */
@Entity('users')
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** As the user typed it: letters, digits, `-`, `_`, `.` (PyPI's rule). */
  @Column({ type: 'varchar', length: 50 })
  username: string;

  /** `username` in lower case: the unique key and what sign-in looks up. */
  @Index('UQ_users_normalized_username', { unique: true })
  @Column({ name: 'normalized_username', type: 'varchar', length: 50 })
  normalizedUsername: string;

  /** argon2id PHC string; `null` until a password is set (accounts made by the CLI). */
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash: string | null;

  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true })
  passwordChangedAt: Date | null;

  @Column({ name: 'is_admin', type: 'boolean', default: false })
  isAdmin: boolean;

  @Column({ name: 'is_disabled', type: 'boolean', default: false })
  isDisabled: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 200, nullable: true })
  disabledReason: string | null;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @OneToMany('UserEmail', (email: UserEmail) => email.user)
  emails?: Relation<UserEmail>[];
}

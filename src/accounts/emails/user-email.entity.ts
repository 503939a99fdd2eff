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
import type { User } from '../users/user.entity.js';

/**
 * An e-mail address of an account. One per account is primary. An address belongs to one
 * account only (compared in lower case), as on PyPI. Audited.
 */
@Entity('user_emails')
export class UserEmail {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('IDX_user_emails_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne('User', (user: User) => user.emails, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Index('UQ_user_emails_normalized_email', { unique: true })
  @Column({ name: 'normalized_email', type: 'varchar', length: 254 })
  normalizedEmail: string;

  @Column({ type: 'boolean', default: false })
  primary: boolean;

  @Column({ type: 'boolean', default: false })
  verified: boolean;

  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

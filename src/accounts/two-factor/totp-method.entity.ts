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

/** A confirmed TOTP authenticator (one per account). Audited as a two-factor method. */
@Entity('totp_methods')
export class TotpMethod {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('UQ_totp_methods_user_id', { unique: true })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  /** The base32 secret, AES-256-GCM encrypted under a key derived from LARDER_SECRET. */
  @Column({ name: 'secret_encrypted', type: 'varchar', length: 255 })
  secretEncrypted: string;

  /** The last accepted 30-second step: a code from this step or earlier is a replay. */
  @Column({ name: 'last_time_step', type: 'bigint', nullable: true })
  lastTimeStep: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

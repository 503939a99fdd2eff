import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One failed sign-in, counted per key (`account:<name>` or `ip:<address>`) over a sliding
 * window. In Postgres so that every app node counts the same failures.
 */
@Entity('login_failures')
@Index('IDX_login_failures_key_created_at', ['key', 'createdAt'])
export class LoginFailure {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 120 })
  key: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

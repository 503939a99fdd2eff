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
import { User } from '../accounts/users/user.entity.js';
import type { ProjectRoleName } from '../accounts/auth/auth.types.js';
import { Project } from './project.entity.js';

/**
 * A pending invitation to collaborate (PyPI: invitations by username, accepted or declined by
 * the invitee, revocable by owners, expiring). Accepting, declining or revoking removes it.
 */
@Entity('role_invitations')
@Index('UQ_role_invitations_project_id_user_id', ['projectId', 'userId'], { unique: true })
export class RoleInvitation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Relation<Project>;

  @Index('IDX_role_invitations_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ name: 'invited_by_id', type: 'uuid', nullable: true })
  invitedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invited_by_id' })
  invitedBy?: Relation<User> | null;

  @Column({ name: 'role_name', type: 'varchar', length: 20 })
  roleName: ProjectRoleName;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

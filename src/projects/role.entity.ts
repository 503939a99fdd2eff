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
 * A collaborator's role on a project, with PyPI's meaning: a Maintainer uploads; an Owner also
 * manages collaborators, yanks and deletes. Audited.
 */
@Entity('roles')
@Index('UQ_roles_project_id_user_id', ['projectId', 'userId'], { unique: true })
export class Role {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Relation<Project>;

  @Index('IDX_roles_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ name: 'role_name', type: 'varchar', length: 20 })
  roleName: ProjectRoleName;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

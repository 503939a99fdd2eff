import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { User } from '../accounts/users/user.entity.js';
import { Project } from '../projects/project.entity.js';
import type { ReleaseFile } from './release-file.entity.js';

/**
 * One version of a project, created by its first file; its metadata is what that first upload
 * sent (PyPI's rule). `1.0` and `1.0.0` are one release: unique on the canonical version.
 * Yanking is per release (PEP 592, as PyPI does it). Audited.
 */
@Entity('releases')
@Index('UQ_releases_project_id_canonical_version', ['projectId', 'canonicalVersion'], {
  unique: true,
})
export class Release {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Relation<Project>;

  /** PEP 440 normalised (`1.0.0rc1`), as first uploaded. */
  @Column({ type: 'varchar', length: 100 })
  version: string;

  /** `canonicalize_version`: trailing zeros stripped (`1rc1`). */
  @Column({ name: 'canonical_version', type: 'varchar', length: 100 })
  canonicalVersion: string;

  @Column({ name: 'is_prerelease', type: 'boolean', default: false })
  isPrerelease: boolean;

  @Column({ type: 'boolean', default: false })
  yanked: boolean;

  @Column({ name: 'yanked_reason', type: 'text', nullable: true })
  yankedReason: string | null;

  @Column({ name: 'requires_python', type: 'text', nullable: true })
  requiresPython: string | null;

  @Column({ type: 'text', nullable: true })
  summary: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'description_content_type', type: 'varchar', length: 200, nullable: true })
  descriptionContentType: string | null;

  @Column({ name: 'metadata_version', type: 'varchar', length: 10, nullable: true })
  metadataVersion: string | null;

  /**
   * The other core-metadata fields of the first upload, keyed as the upload form names them
   * (`author`, `license`, `classifiers`, `requires_dist`, `project_urls`, …).
   */
  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, string | string[]>;

  @Column({ name: 'uploader_id', type: 'uuid', nullable: true })
  uploaderId: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'uploader_id' })
  uploader?: Relation<User> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @OneToMany('ReleaseFile', (file: ReleaseFile) => file.release)
  files?: Relation<ReleaseFile>[];
}

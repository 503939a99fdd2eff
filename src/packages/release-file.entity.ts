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
import { Project } from '../projects/project.entity.js';
import { Release } from './release.entity.js';

/**
 * A distribution file (wheel or sdist). Filenames are unique across the index, as on PyPI.
 * Yanked state is the release's. Audited.
 */
@Entity('release_files')
export class ReleaseFile {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('IDX_release_files_release_id')
  @Column({ name: 'release_id', type: 'uuid' })
  releaseId: string;

  @ManyToOne(() => Release, (release) => release.files, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'release_id' })
  release?: Relation<Release>;

  /** Denormalised from the release: the simple page reads a project's files in one query. */
  @Index('IDX_release_files_project_id')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Relation<Project>;

  @Index('UQ_release_files_filename', { unique: true })
  @Column({ type: 'varchar', length: 255 })
  filename: string;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size: number;

  @Index('IDX_release_files_sha256')
  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ name: 'blake2_256', type: 'char', length: 64 })
  blake2b256: string;

  @Column({ type: 'char', length: 32 })
  md5: string;

  /** `sdist` or `bdist_wheel`. */
  @Column({ type: 'varchar', length: 20 })
  packagetype: string;

  /** `source` for sdists, the python tag(s) for wheels (PyPI's `python_version`). */
  @Column({ name: 'python_version', type: 'varchar', length: 100 })
  pythonVersion: string;

  @Column({ name: 'requires_python', type: 'text', nullable: true })
  requiresPython: string | null;

  @Index('IDX_release_files_storage_key')
  @Column({ name: 'storage_key', type: 'text' })
  storageKey: string;

  /** The core metadata file (wheel METADATA / sdist PKG-INFO), stored beside the file. */
  @Index('IDX_release_files_metadata_key')
  @Column({ name: 'metadata_key', type: 'text', nullable: true })
  metadataKey: string | null;

  /** sha256 of the `.metadata` file itself (PEP 658/714), not of the distribution. */
  @Column({ name: 'metadata_sha256', type: 'char', length: 64, nullable: true })
  metadataSha256: string | null;

  @Column({ name: 'metadata_blake2_256', type: 'char', length: 64, nullable: true })
  metadataBlake2b256: string | null;

  @Column({ type: 'text', nullable: true })
  comment: string | null;

  @Column({ name: 'uploader_id', type: 'uuid', nullable: true })
  uploaderId: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'uploader_id' })
  uploader?: Relation<User> | null;

  @CreateDateColumn({ name: 'upload_time', type: 'timestamptz' })
  uploadTime: Date;
}

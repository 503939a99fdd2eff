import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Every filename ever uploaded, kept after the file is deleted: a deleted filename is never
 * reused for other bytes (PyPI: "This filename was previously used by a file that has since
 * been deleted"), so a pinned hash can never silently change.
 */
@Entity('filename_registry')
export class FilenameRegistry {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  filename: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

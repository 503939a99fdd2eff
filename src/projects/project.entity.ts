import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A project: created by its first upload (PyPI's rule), named as first spelled, found by its
 * PEP 503 normalised name. Audited: change it only through `save`/`remove` in `HookBus.perform`.
 */
@Entity('projects')
export class Project {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Display name, as the latest upload spelled it (`Acme.Widgets`). */
  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** PEP 503: `acme-widgets`. Unique: names equal after normalisation are one project. */
  @Index('UQ_projects_normalized_name', { unique: true })
  @Column({ name: 'normalized_name', type: 'varchar', length: 200 })
  normalizedName: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

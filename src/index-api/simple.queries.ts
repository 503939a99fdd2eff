import type { EntityManager } from 'typeorm';

/** One row per file of a project, with what the simple API shows about its release. */
export interface SimpleFileRow {
  filename: string;
  sha256: string;
  size: string;
  upload_time: Date;
  requires_python: string | null;
  packagetype: string;
  storage_key: string;
  metadata_sha256: string | null;
  version: string;
  yanked: boolean;
  yanked_reason: string | null;
}

/**
 * The hot query of `/simple/<name>/`: uses IDX_release_files_project_id, then the releases
 * primary key. Hand-written so one round trip fetches exactly the columns the page needs.
 */
export function projectFiles(manager: EntityManager, projectId: string): Promise<SimpleFileRow[]> {
  return manager.query(
    `SELECT f.filename, f.sha256, f.size, f.upload_time, f.requires_python, f.packagetype,
            f.storage_key, f.metadata_sha256, r.version, r.yanked, r.yanked_reason
       FROM release_files f
       JOIN releases r ON r.id = f.release_id
      WHERE f.project_id = $1`,
    [projectId],
  );
}

/** Every version of a project, including releases whose files were all deleted (PEP 700). */
export async function projectVersions(
  manager: EntityManager,
  projectId: string,
): Promise<string[]> {
  const rows: { version: string }[] = await manager.query(
    'SELECT version FROM releases WHERE project_id = $1',
    [projectId],
  );
  return rows.map((r) => r.version);
}

/** All projects for `/simple/` (display and normalised names), by normalised name. */
export function allProjects(
  manager: EntityManager,
): Promise<{ name: string; normalized_name: string }[]> {
  return manager.query('SELECT name, normalized_name FROM projects ORDER BY normalized_name');
}

import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

export interface ProjectStamp {
  id: string;
  name: string;
  /** Changes whenever the simple page of the project would: files, releases, yanks. */
  stamp: string;
}

/**
 * The project, and a stamp of everything its simple page shows, in one round trip
 * (UQ_projects_normalized_name, then IDX_release_files_project_id and the releases' unique
 * (project_id, canonical_version) index). Adding or deleting a file changes the count or the
 * latest upload time; yanking changes the yanked list.
 */
export async function projectStamp(
  manager: EntityManager,
  normalizedName: string,
): Promise<ProjectStamp | null> {
  const rows: {
    id: string;
    name: string;
    files: string;
    latest: Date | null;
    releases: string;
    yanks: string | null;
  }[] = await manager.query(
    `SELECT p.id, p.name,
            (SELECT count(*) FROM release_files f WHERE f.project_id = p.id) AS files,
            (SELECT max(f.upload_time) FROM release_files f WHERE f.project_id = p.id) AS latest,
            (SELECT count(*) FROM releases r WHERE r.project_id = p.id) AS releases,
            (SELECT string_agg(r.id::text || ':' || coalesce(r.yanked_reason, ''), ',' ORDER BY r.id)
               FROM releases r WHERE r.project_id = p.id AND r.yanked) AS yanks
       FROM projects p
      WHERE p.normalized_name = $1`,
    [normalizedName],
  );
  const row = rows[0];
  if (!row) return null;
  const stamp = createHash('sha256')
    .update(
      `${row.name}|${row.files}|${row.latest?.toISOString() ?? ''}|${row.releases}|${row.yanks ?? ''}`,
    )
    .digest('hex');
  return { id: row.id, name: row.name, stamp };
}

interface Entry {
  stamp: string;
  body: string;
}

/**
 * Rendered simple pages by project and content type, reused while the project's stamp is
 * unchanged: a page of 200 files then costs one small query. Bounded (least recently used
 * goes); every node keeps its own and checks the stamp on each request, so several app nodes
 * never serve a stale page.
 */
export class PageCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 1000) {}

  get(key: string, stamp: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.stamp !== stamp) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.body;
  }

  set(key: string, stamp: string, body: string): void {
    this.entries.delete(key);
    this.entries.set(key, { stamp, body });
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }
}

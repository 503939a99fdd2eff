import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

export interface ProjectStamp {
  id: string;
  name: string;
  /** Changes whenever the simple page of the project would: files, releases, yanks. */
  stamp: string;
}

/**
 * The project, and a stamp of everything its simple page shows, in one round trip:
 * UQ_projects_normalized_name, then one pass over the project's files
 * (IDX_release_files_project_id) and one over its releases (the unique (project_id,
 * canonical_version) index). Adding or deleting a file changes the count or the latest upload
 * time; yanking or un-yanking changes the yanked list; a release without files still counts.
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
    `SELECT p.id, p.name, f.files, f.latest, r.releases, r.yanks
       FROM projects p
      CROSS JOIN LATERAL (SELECT count(*) AS files, max(upload_time) AS latest
                            FROM release_files WHERE project_id = p.id) f
      CROSS JOIN LATERAL (SELECT count(*) AS releases,
                                 string_agg(id::text || ':' || coalesce(yanked_reason, ''), ','
                                            ORDER BY id) FILTER (WHERE yanked) AS yanks
                            FROM releases WHERE project_id = p.id) r
      WHERE p.normalized_name = $1`,
    [normalizedName],
  );
  const row = rows[0];
  if (!row) return null;
  // Joined, not hashed: it is only compared, and a hash per request costs more than it saves.
  const stamp = `${row.name}|${row.files}|${row.latest?.toISOString() ?? ''}|${row.releases}|${row.yanks ?? ''}`;
  return { id: row.id, name: row.name, stamp };
}

/** A page ready to send: its bytes and their strong ETag, computed once per rendering. */
export interface Page {
  bytes: Buffer;
  etag: string;
}

/** The bytes and ETag of `body` served as `type` (the type is hashed too: one ETag per representation). */
export function pageOf(type: string, body: string): Page {
  const bytes = Buffer.from(body, 'utf8');
  const etag = `"${createHash('sha256').update(type).update(bytes).digest('hex').slice(0, 40)}"`;
  return { bytes, etag };
}

interface Entry {
  stamp: string;
  page: Page;
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

  get(key: string, stamp: string): Page | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.stamp !== stamp) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.page;
  }

  set(key: string, stamp: string, page: Page): void {
    this.entries.delete(key);
    this.entries.set(key, { stamp, page });
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }
}

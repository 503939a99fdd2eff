import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * Embedded PostgreSQL: PGlite (Postgres compiled to WASM) served over the Postgres wire
 * protocol on a loopback port, so the `pg` driver, TypeORM and our migrations run unchanged.
 *
 * PGlite is a single session: the socket server takes one connection and the pool must be 1
 * (STACK.md §7). Code that holds a transaction must use that transaction's manager.
 */
export interface EmbeddedPostgres {
  host: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

export class DataDirInUseError extends Error {}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite gives no protection against two processes opening one folder, which corrupts it.
 * A pid file does: a live owner refuses the second process; a dead one (kill -9) is taken over.
 */
const openHere = new Set<string>();

function lockDataDir(dir: string): () => void {
  const lockFile = join(dir, 'larder.pid');
  if (openHere.has(lockFile)) {
    throw new DataDirInUseError(`the embedded database in ${dir} is already open in this process`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      openHere.add(lockFile);
      return () => {
        openHere.delete(lockFile);
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      // Our own pid in a file we did not write: a previous process's, reused after a reboot.
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new DataDirInUseError(
          `the embedded database in ${dir} is in use by process ${owner}; ` +
            'embedded PostgreSQL serves one process at a time (set DATABASE_URL to share a server)',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new DataDirInUseError(`could not lock ${dir}`);
}

/**
 * The extensions the embedded database loads: PGlite can only CREATE EXTENSION what is loaded,
 * and a data dir that uses one cannot be opened without it. The core offers pg_trgm (as a
 * server's contrib does); the audit plugin's free-text filter indexes with it. Whatever opens
 * a data dir with PGlite directly must pass these.
 */
export const EMBEDDED_EXTENSIONS = { pg_trgm };

/** Opens (creating on first use) the embedded database in `dir`. */
export async function startEmbeddedPostgres(dir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dir);
  try {
    const db = await PGlite.create({ dataDir: dir, extensions: EMBEDDED_EXTENSIONS });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    let closed = false;
    return {
      host,
      port: Number(port),
      dataDir: dir,
      async close() {
        if (closed) return;
        closed = true;
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

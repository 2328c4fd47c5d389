/**
 * The embedded default database: PGlite (PostgreSQL compiled to WebAssembly,
 * with pg_trgm) behind pglite-socket's TCP server on 127.0.0.1 and an
 * ephemeral port, so that postgres.js, the migrations and every SQL statement
 * of the storage run unchanged on it.
 *
 * Driver module: pglite-socket listens with the runtime's `net` module, and the
 * data directory is created with `node:fs`. Only `resolve-database.ts` loads
 * it, and only when no server URL is configured.
 *
 * PGlite is one PostgreSQL backend in one process. pglite-socket queues the
 * protocol messages of all its clients onto that backend message by message
 * (it keeps a transaction's messages together, but not the Parse/Bind/Execute
 * of one query, and all clients share one session's prepared statements and
 * settings). Two postgres.js connections would interleave their extended-
 * protocol messages, so the pool in front of it must hold exactly one
 * connection (EMBEDDED_MAX_CONNECTIONS). The socket accepts one more, so a
 * reconnect is not refused while the old socket is still being torn down.
 */
import { access, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { loadTemplate, saveTemplate, templateFile } from "./data-dir-template.ts";
import type { ResolvedDatabase } from "./resolve-database.ts";

export { type ResolvedDatabase, resolveDatabase } from "./resolve-database.ts";

/** The only pool size that is safe in front of PGlite (see the header). */
export const EMBEDDED_MAX_CONNECTIONS = 1;
const SOCKET_MAX_CONNECTIONS = EMBEDDED_MAX_CONNECTIONS + 1;

export interface EmbeddedDatabase extends ResolvedDatabase {
  embedded: true;
  maxConnections: number;
  /** The data directory, or null when the database lives in memory. */
  dataDir: string | null;
  /** How long PGlite took to open (a first start also runs initdb, unless it came from a template). */
  startupMs: number;
  /** Whether this fresh database was unpacked from a template (data-dir-template.ts). */
  fromTemplate: boolean;
  /**
   * Keeps this database, just migrated, as the template of later fresh ones.
   * Present only on a fresh database that had no template; call it once the
   * migrations are applied and before anything else is written.
   */
  saveAsTemplate?: () => Promise<void>;
}

/** Starts PGlite on `dataDir` (created when missing), or in memory when `dataDir` is null. */
export async function startEmbeddedPostgres(dataDir: string | null): Promise<EmbeddedDatabase> {
  // PGlite creates the last directory level only.
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const started = performance.now();
  const template = (await isFresh(dataDir)) ? await templateFile() : null;
  const tarball = template ? await loadTemplate(template) : null;
  const db = await PGlite.create({
    dataDir: dataDir ?? "memory://",
    extensions: { pg_trgm },
    ...(tarball ? { loadDataDir: tarball } : {}),
  });
  const startupMs = performance.now() - started;
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: 0,
    maxConnections: SOCKET_MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  // After start() the server reports the port the system chose.
  const address = server.getServerConn();
  let stopping: Promise<void> | null = null;
  return {
    url: `postgres://postgres@${address}/postgres`,
    embedded: true,
    maxConnections: EMBEDDED_MAX_CONNECTIONS,
    dataDir,
    startupMs,
    fromTemplate: tarball !== null,
    ...(template && !tarball
      ? { saveAsTemplate: async () => saveTemplate(template, await db.dumpDataDir("gzip")).catch(() => {}) }
      : {}),
    stop() {
      stopping ??= (async () => {
        await server.stop();
        // Closing PGlite shuts PostgreSQL down cleanly, which a restart on the same directory needs.
        await db.close();
      })();
      return stopping;
    },
  };
}

/** A data directory PostgreSQL has not been initialised in yet (memory always is). */
async function isFresh(dataDir: string | null): Promise<boolean> {
  if (dataDir === null) return true;
  return access(join(dataDir, "PG_VERSION")).then(
    () => false,
    () => true,
  );
}

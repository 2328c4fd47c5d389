/**
 * Turns the configured DATABASE_URL into something postgres.js can connect to:
 * a PostgreSQL server URL is used as it is; none, or a `pglite://` URL, starts
 * the embedded PGlite. PGlite is imported only in that case, so a deployment
 * on a real server never loads it.
 *
 *   (unset)              PGlite persisted in `dataDir` (./data by default)
 *   pglite://memory      PGlite in memory, gone when the process ends
 *   pglite:///abs/path   PGlite persisted in /abs/path (pglite://rel/path: relative)
 *   postgres://…         that server (postgresql:// too)
 */
import { RegistryError } from "../../domain/errors.ts";

export interface ResolvedDatabase {
  /** postgres:// URL to hand to createPool. */
  url: string;
  embedded: boolean;
  /** Pool size the database requires (1 for PGlite); undefined means "as configured". */
  maxConnections?: number;
  /** Stops the embedded database; nothing for a server. Call after the storage has closed. */
  stop(): Promise<void>;
  /** An embedded database that started fresh keeps itself, once migrated, for the next fresh start. */
  saveAsTemplate?: () => Promise<void>;
}

export type DatabaseTarget = { kind: "server"; url: string } | { kind: "embedded"; dataDir: string | null };

/** Reads DATABASE_URL; `dataDir: null` means in memory. */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseTarget {
  const target = url?.trim() ?? "";
  if (target === "") return { kind: "embedded", dataDir };
  if (/^postgres(ql)?:\/\//i.test(target)) return { kind: "server", url: target };
  if (/^pglite:\/\//i.test(target)) {
    const rest = target.slice("pglite://".length);
    if (rest.toLowerCase() === "memory") return { kind: "embedded", dataDir: null };
    if (rest === "") {
      throw RegistryError.invalidRequest(
        "DATABASE_URL pglite:// needs a path or `memory` (pglite:///var/lib/registry, pglite://memory)",
      );
    }
    return { kind: "embedded", dataDir: rest };
  }
  throw RegistryError.invalidRequest(
    "DATABASE_URL must start with postgres://, postgresql:// or pglite:// (or be unset for the embedded database)",
  );
}

export async function resolveDatabase(url: string | undefined, dataDir: string): Promise<ResolvedDatabase> {
  const target = parseDatabaseUrl(url, dataDir);
  if (target.kind === "server") return { url: target.url, embedded: false, stop: async () => {} };
  return startEmbedded(target.dataDir);
}

async function startEmbedded(dataDir: string | null): Promise<ResolvedDatabase> {
  const { startEmbeddedPostgres } = await import("./pglite-server.ts");
  return startEmbeddedPostgres(dataDir);
}

/**
 * The one place a postgres.js pool is opened. Every connection the registry
 * makes to PostgreSQL comes from here (the primary's pool, each replica's,
 * the read router's position clients, the readiness check, the cache
 * invalidation bus, the scripts), so each has the same connect, idle,
 * lifetime and statement timeouts: a database that hangs can hold no caller
 * longer than the configuration says.
 */
import postgres from "postgres";

export type Pool = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** What a statement runs on: a pool, or the connection of an open transaction. */
export type Db = Pool | Tx;

export interface PoolSettings {
  /** Connections in the pool. Default 50; the embedded PGlite takes exactly 1 (see pglite-server.ts). */
  maxConnections?: number;
  /** Close connections idle this long. Default 600 s; 0 keeps them. */
  idleTimeoutSeconds?: number;
  /** Replace connections after this long, so the pool follows DNS and failovers. Default 1800 s; 0 keeps them. */
  maxLifetimeSeconds?: number;
  /** Give up connecting, or waiting for a free connection, after this long. Default 3 s. */
  connectTimeoutSeconds?: number;
  /** Server-side statement timeout. Default 3000 ms; 0 disables it. */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell the registry's connections apart. */
  applicationName?: string;
}

export const DEFAULT_POOL_SETTINGS: Required<PoolSettings> = {
  maxConnections: 50,
  idleTimeoutSeconds: 600,
  maxLifetimeSeconds: 1800,
  connectTimeoutSeconds: 3,
  statementTimeoutMs: 3000,
  applicationName: "schema-registry",
};

/** Connections open lazily: a server that is down delays nothing until a statement needs it. */
export function createPool(url: string, settings: PoolSettings = {}): Pool {
  const s = { ...DEFAULT_POOL_SETTINGS, ...definedOnly(settings) };
  return postgres(url, {
    max: s.maxConnections,
    idle_timeout: s.idleTimeoutSeconds,
    max_lifetime: s.maxLifetimeSeconds,
    connect_timeout: s.connectTimeoutSeconds,
    prepare: true,
    onnotice: () => {},
    connection: {
      application_name: s.applicationName,
      ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
    },
  });
}

/** Lets statements in flight finish for up to `timeoutSeconds`, then closes the connections. */
export async function closePool(pool: Pool, timeoutSeconds = 5): Promise<void> {
  await pool.end({ timeout: timeoutSeconds });
}

export function isTransaction(db: Db): db is Tx {
  return "savepoint" in db;
}

/** Runs `work` in `db`'s transaction when it is one, else in a new transaction on the pool. */
export async function atomic<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return work(db);
  return (await db.begin(work)) as T;
}

/** An explicit `undefined` (an unset option passed along) means the default, not "none". */
function definedOnly(settings: PoolSettings): PoolSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/**
 * Read replicas (DATABASE_READ_URLS): the reader handle that sends each read
 * where the ReadRouter says (read-routing.ts explains how read-your-writes
 * holds), one pool per replica with the primary's pool settings, and what the
 * composition root needs to watch them (health, statistics, catching up).
 *
 * A read a replica fails (connection refused or lost, a recovery conflict, a
 * timeout) is served by the primary, and a replica whose connection failed is
 * skipped until it answers again. A lookup a replica answers with "not found"
 * is asked of the primary too: an id or a version a client holds was created
 * somewhere, maybe through another instance, moments ago.
 *
 * Each server also gets one small connection of its own for WAL positions,
 * so a replica's busy pool never delays the routing decisions.
 */
import { isRegistryError, RegistryError } from "../../domain/errors.ts";
import { isUnavailable, toRegistryError } from "./db-errors.ts";
import type { ReadHandle } from "./handles.ts";
import { closePool, createPool, type Db, type Pool, type PoolSettings } from "./pool.ts";
import {
  parseLsn,
  ReadRouter,
  type ReadRouterOptions,
  type ReadRoutingStats,
  type RoutingLog,
} from "./read-routing.ts";

export interface ReadReplicasOptions {
  /** The primary's URL, for the connection that reads its WAL position. */
  primaryUrl: string;
  replicaUrls: readonly string[];
  /** The primary's pool settings; every replica's pool gets the same. */
  pool: PoolSettings;
  routing?: Pick<ReadRouterOptions, "pollIntervalMs" | "maxLagMs" | "retryAfterMs" | "minRefreshIntervalMs">;
  log?: RoutingLog;
}

/** A position query gives up after this long: a routing decision must never wait on a stuck server. */
const POSITION_TIMEOUT_MS = 1000;

export class ReadReplicas implements ReadHandle {
  private constructor(
    private readonly primary: Pool,
    private readonly replicas: readonly Pool[],
    private readonly router: ReadRouter,
    private readonly positionClients: readonly Pool[],
  ) {}

  /** @internal Use createReadReplicas. */
  static of(primary: Pool, replicas: readonly Pool[], router: ReadRouter, positionClients: readonly Pool[]) {
    return new ReadReplicas(primary, replicas, router, positionClients);
  }

  get count(): number {
    return this.replicas.length;
  }

  async run<T>(query: (db: Db) => Promise<T>, missed?: (result: T) => boolean): Promise<T> {
    const index = this.router.pick();
    if (index === null) return query(this.primary);
    let result: T;
    try {
      result = await query(this.replicas[index]!);
    } catch (thrown) {
      const error = toRegistryError(thrown);
      if (!worthRetrying(error)) throw error;
      this.router.replicaFailed(index, error, isConnectionFailure(error));
      return query(this.primary);
    }
    if (missed?.(result)) {
      this.router.missRetried();
      return query(this.primary);
    }
    return result;
  }

  wrote(): void {
    this.router.writeCommitted();
  }

  /** See ReadRouter.catchUp: this instance's next reads see everything committed on the primary by now. */
  catchUp(): Promise<void> {
    return this.router.catchUp();
  }

  /** Where reads went, and each replica's state; for statistics, metrics and tests. */
  readRouting(): ReadRoutingStats {
    return this.router.stats();
  }

  /** Resolves when replica `index` (0-based) answers as a standby; throws `unavailable` otherwise. */
  async checkReplica(index: number): Promise<void> {
    const status = await this.router.check(index);
    if (status === "up") return;
    throw RegistryError.unavailable(
      status === "not_standby"
        ? `read replica ${index + 1} is not in recovery, so no read goes to it`
        : `read replica ${index + 1} does not answer; reads go to the primary`,
    );
  }

  /** Stops the routing and closes the replicas' pools and the position clients; the primary's pool is not its own. */
  async close(): Promise<void> {
    this.router.stop();
    const results = await Promise.allSettled([
      ...this.replicas.map((pool) => closePool(pool)),
      ...this.positionClients.map((pool) => closePool(pool, 1)),
    ]);
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }
}

/**
 * What the primary may answer differently: a miss (the replica may lag), the
 * replica failing, a recovery conflict (`conflict`). A request the database
 * rejects as invalid would be rejected by the primary too.
 */
function worthRetrying(error: RegistryError): boolean {
  return error.code !== "invalid_request";
}

/** The replica itself is unreachable, rather than one statement being slow. */
function isConnectionFailure(error: unknown): boolean {
  const cause = isRegistryError(error) ? error.cause : error;
  if (!isUnavailable(cause)) return false;
  const code = (cause as { code?: unknown }).code;
  return code !== "57014" && code !== "55P03";
}

/** `postgres://user:secret@host:5432/db` → `host:5432/db`, for logs and statistics. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

function positionClient(url: string, pool: PoolSettings): Pool {
  return createPool(url, {
    ...pool,
    maxConnections: 1,
    statementTimeoutMs: POSITION_TIMEOUT_MS,
    applicationName: "schema-registry-routing",
  });
}

/**
 * Replicas for reads beside `primary` (whose pool stays the caller's to
 * close). Replica pools connect lazily: a replica that is down at start-up
 * delays nothing, and is read from once it answers.
 */
export function createReadReplicas(primary: Pool, options: ReadReplicasOptions): ReadReplicas {
  // A hot standby is read-only: nothing is migrated or refreshed on it (the views replicate from the primary).
  const replicas = options.replicaUrls.map((url) => createPool(url, options.pool));
  const primaryPositions = positionClient(options.primaryUrl, options.pool);
  const replicaPositions = options.replicaUrls.map((url) => positionClient(url, options.pool));
  const router = new ReadRouter({
    ...options.routing,
    replicaNames: options.replicaUrls.map(describeServer),
    ...(options.log ? { log: options.log } : {}),
    positions: {
      async primary() {
        const [row] = await primaryPositions<
          { lsn: string }[]
        >`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
        return parseLsn(row!.lsn);
      },
      async replica(index) {
        const [row] = await replicaPositions[index]!<{ standby: boolean; lsn: string | null }[]>`
          SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn`;
        return row!.standby && row!.lsn !== null ? parseLsn(row!.lsn) : null;
      },
    },
  });
  router.start();
  return ReadReplicas.of(primary, replicas, router, [primaryPositions, ...replicaPositions]);
}

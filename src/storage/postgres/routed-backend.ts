/**
 * The metadata store with read replicas: one StorageBackend in front of the
 * primary's backend and one backend per replica (DATABASE_READ_URLS), each
 * with the same pool settings. Writes, transactions (and the reads inside
 * them), the access log and the pings of readiness go to the primary; the
 * reads of the read path (by id, subject and version, latest, versions,
 * subjects, search, history, statistics, popular schemas) go where the
 * ReadRouter says (read-routing.ts explains how read-your-writes holds).
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
import postgres from "postgres";
import { isRegistryError, RegistryError } from "../../domain/errors.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
  ReadOptions,
  SchemaRecord,
  SchemaRef,
  SchemaState,
  SearchHit,
  SearchQuery,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../../domain/types.ts";
import type { NewSchema, PopularSchema, RegisterOutcome, StorageBackend } from "../backend.ts";
import { isUnavailable } from "./db-errors.ts";
import {
  createPostgresBackend,
  type PostgresBackend,
  type PostgresBackendOptions,
} from "./postgres-backend.ts";
import {
  parseLsn,
  ReadRouter,
  type ReadRouterOptions,
  type ReadRoutingStats,
  type RoutingLog,
} from "./read-routing.ts";

/** The pool settings every server of the set shares (PostgresBackendOptions' own). */
export type PoolOptions = Pick<
  PostgresBackendOptions,
  | "maxConnections"
  | "idleTimeoutSeconds"
  | "maxLifetimeSeconds"
  | "connectTimeoutSeconds"
  | "statementTimeoutMs"
>;

export interface RoutedBackendOptions {
  /** The primary's URL, for the connection that reads its WAL position. */
  primaryUrl: string;
  replicaUrls: readonly string[];
  pool: PoolOptions;
  routing?: Pick<ReadRouterOptions, "pollIntervalMs" | "maxLagMs" | "retryAfterMs" | "minRefreshIntervalMs">;
  log?: RoutingLog;
}

/** A position query gives up after this long: a routing decision must never wait on a stuck server. */
const POSITION_TIMEOUT_MS = 1000;

export class RoutedBackend implements StorageBackend {
  private constructor(
    private readonly primary: PostgresBackend,
    private readonly replicas: readonly PostgresBackend[],
    private readonly router: ReadRouter,
    private readonly positionClients: readonly postgres.Sql[],
  ) {}

  /** @internal Use createRoutedBackend. */
  static of(
    primary: PostgresBackend,
    replicas: readonly PostgresBackend[],
    router: ReadRouter,
    positionClients: readonly postgres.Sql[],
  ): RoutedBackend {
    return new RoutedBackend(primary, replicas, router, positionClients);
  }

  // ---------------------------------------------------------------- writes

  register(input: NewSchema): Promise<RegisterOutcome> {
    return this.write(() => this.primary.register(input));
  }

  updateState(ref: SchemaRef, to: SchemaState, reason: string | null): Promise<SchemaRecord> {
    return this.write(() => this.primary.updateState(ref, to, reason));
  }

  softDelete(ref: SchemaRef): Promise<SchemaRecord> {
    return this.write(() => this.primary.softDelete(ref));
  }

  permanentDelete(ref: SchemaRef): Promise<SchemaRecord> {
    return this.write(() => this.primary.permanentDelete(ref));
  }

  /** On the primary, reads included: a transaction sees its own writes. */
  transaction<T>(work: (tx: StorageBackend) => Promise<T>): Promise<T> {
    return this.write(() => this.primary.transaction(work));
  }

  // ----------------------------------------------------------------- reads

  getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null> {
    return this.read((db) => db.getById(ref, options), isNull);
  }

  getBySubjectVersion(subject: string, version: string, options?: ReadOptions): Promise<SchemaRecord | null> {
    return this.read((db) => db.getBySubjectVersion(subject, version, options), isNull);
  }

  getLatest(subject: string): Promise<SchemaRecord | null> {
    return this.read((db) => db.getLatest(subject), isNull);
  }

  listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>> {
    return this.read((db) => db.listVersions(subject, options));
  }

  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>> {
    return this.read((db) => db.listSubjects(page));
  }

  search(query: SearchQuery): Promise<Page<SearchHit>> {
    return this.read((db) => db.search(query));
  }

  stateHistory(ref: SchemaRef): Promise<StateTransition[]> {
    return this.read((db) => db.stateHistory(ref));
  }

  stats(): Promise<StorageStats> {
    return this.read((db) => db.stats());
  }

  popularSchemas(limit: number): Promise<PopularSchema[]> {
    return this.read((db) => db.popularSchemas(limit));
  }

  recordRead(schemaId: string): void {
    this.primary.recordRead(schemaId);
  }

  /** On the primary: a replica that lags could miss a reference. */
  contentKeysReferenced(keys: readonly string[]): Promise<Set<string>> {
    return this.primary.contentKeysReferenced(keys);
  }

  lockContentKey(key: string, mode: "shared" | "exclusive"): Promise<void> {
    return this.primary.lockContentKey(key, mode);
  }

  // ---------------------------------------------------------- consistency

  /** See ReadRouter.catchUp: this instance's next reads see everything committed on the primary by now. */
  catchUp(): Promise<void> {
    return this.router.catchUp();
  }

  /** Where reads went, and each replica's state; for statistics, metrics and tests. */
  readRouting(): ReadRoutingStats {
    return this.router.stats();
  }

  get replicaCount(): number {
    return this.replicas.length;
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

  // ---------------------------------------------- the primary's own duties

  ping(): Promise<void> {
    return this.primary.ping();
  }

  flushAccessLog(): Promise<void> {
    return this.primary.flushAccessLog();
  }

  get accessLogFailures(): number {
    return this.primary.accessLogFailures;
  }

  refreshViews(): Promise<void> {
    return this.primary.refreshViews();
  }

  get viewRefreshFailures(): number {
    return this.primary.viewRefreshFailures;
  }

  async close(): Promise<void> {
    this.router.stop();
    const others = [...this.replicas.map((replica) => replica.close())];
    others.push(...this.positionClients.map((sql) => sql.end({ timeout: 1 })));
    // A replica that will not close must not keep the primary's access log from its last flush.
    const results = await Promise.allSettled(others);
    await this.primary.close();
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  // ---------------------------------------------------------------- helpers

  private async write<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } finally {
      // Even a failed write may have committed (a connection lost after COMMIT): count it.
      this.router.writeCommitted();
    }
  }

  private async read<T>(
    operation: (db: StorageBackend) => Promise<T>,
    missed?: (result: T) => boolean,
  ): Promise<T> {
    const index = this.router.pick();
    if (index === null) return operation(this.primary);
    let result: T;
    try {
      result = await operation(this.replicas[index]!);
    } catch (error) {
      if (!worthRetrying(error)) throw error;
      this.router.replicaFailed(index, error, isConnectionFailure(error));
      return operation(this.primary);
    }
    if (missed?.(result)) {
      this.router.missRetried();
      return operation(this.primary);
    }
    return result;
  }
}

function isNull(value: unknown): boolean {
  return value === null;
}

/**
 * What the primary may answer differently: a miss (the replica may lag), the
 * replica failing, a recovery conflict (`conflict`). A request the database
 * rejects as invalid would be rejected by the primary too.
 */
function worthRetrying(error: unknown): boolean {
  if (!isRegistryError(error)) return true;
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

function positionClient(url: string, pool: PoolOptions): postgres.Sql {
  return postgres(url, {
    max: 1,
    connect_timeout: pool.connectTimeoutSeconds ?? 3,
    idle_timeout: pool.idleTimeoutSeconds ?? 600,
    max_lifetime: pool.maxLifetimeSeconds ?? 1800,
    onnotice: () => {},
    connection: { application_name: "schema-registry-routing", statement_timeout: POSITION_TIMEOUT_MS },
  });
}

/**
 * Puts replicas behind `primary` (which this backend then owns and closes).
 * Replica pools connect lazily: a replica that is down at start-up delays
 * nothing, and is read from once it answers.
 */
export async function createRoutedBackend(
  primary: PostgresBackend,
  options: RoutedBackendOptions,
): Promise<RoutedBackend> {
  const replicas = await Promise.all(
    options.replicaUrls.map((url) =>
      createPostgresBackend({
        url,
        ...options.pool,
        // A hot standby is read-only: no migrations, and no view refreshes (they replicate from the primary).
        migrateOnStart: false,
        viewRefreshIntervalMs: 0,
      }),
    ),
  );
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
  return RoutedBackend.of(primary, replicas, router, [primaryPositions, ...replicaPositions]);
}

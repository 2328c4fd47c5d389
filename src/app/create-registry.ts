/**
 * The composition root: configuration in, a serving registry out. Resolves the
 * database (embedded PGlite when no DATABASE_URL), opens the backend (which
 * applies migrations unless told not to), builds the service and the app.
 * The Bun entry point, Deno and the tests all start the registry through here.
 */

import type { S3ConfigInput } from "../content/config.ts";
import type { ObjectContentTier } from "../content/object-content-tier.ts";
import { RegistryError } from "../domain/errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../domain/limits.ts";
import { bodyLimitFor, createApp } from "../http/app.ts";
import type { RegistryApp } from "../http/app-env.ts";
import { type FetchHandler, withSchemaFastPath } from "../http/schema-fast-path.ts";
import type { HealthProbe } from "../observability/health.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { type MetricsSources, RegistryMetrics } from "../observability/registry-metrics.ts";
import { inlineContentTier } from "../registry/content-tier.ts";
import { RegistryService, type RegistryServiceOptions } from "../registry/registry-service.ts";
import type { StorageBackend } from "../storage/backend.ts";
import { type ResolvedDatabase, resolveDatabase } from "../storage/embedded/resolve-database.ts";
import { createPostgresBackend, type PostgresBackend } from "../storage/postgres/postgres-backend.ts";
import { combineListeners } from "../domain/schema-changes.ts";
import { createRoutedBackend, type RoutedBackend } from "../storage/postgres/routed-backend.ts";
import { type CacheTier, type CacheTierOptions, createCacheTier } from "./cache-tier.ts";
import type { Config } from "./config/config-schema.ts";
import { instrumentBackend } from "./instrumented-backend.ts";
import { instrumentContentTier } from "./instrumented-content-tier.ts";

export interface Registry {
  /** The Hono app (tests call `app.request()`). */
  app: RegistryApp;
  /** What a server serves: the app behind the fast path of `GET /api/v1/schemas/{id}`. */
  fetch: FetchHandler["fetch"];
  /** The largest request body the app takes, bytes: a server's own cap must not cut in below it. */
  bodyLimit: number;
  service: RegistryService;
  backend: StorageBackend;
  database: ResolvedDatabase;
  limits: Limits;
  /** What `/metrics` exposes; the entry point adds the process figures of its runtime. */
  metrics: RegistryMetrics;
  /** The object-store tier when S3_BUCKET is set (its sweep, stats and probe); null otherwise. */
  contentTier: ObjectContentTier | null;
  /** "embedded PGlite in ./data", "PostgreSQL at host:5432/db", … for the start-up line. */
  storageMode: string;
  /** Flushes the access log, closes the pool, stops the embedded database. Safe to call twice. */
  close(): Promise<void>;
}

/** Seams for the tiers that wrap the read and write paths (cache, object store). */
export type RegistryExtensions = Pick<
  RegistryServiceOptions,
  "reader" | "content" | "changes" | "cacheStats" | "objectStore"
>;

export interface RegistryOptions {
  logger?: Logger;
  /** Builds the cache and content tiers once the backend exists. */
  extend?: (
    backend: StorageBackend,
    limits: Limits,
  ) => Promise<RegistryExtensions & { health?: HealthProbe[]; metrics?: MetricsSources }>;
  /** Settings of the cache tier that configuration does not carry (key prefix, bus channel). */
  cache?: CacheTierOptions;
  /** Settings of the object-store tier that configuration does not carry (explicit credentials, part size). */
  objectStore?: Partial<S3ConfigInput>;
}

export function limitsFrom(config: Config): Limits {
  return { ...DEFAULT_LIMITS, ...config.limits, maxSchemaBytes: config.storage.maxSchemaBytes };
}

export async function createRegistry(config: Config, options: RegistryOptions = {}): Promise<Registry> {
  const logger = options.logger ?? createLogger(config.server.logLevel);
  const { storage } = config;
  const limits = limitsFrom(config);

  const database = await resolveDatabase(storage.databaseUrl ?? undefined, storage.dataDir);
  const metrics = new RegistryMetrics();
  let backend: StorageBackend;
  let routed: RoutedBackend | null = null;
  try {
    const postgresBackend = await createPostgresBackend({
      url: database.url,
      maxConnections: database.maxConnections ?? storage.pool.maxConnections,
      idleTimeoutSeconds: storage.pool.idleTimeoutSeconds,
      maxLifetimeSeconds: storage.pool.maxLifetimeSeconds,
      connectTimeoutSeconds: storage.pool.connectTimeoutSeconds,
      statementTimeoutMs: storage.pool.statementTimeoutMs,
      migrateOnStart: storage.migrateOnStart,
      log: {
        info: (message) => logger.info(message),
        error: (message, error) => logger.error(message, { error }),
      },
    });
    routed = await withReadReplicas(postgresBackend, config, database, logger);
    // Timed in front of everything that uses it: the service and the cache's loader alike.
    backend = instrumentBackend(routed ?? postgresBackend, (operation, seconds) =>
      metrics.observeQuery(operation, seconds),
    );
  } catch (error) {
    await database.stop();
    throw error;
  }

  const extensions = options.extend ? await options.extend(backend, limits) : {};
  const { health: extraProbes = [], metrics: sources = {}, ...seams } = extensions;
  // The object-store tier is built from configuration unless an extension brings a content tier of its own;
  // loaded only now, so a deployment without S3 never loads the SDK.
  let contentTier: ObjectContentTier | null = null;
  if (storage.s3 && !seams.content) {
    try {
      const { createObjectContentTier } = await import("../content/object-content-tier.ts");
      contentTier = await createObjectContentTier(config, { backend, logger }, options.objectStore);
    } catch (error) {
      await backend.close();
      await database.stop();
      throw error;
    }
    const tier = contentTier;
    seams.content = tier;
    seams.objectStore ??= tier;
    if (!sources.objectStore) metrics.watchObjectStore(() => tier.stats());
  }
  if (sources.cache) metrics.watchCache(sources.cache);
  if (sources.objectStore) metrics.watchObjectStore(sources.objectStore);
  if (seams.content) {
    seams.content = instrumentContentTier(seams.content, (direction, bytes) =>
      metrics.observeTransfer(direction, bytes),
    );
  }
  // The cache tier is built from configuration unless an extension brings a read path of its own.
  let cacheTier: CacheTier | null = null;
  if (!seams.reader) {
    try {
      const replicas = routed;
      cacheTier = await createCacheTier(
        storage.cache,
        { backend, database, logger, ...(replicas ? { catchUp: () => replicas.catchUp() } : {}) },
        options.cache,
      );
    } catch (error) {
      await backend.close();
      await database.stop();
      throw error;
    }
  }
  if (cacheTier) {
    seams.reader = cacheTier.reader;
    seams.changes = seams.changes ? combineListeners(cacheTier.changes, seams.changes) : cacheTier.changes;
    seams.cacheStats ??= () => cacheTier.cacheStats();
    // Outside the instrumentation: a cache hit is no transfer from the object store.
    seams.content = cacheTier.cacheContent(seams.content ?? inlineContentTier);
    if (!sources.cache) metrics.watchCache(() => cacheTier.metrics());
  }
  const service = new RegistryService({
    backend,
    limits,
    logger,
    observer: metrics,
    ...seams,
    ...(cacheTier?.queries ? { queries: cacheTier.queries } : {}),
  });
  const health: HealthProbe[] = [
    {
      name: "postgres",
      critical: true,
      check: storage.migrateOnStart
        ? () => backend.ping()
        : // Migrations left to an operator: ready only once they are applied.
          migrationsApplied(database.url),
    },
    ...extraProbes,
    ...(cacheTier?.health ?? []),
    ...(contentTier ? [contentTier.healthProbe] : []),
    ...replicaProbes(routed),
  ];
  const app = createApp({ service, health, logger, metrics });
  cacheTier?.startWarming();
  contentTier?.startSweeping();

  let closing: Promise<void> | null = null;
  return {
    app,
    fetch: withSchemaFastPath(app, { service, metrics, logger }).fetch,
    bodyLimit: bodyLimitFor(limits),
    service,
    backend,
    database,
    limits,
    metrics,
    contentTier,
    storageMode: describeStorage(config, database) + describeReplicas(routed),
    close() {
      closing ??= (async () => {
        try {
          await cacheTier?.close();
          // Before the backend: a sweep in progress asks it about references.
          await contentTier?.close();
          await backend.close();
        } finally {
          await database.stop();
        }
      })();
      return closing;
    },
  };
}

/**
 * Puts the replicas of DATABASE_READ_URLS behind the primary (see
 * storage/postgres/read-routing.ts for how reads are routed); null without
 * replicas. The embedded database has none: its read URLs are ignored, loudly.
 */
async function withReadReplicas(
  primary: PostgresBackend,
  config: Config,
  database: ResolvedDatabase,
  logger: Logger,
): Promise<RoutedBackend | null> {
  const { readUrls, pool } = config.storage;
  if (readUrls.length === 0) return null;
  if (database.embedded) {
    logger.warn("DATABASE_READ_URLS is set, but the database is the embedded PGlite: every read goes to it");
    return null;
  }
  try {
    return await createRoutedBackend(primary, {
      primaryUrl: database.url,
      replicaUrls: readUrls,
      pool: {
        maxConnections: pool.maxConnections,
        idleTimeoutSeconds: pool.idleTimeoutSeconds,
        maxLifetimeSeconds: pool.maxLifetimeSeconds,
        connectTimeoutSeconds: pool.connectTimeoutSeconds,
        statementTimeoutMs: pool.statementTimeoutMs,
      },
      log: logger,
    });
  } catch (error) {
    await primary.close();
    throw error;
  }
}

/** One non-critical probe per replica: a replica down sends its reads to the primary, it fails none. */
function replicaProbes(routed: RoutedBackend | null): HealthProbe[] {
  if (!routed) return [];
  return Array.from({ length: routed.replicaCount }, (_, index) => ({
    name: `postgres_replica_${index + 1}`,
    critical: false,
    check: () => routed.checkReplica(index),
  }));
}

function describeReplicas(routed: RoutedBackend | null): string {
  if (!routed) return "";
  return routed.replicaCount === 1 ? " with 1 read replica" : ` with ${routed.replicaCount} read replicas`;
}

function describeStorage(config: Config, database: ResolvedDatabase): string {
  if (database.embedded) {
    const url = config.storage.databaseUrl;
    if (url?.toLowerCase() === "pglite://memory") return "embedded PGlite in memory";
    const dir = url ? url.slice("pglite://".length) : config.storage.dataDir;
    return `embedded PGlite in ${dir}`;
  }
  try {
    const url = new URL(database.url);
    return `PostgreSQL at ${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

/**
 * A readiness check for a database whose migrations are applied by an
 * operator: true once no migration of this build is pending. It opens its
 * own short-lived connection and stops asking once they are applied.
 */
function migrationsApplied(url: string): () => Promise<void> {
  let applied = false;
  return async () => {
    if (applied) return;
    const [{ default: postgres }, { createMigrator }] = await Promise.all([
      import("postgres"),
      import("../storage/postgres/migrator.ts"),
    ]);
    const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      const statuses = await (await createMigrator(sql)).info();
      const pending = statuses
        .filter((s) => !s.applied || s.problem !== null)
        .map((s) => `${s.version}_${s.name}`);
      if (pending.length > 0) {
        throw RegistryError.unavailable(`migrations not applied: ${pending.join(", ")}`);
      }
      applied = true;
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      throw RegistryError.unavailable("the metadata database does not answer", error);
    } finally {
      await sql.end({ timeout: 1 });
    }
  };
}

/**
 * The composition root: configuration in, a serving registry out. Resolves the
 * database (embedded PGlite when no DATABASE_URL), opens the primary's pool,
 * applies the migrations on it (unless told not to), builds the storage on it
 * (with read replicas when configured), then the service and the app.
 * The Bun entry point, Deno and the tests all start the registry through here.
 *
 * Two modes, chosen by the runtime adapter that starts the registry:
 * - `server` (Bun, Deno): a process that lives for days; pools, the
 *   LISTEN/NOTIFY bus, timers, the warm-up and the sweep run in the background.
 * - `edge` (a Worker isolate, deploy/workerd/worker.ts): nothing may outlive a
 *   request. PostgreSQL connections belong to the request (pool `perRequest`),
 *   no bus and no search pool; other nodes' writes reach L1 through a
 *   generation stamp in L2 (edge-coherence.ts); background work (access-log
 *   flushes, view refreshes, audit pruning) runs after responses through the
 *   host's waitUntil (runtime/timers.ts); no warm-up, no sweep. The app
 *   (its routes, their zod schemas, the OpenAPI registry, the console) is
 *   loaded and built on the first request the schema fast path passes on:
 *   a new isolate's first read of a schema, the request an edge node exists
 *   for, waits for none of it.
 */

import { RedisTokenBuckets } from "../cache/rate-limit/redis-buckets.ts";
import { LocalTokenBuckets } from "../cache/rate-limit/token-bucket.ts";
import type { ObjectContentStore } from "../content/object-content-store.ts";
import { RegistryError } from "../domain/errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../domain/limits.ts";
import { combineListeners } from "../domain/schema-changes.ts";
import type { AppDeps, RegistryApp } from "../http/app-env.ts";
import { bodyLimitFor } from "../http/body-limit.ts";
import type { RateLimiting } from "../http/rate-limit.ts";
import { type FetchHandler, withSchemaFastPath } from "../http/schema-fast-path.ts";
import type { HealthProbe } from "../observability/health.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { type MetricsSources, RegistryMetrics } from "../observability/registry-metrics.ts";
import {
  type AdmissionBounds,
  type AdmissionGates,
  createAdmissionGates,
  DEFAULT_QUEUE_PER_SLOT,
  defaultAdmission,
} from "../registry/admission.ts";
import type { ConfluentRegistry } from "../registry/confluent-registry.ts";
import { createConfluentRegistry } from "../registry/confluent-service.ts";
import { inlineContentStore } from "../registry/content-store.ts";
import { RegistryService, type RegistryServiceOptions } from "../registry/registry-service.ts";
import { contentKeyGuard } from "../storage/content-key-locks.ts";
import { type ResolvedDatabase, resolveDatabase } from "../storage/embedded/resolve-database.ts";
import { closePool, createPool, type Pool, type PoolSettings } from "../storage/postgres/pool.ts";
import { createPostgresStorage, type PostgresStorage } from "../storage/postgres/postgres-storage.ts";
import { createReadReplicas, type ReadReplicas } from "../storage/postgres/read-replicas.ts";
import type { SchemaRepository, Storage } from "../storage/storage.ts";
import { type AuthTier, createAuthTier } from "./auth-tier.ts";
import { type CacheTier, type CacheTierOptions, createCacheTier } from "./cache-tier.ts";
import type { AdmissionConfig, Config } from "./config/config-schema.ts";
import { embeddedDatabaseRefused, isPermissionError } from "./config/host-permissions.ts";
import { type S3ConfigInput, s3ConfigFromApp } from "./config/s3-config.ts";
import { createEdgeCoherence, type EdgeCoherence } from "./edge-coherence.ts";
import { type LazyObjectContent, lazyObjectContent } from "./edge-object-content.ts";
import { instrumentContentStore } from "./instrumented-content-store.ts";
import { instrumentStorage } from "./instrumented-storage.ts";

export interface Registry {
  /**
   * The Hono app (tests call `app.request()`). In edge mode it is built on the first request the
   * fast path passes on, and reading it before then throws: an isolate serves through `fetch`.
   */
  readonly app: RegistryApp;
  /** What a server serves: the app behind the fast path of `GET /api/v1/schemas/{id}`. */
  fetch: FetchHandler["fetch"];
  /** The largest request body the app takes, bytes: a server's own cap must not cut in below it. */
  bodyLimit: number;
  service: RegistryService;
  /** The registry as Confluent's Schema Registry API sees it (schema ids per content, integer versions). */
  confluent: ConfluentRegistry;
  /** The metadata store, each operation timed for `/metrics`. */
  storage: Storage;
  /** The read replicas of DATABASE_READ_URLS (health, routing statistics, catching up); null without. */
  replicas: ReadReplicas | null;
  database: ResolvedDatabase;
  limits: Limits;
  /** What `/metrics` exposes; the entry point adds the process figures of its runtime. */
  metrics: RegistryMetrics;
  /** The bounds on searches and writes (their figures are in `/metrics`). */
  admission: AdmissionGates;
  /**
   * The object-store content store when S3_BUCKET is set (its sweep, stats and probe); null otherwise.
   * In edge mode, null until the first request that needs the bucket has loaded it.
   */
  readonly objectContent: ObjectContentStore<SchemaRepository> | null;
  /** "embedded PGlite in ./data", "PostgreSQL at host:5432/db", … for the start-up line. */
  storageMode: string;
  /** Flushes the access log, closes the pool, stops the embedded database. Safe to call twice. */
  close(): Promise<void>;
  /** Edge mode with L2: awaited before a request when due (edge-coherence.ts); null otherwise. */
  coherence: EdgeCoherence | null;
}

/** Ports of the read and write paths that a caller may fill itself (tests: the cache, the content store). */
export type RegistryExtensions = Pick<
  RegistryServiceOptions,
  "reader" | "content" | "changes" | "cacheStats"
>;

export interface RegistryOptions {
  logger?: Logger;
  /** Builds the cache and content tiers once the storage exists. */
  extend?: (
    storage: Storage,
    limits: Limits,
  ) => Promise<RegistryExtensions & { health?: HealthProbe[]; metrics?: MetricsSources }>;
  /** Settings of the cache tier that configuration does not carry (key prefix, bus channel). */
  cache?: CacheTierOptions;
  /** Settings of the object store that configuration does not carry (explicit credentials, part size). */
  objectStore?: Partial<S3ConfigInput>;
  /** `server` (the default: Bun, Deno) or `edge` (an isolate; see the header). */
  mode?: RegistryMode;
  /** Edge mode: the longest a node serves an L1 entry after another node's write, ms. Default 1,000. */
  edgeStalenessMs?: number;
}

export type RegistryMode = "server" | "edge";

export function limitsFrom(config: Config): Limits {
  return { ...DEFAULT_LIMITS, ...config.limits, maxSchemaBytes: config.storage.maxSchemaBytes };
}

export async function createRegistry(config: Config, options: RegistryOptions = {}): Promise<Registry> {
  const logger = options.logger ?? createLogger(config.server.logLevel);
  const { storage } = config;
  const limits = limitsFrom(config);
  const edge = options.mode === "edge";
  if (edge && config.storage.readUrls.length > 0) {
    throw new Error(
      "DATABASE_READ_URLS: read replicas are not routed at the edge (their routing runs on a timer)",
    );
  }

  const database = await resolveDatabase(storage.databaseUrl ?? undefined, storage.dataDir).catch(
    (error: unknown) => {
      // An edge host grants no file system: say which setting to change rather than PGlite's stack.
      if (!isPermissionError(error)) throw error;
      const url = storage.databaseUrl?.toLowerCase();
      throw embeddedDatabaseRefused(url === "pglite://memory" ? null : storage.dataDir, error);
    },
  );
  const metrics = new RegistryMetrics();
  const pool = { ...poolSettings(config, database), ...(edge ? { perRequest: true } : {}) };
  // From the configured pool, not the embedded database's single connection: its statements queue in
  // the driver anyway, and bounds sized for one would refuse what it can still serve in turn.
  const admissionBounds = admissionFrom(config.admission, config.storage.pool.maxConnections);
  const admission = createAdmissionGates(admissionBounds);
  metrics.watchAdmission(() => ({
    search: admission.search?.figures() ?? null,
    write: admission.write?.figures() ?? null,
  }));
  let opened: OpenedStorage;
  try {
    opened = await openStorage(
      config,
      database,
      pool,
      logger,
      // An isolate's requests each open their own connections: a second pool per request would only add some.
      edge ? 0 : searchPoolSize(config, admissionBounds),
    );
  } catch (error) {
    await database.stop();
    throw error;
  }
  const { replicas } = opened;
  // Timed in front of everything that uses it: the service and the cache's loader alike.
  const metadataStore = instrumentStorage(
    opened.storage,
    (operation, seconds) => metrics.observeQuery(operation, seconds),
    { started: () => metrics.queryStarted(), finished: () => metrics.queryFinished() },
  );
  metrics.watchPool(pool.maxConnections ?? config.storage.pool.maxConnections);
  if (replicas) {
    metrics.watchReplicas(() =>
      replicas.readRouting().replicas.map((replica) => ({
        name: replica.name,
        up: replica.status === "up",
        lagBytes: replica.lagBytes,
      })),
    );
  }

  const extensions = options.extend ? await options.extend(metadataStore, limits) : {};
  const { health: extraProbes = [], metrics: sources = {}, ...seams } = extensions;
  // The object-store content store is built from configuration unless an extension brings a content
  // store of its own; loaded only now, so a deployment without S3 never loads the SDK. An edge node
  // loads it on the first request that needs the bucket (edge-object-content.ts).
  let objectContent: ObjectContentStore<SchemaRepository> | null = null;
  let edgeObjectContent: LazyObjectContent | null = null;
  if (storage.s3 && !seams.content) {
    try {
      const settings = s3ConfigFromApp(config, options.objectStore);
      const load = async () => {
        const { createObjectContentStore } = await import("../content/object-content-store.ts");
        return createObjectContentStore(settings, { guard: contentKeyGuard(metadataStore), logger });
      };
      if (edge) edgeObjectContent = lazyObjectContent(load);
      else objectContent = await load();
    } catch (error) {
      await metadataStore.close();
      await database.stop();
      throw error;
    }
    const store = edgeObjectContent ?? objectContent;
    seams.content = edgeObjectContent?.content ?? objectContent ?? undefined;
    if (store && !sources.objectStore) metrics.watchObjectStore(() => store.stats());
  }
  if (sources.cache) metrics.watchCache(sources.cache);
  if (sources.objectStore) metrics.watchObjectStore(sources.objectStore);
  if (seams.content) {
    seams.content = instrumentContentStore(seams.content, (direction, bytes) =>
      metrics.observeTransfer(direction, bytes),
    );
  }
  // The cache tier is built from configuration unless an extension brings a read path of its own.
  let cacheTier: CacheTier | null = null;
  let coherence: EdgeCoherence | null = null;
  if (!seams.reader) {
    try {
      cacheTier = await createCacheTier(
        storage.cache,
        {
          storage: metadataStore,
          database,
          pool,
          logger,
          ...(replicas ? { catchUp: () => replicas.catchUp() } : {}),
        },
        edge ? { ...options.cache, bus: false } : options.cache,
      );
    } catch (error) {
      await metadataStore.close();
      await database.stop();
      throw error;
    }
  }
  if (cacheTier) {
    seams.reader = cacheTier.reader;
    seams.changes = seams.changes ? combineListeners(cacheTier.changes, seams.changes) : cacheTier.changes;
    seams.cacheStats ??= () => cacheTier.cacheStats();
    const remote = cacheTier.cache.remote;
    if (edge && remote) {
      const tier = cacheTier;
      coherence = createEdgeCoherence({
        remote,
        key: tier.cache.namespace.full("edge:generation"),
        ...(options.edgeStalenessMs !== undefined ? { intervalMs: options.edgeStalenessMs } : {}),
        drop: () => {
          tier.cache.clearLocal();
          tier.queries?.bump();
        },
      });
      seams.changes = combineListeners(seams.changes, coherence.changes);
    }
    // Outside the instrumentation: a cache hit is no transfer from the object store.
    seams.content = cacheTier.cacheContent(seams.content ?? inlineContentStore);
    if (!sources.cache) metrics.watchCache(() => cacheTier.metrics());
  }
  const service = new RegistryService({
    storage: metadataStore,
    limits,
    evolutionDefaults: {
      compatibility: config.compatibility.level,
      semverPolicy: config.compatibility.semverPolicy,
    },
    logger,
    observer: metrics,
    ...seams,
    ...(cacheTier?.queries ? { queries: cacheTier.queries } : {}),
    admission,
  });
  const confluent = createConfluentRegistry({
    service,
    storage: metadataStore,
    // Confluent's clients may send a Protobuf schema as a base64 FileDescriptorProto; the registry keeps source.
    // protobufjs loads on the first Protobuf schema sent or read that way, not with the registry.
    protobufSource: async (text) => {
      const { isSerializedDescriptor, descriptorToProto } = await import("../domain/protobuf-descriptor.ts");
      return isSerializedDescriptor(text) ? descriptorToProto(text) : text;
    },
    // and may read one back that way (`format=serialized`).
    protobufDescriptor: async (source, imports) =>
      (await import("../domain/protobuf-descriptor.ts")).protoToDescriptor(source, imports),
    ...(cacheTier ? { cache: cacheTier.cache } : {}),
  });
  const health: HealthProbe[] = [
    {
      name: "postgres",
      critical: true,
      check: storage.migrateOnStart
        ? () => metadataStore.ping()
        : // Migrations left to an operator: ready only once they are applied.
          migrationsApplied(database.url, pool),
    },
    ...extraProbes,
    ...(cacheTier?.health ?? []),
    ...(objectContent ? [objectContent.healthProbe] : []),
    ...(edgeObjectContent ? [edgeObjectContent.healthProbe] : []),
    ...replicaProbes(replicas),
  ];
  metrics.watchHealth(health);
  let authTier: AuthTier;
  try {
    authTier = await createAuthTier(config, {
      primary: opened.primary,
      // No LISTEN at the edge: a key change reaches edge nodes when their key cache expires (AUTH_KEY_CACHE_SECONDS).
      database: edge ? { ...database, embedded: true } : database,
      pool,
      bus: cacheTier?.bus ?? null,
      reader: seams.reader ?? metadataStore.schemas,
      confluent,
      logger,
    });
  } catch (error) {
    await cacheTier?.close();
    await (edgeObjectContent ?? objectContent)?.close();
    await metadataStore.close();
    await database.stop();
    throw error;
  }
  const auth = authTier.http;
  const { requestTimeoutMs } = config.server;
  const rateLimit = rateLimitingOf(config, cacheTier);
  const appDeps: AppDeps = {
    ...(rateLimit ? { rateLimit } : {}),
    service,
    confluent,
    health,
    logger,
    metrics,
    auth,
    requestTimeoutMs,
  };
  const app = edge ? lazyApp(appDeps) : builtApp((await import("../http/app.ts")).createApp(appDeps));
  // An isolate lives for requests, not for background work: the warm-up and the sweep are left to servers.
  if (!edge) {
    cacheTier?.startWarming();
    objectContent?.startSweeping();
  }

  let closing: Promise<void> | null = null;
  return {
    get app() {
      return app.built();
    },
    fetch: withSchemaFastPath(app.front, {
      service,
      metrics,
      logger,
      confluent,
      auth,
      requestTimeoutMs,
    }).fetch,
    bodyLimit: bodyLimitFor(limits),
    service,
    confluent,
    storage: metadataStore,
    replicas,
    database,
    limits,
    metrics,
    admission,
    get objectContent() {
      return edgeObjectContent ? edgeObjectContent.loaded() : objectContent;
    },
    storageMode: describeStorage(config, database) + describeReplicas(replicas),
    coherence,
    close() {
      closing ??= (async () => {
        try {
          await authTier.close();
          await cacheTier?.close();
          // Before the storage: a sweep in progress asks it about references.
          await (edgeObjectContent ?? objectContent)?.close();
          await metadataStore.close();
        } finally {
          await database.stop();
        }
      })();
      return closing;
    },
  };
}

/** The app as the registry serves it: `front` goes behind the fast path, `built()` is the app itself. */
interface ServedApp {
  front: RegistryApp;
  built(): RegistryApp;
}

function builtApp(app: RegistryApp): ServedApp {
  return { front: app, built: () => app };
}

/**
 * The app of an isolate, loaded by `import()` and built on the first request
 * that reaches it: its module graph (the routes, their zod schemas, the
 * OpenAPI registry, the console's pages) is most of the Worker's start-up
 * work, and the fast path answers a schema read without it. `front` stands
 * in for the app behind the fast path, which calls nothing of it but `fetch`.
 */
function lazyApp(deps: AppDeps): ServedApp {
  let built: RegistryApp | null = null;
  let loading: Promise<RegistryApp> | null = null;
  const load = () => {
    if (!loading) {
      loading = import("../http/app.ts").then(({ createApp }) => {
        built = createApp(deps);
        return built;
      });
      // A load that failed (a module the host refused) is tried again by the next request.
      loading.catch(() => {
        loading = null;
      });
    }
    return loading;
  };
  const fetch: RegistryApp["fetch"] = (request, env, executionContext) =>
    built
      ? built.fetch(request, env, executionContext)
      : load().then((app) => app.fetch(request, env, executionContext));
  return {
    front: { fetch } as RegistryApp,
    built() {
      if (!built) {
        throw new Error("edge mode: the app is built on the first request it serves; serve through fetch");
      }
      return built;
    },
  };
}

interface OpenedStorage {
  storage: PostgresStorage;
  replicas: ReadReplicas | null;
  /** The primary's pool (the storage closes it): the API key store reads and writes there. */
  primary: Pool;
}

/**
 * The metadata store, one step at a time: the primary's pool, the pending
 * migrations applied on it (unless an operator applies them), the replicas of
 * DATABASE_READ_URLS for reads, and the storage on top.
 */
async function openStorage(
  config: Config,
  database: ResolvedDatabase,
  pool: PoolSettings,
  logger: Logger,
  searchConnections: number,
): Promise<OpenedStorage> {
  const primary = createPool(database.url, pool);
  let replicas: ReadReplicas | null;
  try {
    if (config.storage.migrateOnStart) {
      // Loaded when used: the migrations' SQL is a sixth of what an edge isolate would evaluate at start.
      const { migrate } = await import("../storage/postgres/migrator.ts");
      await migrate(primary, (message) => logger.info(message));
      // Before any write: the next fresh embedded database starts from this one, migrated and empty.
      await database.saveAsTemplate?.();
    }
    replicas = readReplicas(primary, config, database, pool, logger);
  } catch (error) {
    await closePool(primary, 1);
    throw error;
  }
  // The embedded database has one connection and replicas route reads themselves: neither gets a search pool.
  const searchPool =
    database.embedded || replicas || searchConnections <= 0
      ? null
      : createPool(database.url, {
          ...pool,
          maxConnections: searchConnections,
          applicationName: "schema-registry-search",
        });
  const storage = createPostgresStorage(primary, {
    replicas,
    searchPool,
    log: { error: (message, error) => logger.error(message, { error }) },
    auditRetentionDays: config.audit.retentionDays,
    auditPruneIntervalMs: config.audit.pruneIntervalSeconds * 1000,
  });
  return { storage, replicas, primary };
}

/**
 * The rate limiter's buckets: in Redis (through L2's guard, so a Redis
 * outage decides in process instead) when L2 has one, in process otherwise;
 * none when no limit is set.
 */
function rateLimitingOf(config: Config, cacheTier: CacheTier | null): RateLimiting | null {
  const settings = config.rate_limit;
  if (settings.read === null && settings.write === null) return null;
  const cache = cacheTier?.cache;
  const remote = cache?.remote ?? null;
  if (!cache || remote === null) return { buckets: new LocalTokenBuckets(), settings };
  const buckets = new RedisTokenBuckets({
    remote,
    keyOf: (bucket) => cache.namespace.full(`ratelimit:${bucket}`),
  });
  return { buckets, settings, storeFailures: () => buckets.failures };
}

/**
 * The admission bounds of configuration, the absent ones derived from the
 * pool (defaultAdmission); a concurrency of 0 leaves its class unbounded.
 */
export function admissionFrom(
  config: AdmissionConfig,
  poolSize: number,
): { search?: AdmissionBounds; write?: AdmissionBounds } {
  const defaults = defaultAdmission(poolSize);
  const bounds = (concurrency: number, queue: number | undefined): AdmissionBounds | undefined =>
    concurrency <= 0
      ? undefined
      : {
          concurrency,
          queue: queue ?? DEFAULT_QUEUE_PER_SLOT * concurrency,
          queueTimeoutMs: config.queueTimeoutMs,
        };
  const search = bounds(config.searchConcurrency ?? defaults.search, config.searchQueue);
  const write = bounds(config.writeConcurrency ?? defaults.write, config.writeQueue);
  return { ...(search ? { search } : {}), ...(write ? { write } : {}) };
}

/** The search pool's size: configured, else one connection per search admitted at once; 0: none. */
function searchPoolSize(config: Config, bounds: { search?: AdmissionBounds }): number {
  return config.storage.pool.searchMaxConnections ?? bounds.search?.concurrency ?? 0;
}

/** The pool settings of configuration, for every connection the registry opens to PostgreSQL. */
function poolSettings(config: Config, database: ResolvedDatabase): PoolSettings {
  const { pool } = config.storage;
  return {
    maxConnections: database.maxConnections ?? pool.maxConnections,
    idleTimeoutSeconds: pool.idleTimeoutSeconds,
    maxLifetimeSeconds: pool.maxLifetimeSeconds,
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
    statementTimeoutMs: pool.statementTimeoutMs,
    // The embedded PGlite's one connection serves every statement in turn: they queue in the driver.
    boundedWait: !database.embedded,
  };
}

/**
 * The replicas of DATABASE_READ_URLS, read beside the primary (see
 * storage/postgres/read-routing.ts for how reads are routed); null without
 * replicas. The embedded database has none: its read URLs are ignored, loudly.
 */
function readReplicas(
  primary: Pool,
  config: Config,
  database: ResolvedDatabase,
  pool: PoolSettings,
  logger: Logger,
): ReadReplicas | null {
  const { readUrls } = config.storage;
  if (readUrls.length === 0) return null;
  if (database.embedded) {
    logger.warn("DATABASE_READ_URLS is set, but the database is the embedded PGlite: every read goes to it");
    return null;
  }
  return createReadReplicas(primary, { primaryUrl: database.url, replicaUrls: readUrls, pool, log: logger });
}

/** One non-critical probe per replica: a replica down sends its reads to the primary, it fails none. */
function replicaProbes(replicas: ReadReplicas | null): HealthProbe[] {
  if (!replicas) return [];
  return Array.from({ length: replicas.count }, (_, index) => ({
    name: `postgres_replica_${index + 1}`,
    critical: false,
    check: () => replicas.checkReplica(index),
  }));
}

function describeReplicas(replicas: ReadReplicas | null): string {
  if (!replicas) return "";
  return replicas.count === 1 ? " with 1 read replica" : ` with ${replicas.count} read replicas`;
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
function migrationsApplied(url: string, pool: PoolSettings): () => Promise<void> {
  let applied = false;
  return async () => {
    if (applied) return;
    const sql = createPool(url, { ...pool, maxConnections: 1, applicationName: "schema-registry-readiness" });
    try {
      const { createMigrator } = await import("../storage/postgres/migrator.ts");
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
      await closePool(sql, 1);
    }
  };
}

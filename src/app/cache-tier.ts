/**
 * The cache tier as the composition root builds it from `storage.cache`: the
 * tiered cache (L1 unless l1_max_entries is 0; L2 on one Redis, a Sentinel
 * group, a Redis Cluster or Upstash, its driver loaded on demand), the
 * invalidation bus on a connection of its
 * own to the primary, and everything the service and the app take from it
 * (reader, change listener, stats, health probe, metrics source, warm-up).
 *
 * The bus runs only on a PostgreSQL server: the embedded PGlite serves one
 * instance, whose own invalidations need no messenger.
 */

import { cacheContentLoads } from "../cache/content-cache.ts";
import {
  cacheKeys,
  createInvalidationBus,
  createRetryingBus,
  createTieredCache,
  type InvalidationBus,
  type RetryingBus,
  TieredCache,
  type TieredCacheExtras,
} from "../cache/index.ts";
import {
  DEFAULT_QUERY_TTL_MS,
  DEFAULT_SEARCH_STALE_MS,
  QueryResultCache,
  queryCacheBounds,
} from "../cache/query-result-cache.ts";
import {
  cachedSchemaRecord,
  cacheInvalidationListener,
  createCachedSchemaReader,
  refreshLatestAhead,
} from "../cache/schema-cache.ts";
import { type CacheReport, toCacheReport } from "../cache/stats-report.ts";
import { RegistryError } from "../domain/errors.ts";
import { combineListeners, type SchemaChangeListener } from "../domain/schema-changes.ts";
import type { HealthProbe } from "../observability/health.ts";
import type { Logger } from "../observability/logger.ts";
import type { CacheFigures } from "../observability/registry-metrics.ts";
import type { ContentStore } from "../registry/content-store.ts";
import type { SchemaReader } from "../registry/schema-reader.ts";
import { createPool, type PoolSettings } from "../storage/postgres/pool.ts";
import type { Storage } from "../storage/storage.ts";
import type { CacheConfig } from "./config/config-schema.ts";

/** What configuration does not carry; for tests and benches sharing one Redis and one database. */
export interface CacheTierOptions {
  /** First part of every L2 key. Default `registry`. */
  keyPrefix?: string;
  /** NOTIFY channel of the bus. Default `registry_cache_invalidation`. */
  channel?: string;
  /** Other settings of the cache (L2 budget, breaker, negative TTLs). */
  extras?: Omit<TieredCacheExtras, "bus" | "keyPrefix">;
  /** Longest a search or list result is served, ms (a change that can alter it ends it sooner). Default 3,000. */
  queryTtlMs?: number;
  /** Longest a search page is served after another instance's write, ms. Default 2,000. */
  searchStaleMs?: number;
  /**
   * False: no LISTEN/NOTIFY bus (an edge isolate holds no connection between requests;
   * app/edge-coherence.ts tells it of other nodes' writes instead). Default true.
   */
  bus?: boolean;
}

export interface CacheTierDeps {
  /** The popular schemas for the warm-up, and the repository the cache reads through to. */
  storage: Pick<Storage, "schemas" | "reads">;
  /** The primary, for the bus; `embedded` skips the bus. */
  database: { url: string; embedded: boolean };
  /** The primary's pool settings; the bus's connection takes its timeouts from them. */
  pool: PoolSettings;
  logger: Logger;
  /**
   * With read replicas: makes this instance's next reads see everything the
   * primary has committed by now. Awaited before keys another instance
   * changed are dropped, so the reload cannot come from a replica that has
   * not replayed that change yet.
   */
  catchUp?: () => Promise<void>;
}

export interface CacheTier {
  readonly cache: TieredCache;
  /** null on the embedded database. */
  readonly bus: RetryingBus | null;
  readonly reader: SchemaReader;
  readonly changes: SchemaChangeListener;
  /** Search and list results (L1 only); null when L1 is off. */
  readonly queries: QueryResultCache | null;
  cacheStats(): CacheReport;
  metrics(): CacheFigures;
  /** The `redis` probe (not critical: reads go to PostgreSQL without it); none without L2. */
  readonly health: HealthProbe[];
  /** `tier` with what its `load` returns cached. */
  cacheContent(tier: ContentStore): ContentStore;
  /** Loads the most read schemas into L1 and L2; resolves to how many the caches hold afterwards. */
  warm(size: number): Promise<number>;
  /** Runs `warm(warm_size)` in the background when warm_on_startup is set, logging the outcome. */
  startWarming(): void;
  /** Waits for the warm-up and background writes, closes the bus, its connection and L2. */
  close(): Promise<void>;
}

/** Rows loaded at once by the warm-up: a few, so it never takes the whole pool from live requests. */
const WARM_CONCURRENCY = 4;

/**
 * Object-store content (1 MiB and more) has an L1 of its own, carved out of
 * CACHE_L1_MAX_BYTES: a quarter of it, each content at most an eighth of
 * that (default 64 MiB, 8 MiB each). Large content then never pushes out the
 * small schemas, which keep the other three quarters. It stays out of Redis:
 * multi-megabyte values there would cost more than reading the object store.
 * Content is addressed by its hash, so no write ever makes an entry wrong.
 */
export function contentCacheBounds(config: CacheConfig): { maxBytes: number; maxEntryBytes: number } | null {
  if (config.l1MaxEntries <= 0 || config.l1MaxBytes <= 0) return null;
  const maxBytes = Math.floor(config.l1MaxBytes / 4);
  const maxEntryBytes = Math.floor(maxBytes / 8);
  return maxEntryBytes > 0 ? { maxBytes, maxEntryBytes } : null;
}

/** null when the configuration turns off both tiers. */
export async function createCacheTier(
  config: CacheConfig,
  deps: CacheTierDeps,
  options: CacheTierOptions = {},
): Promise<CacheTier | null> {
  const l1 = config.l1MaxEntries > 0 && config.l1MaxBytes > 0;
  if (!l1 && config.redis === null) return null;
  const { storage, database, logger } = deps;

  let busSql: { end(options?: { timeout?: number }): Promise<void> } | null = null;
  let bus: RetryingBus | null = null;
  if (!database.embedded && options.bus !== false) {
    // One connection for NOTIFY; postgres.js opens the LISTEN connection beside it, with the same settings.
    const sql = createPool(database.url, {
      ...deps.pool,
      maxConnections: 1,
      applicationName: "schema-registry-bus",
    });
    busSql = sql;
    const channel = options.channel ? { channel: options.channel } : {};
    // A database down at start must not stop the instance from starting (it answers 503 until it is back).
    // An outage is two lines, one when it starts and one when it ends; the attempts between are not logged.
    bus = await createRetryingBus((hooks) => createInvalidationBus(sql, { ...channel, ...hooks }), {
      ...channel,
      onDown: (error) =>
        logger.warn(
          "the cache invalidation bus lost PostgreSQL; other instances' changes go unheard until it is back, and invalidations to send wait",
          error ? { error } : {},
        ),
      onUp: () =>
        logger.info(
          "the cache invalidation bus is back on PostgreSQL; this instance's caches were dropped (resync) and waiting invalidations sent",
        ),
    });
  }

  const contentBounds = contentCacheBounds(config);
  const contentCache = contentBounds
    ? new TieredCache({
        l1: {
          ...contentBounds,
          maxEntries: Math.max(16, Math.floor(config.l1MaxEntries / 100)),
          ttlMs: config.l1TtlSeconds * 1000,
          idleMs: config.l1IdleSeconds * 1000,
          // Few, large entries: recency decides; a frequency filter sized for them would add nothing.
          admission: "lru",
        },
        l2: null,
      })
    : null;
  const catchUp = deps.catchUp;
  const cacheBus = bus && catchUp ? catchingUp(bus, catchUp, logger) : bus;
  const queryBounds = queryCacheBounds(
    { maxEntries: config.l1MaxEntries, maxBytes: config.l1MaxBytes },
    options.queryTtlMs ?? DEFAULT_QUERY_TTL_MS,
    options.searchStaleMs ?? DEFAULT_SEARCH_STALE_MS,
  );
  const queries = queryBounds ? new QueryResultCache(queryBounds) : null;
  // Another instance's change (after the catch-up with the primary), or notifications lost: results may be wrong.
  const stopQueries =
    queries && cacheBus
      ? cacheBus.subscribe((event) => {
          if (event.source === "resync") queries.bump();
          else if (event.source === "remote") queries.heard(event.keys);
        })
      : null;
  let cache: TieredCache;
  try {
    cache = await createTieredCache(
      contentBounds ? { ...config, l1MaxBytes: config.l1MaxBytes - contentBounds.maxBytes } : config,
      {
        ...options.extras,
        ...(cacheBus ? { bus: cacheBus } : {}),
        ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
      },
    );
  } catch (error) {
    stopQueries?.();
    await bus?.close();
    await busSql?.end({ timeout: 1 });
    throw error;
  }

  let warming: Promise<unknown> | null = null;

  const warm = async (size: number): Promise<number> => {
    if (size <= 0) return 0;
    const popular = await storage.reads.popularSchemas(size);
    if (popular.length === 0) return 0;
    const keys = popular.map((entry) => cacheKeys.schemaById(entry.schemaId));
    // What L2 already holds (another instance's reads) comes over in one round trip and fills L1.
    const held = await cache.peekMany(keys, { schema: cachedSchemaRecord });
    const missing = popular.filter((_, index) => !held.has(keys[index]!));
    const before = cache.stats().invalidations;
    const loaded = [];
    for (let i = 0; i < missing.length; i += WARM_CONCURRENCY) {
      const batch = missing.slice(i, i + WARM_CONCURRENCY);
      loaded.push(
        ...(await Promise.all(
          batch.map((entry) => storage.schemas.getById({ id: entry.schemaId }, { includeDeleted: true })),
        )),
      );
    }
    // A write meanwhile may have changed what was loaded before it: rather none than a stale entry.
    const heldValues = [...held.values()].filter((value) => value !== null).length;
    if (cache.stats().invalidations !== before) return heldValues;
    const entries = loaded.flatMap((record) =>
      record === null
        ? []
        : [
            { key: cacheKeys.schemaById(record.id), value: record },
            { key: cacheKeys.schemaByGlobalId(record.globalId), value: record },
          ],
    );
    if (entries.length > 0) await cache.setMany(entries);
    return heldValues + entries.length / 2;
  };

  const health: HealthProbe[] =
    config.redis === null
      ? []
      : [
          {
            name: "redis",
            critical: false,
            async check() {
              if ((await cache.pingL2()) !== true) {
                throw RegistryError.unavailable("Redis does not answer within the cache's budget");
              }
            },
          },
        ];

  const reader = createCachedSchemaReader(cache, storage.schemas);
  // An edge isolate does no work after its answer: it reads a subject's latest again when asked.
  if (options.bus !== false) refreshLatestAhead(cache, reader);
  return {
    cache,
    bus,
    reader,
    changes: queries
      ? combineListeners(queries.listener(), cacheInvalidationListener(cache))
      : cacheInvalidationListener(cache),
    queries,
    cacheStats: () => toCacheReport(cache.stats(), contentCache?.stats(), queries?.stats()),
    metrics: () => ({ ...cache.stats(), query: queries?.stats().l1 ?? null }),
    health,
    cacheContent(tier) {
      if (!contentCache || !contentBounds) return tier;
      const load = cacheContentLoads(
        (record) => tier.load(record),
        contentCache,
        contentBounds.maxEntryBytes,
      );
      return {
        place: (content) => tier.place(content),
        discard: (placed) => tier.discard(placed),
        load,
        open: (record) => tier.open(record),
        link: (record) => tier.link(record),
        release: (record) => tier.release(record),
        commit: (placed, write) => tier.commit(placed, write),
        createUpload: (request) => tier.createUpload(request),
        readUpload: (uploadId) => tier.readUpload(uploadId),
        discardUpload: (uploadId) => tier.discardUpload(uploadId),
      };
    },
    warm,
    startWarming() {
      if (!config.warmOnStartup || config.warmSize <= 0 || warming) return;
      const started = performance.now();
      warming = warm(config.warmSize).then(
        (count) =>
          logger.info(`cache warm-up: ${count} of the most read schemas cached`, {
            warm_size: config.warmSize,
            duration_ms: Math.round(performance.now() - started),
          }),
        (error: unknown) =>
          logger.warn("cache warm-up failed; the caches fill as schemas are read", { error }),
      );
    },
    async close() {
      await warming;
      await cache.close();
      await contentCache?.close();
      stopQueries?.();
      await queries?.close();
      await bus?.close();
      await busSql?.end({ timeout: 1 });
    },
  };
}

/** `bus` whose subscribers hear of other instances' writes only once `catchUp` has resolved (or failed). */
function catchingUp(bus: InvalidationBus, catchUp: () => Promise<void>, logger: Logger): InvalidationBus {
  return {
    get instanceId() {
      return bus.instanceId;
    },
    get channel() {
      return bus.channel;
    },
    publish: (keys, tx) => bus.publish(keys, tx),
    subscribe(handler) {
      return bus.subscribe(async (event) => {
        if (event.source === "remote" || event.source === "resync") {
          try {
            await catchUp();
          } catch (error) {
            // The primary does not answer: reads go to it (or fail) anyway; drop the keys all the same.
            logger.warn("could not catch up with the primary before an invalidation", { error });
          }
        }
        await handler(event);
      });
    },
    stats: () => bus.stats(),
    close: () => bus.close(),
  };
}

/**
 * The tiered cache's public face. `createTieredCache(settings)` builds L1,
 * the configured L2 driver (loaded on demand, so an Upstash deployment never
 * loads ioredis) and the cache from the configuration's `storage.cache`,
 * which the composition root hands over; the settings configuration does not
 * carry (L2 budget, breaker, key prefix, serializer, negative TTLs) take the
 * defaults declared next to them (tiered-cache.ts, l2/guarded-remote.ts,
 * l2/circuit-breaker.ts) unless given here.
 */
import {
  type ClusterDriverConfig,
  createRemoteCacheDriver,
  type SentinelDriverConfig,
} from "./l2/remote-driver.ts";
import { TieredCache, type TieredCacheOptions } from "./tiered-cache.ts";

export type {
  InvalidationBus,
  InvalidationBusOptions,
  InvalidationBusStats,
  InvalidationEvent,
  InvalidationHandler,
  NotifySql,
} from "./bus/invalidation-bus.ts";
export { createInvalidationBus } from "./bus/invalidation-bus.ts";
export {
  createRetryingBus,
  type RetryingBus,
  type RetryingBusOptions,
  type RetryingBusStats,
} from "./bus/retrying-bus.ts";
export { CACHE_FORMAT_VERSION, cacheKeys, createKeyNamespace, type KeyNamespace } from "./keys.ts";
export type { MemoryCacheOptions, MemoryCacheStats } from "./l1/memory-cache.ts";
export type { BreakerState, BreakerStats } from "./l2/circuit-breaker.ts";
export type { GuardOptions, GuardStats } from "./l2/guarded-remote.ts";
export {
  type ClusterDriverConfig,
  createRemoteCacheDriver,
  type RedisEndpoint,
  type RemoteCacheDriver,
  type RemoteDriverConfig,
  type RemoteEntry,
  type SentinelDriverConfig,
} from "./l2/remote-driver.ts";
export type { ValueSchema } from "./serializers/entry-codec.ts";
export { jsonSerializer } from "./serializers/json-serializer.ts";
export type { Serializer } from "./serializers/serializer.ts";
export {
  type CacheEntryInput,
  type CacheStats,
  type GetOptions,
  TieredCache,
  type TieredCacheOptions,
} from "./tiered-cache.ts";

/** What `createTieredCache` reads of the configuration's `storage.cache`. */
export interface CacheSettings {
  /** 0 (or a 0 byte bound) turns L1 off. */
  l1MaxEntries: number;
  l1MaxBytes: number;
  l1TtlSeconds: number;
  l1IdleSeconds: number;
  /** null: no L2. */
  redis:
    | { kind: "tcp"; url: string }
    | SentinelDriverConfig
    | ClusterDriverConfig
    | { kind: "upstash"; url: string; token: string }
    | null;
  redisTtlSeconds: number;
}

/** What the project configuration does not carry; all optional. */
export type TieredCacheExtras = Pick<
  TieredCacheOptions,
  "bus" | "keyPrefix" | "serializer" | "l2Guard" | "negativeTtlSeconds" | "fenceTimeoutMs"
>;

export async function createTieredCache(
  config: CacheSettings,
  extras: TieredCacheExtras = {},
): Promise<TieredCache> {
  const l1Enabled = config.l1MaxEntries > 0 && config.l1MaxBytes > 0;
  const l2 =
    config.redis === null
      ? null
      : await createRemoteCacheDriver(
          config.redis.kind === "tcp" ? { kind: "ioredis", url: config.redis.url } : config.redis,
        );
  return new TieredCache({
    ...extras,
    l1: l1Enabled
      ? {
          maxEntries: config.l1MaxEntries,
          maxBytes: config.l1MaxBytes,
          maxEntryBytes: Math.min(1024 * 1024, config.l1MaxBytes),
          ttlMs: config.l1TtlSeconds * 1000,
          idleMs: config.l1IdleSeconds * 1000,
        }
      : false,
    l2,
    l2TtlSeconds: config.redisTtlSeconds,
  });
}

/**
 * The tiered cache's public face: `createTieredCache(config, { bus })` builds
 * L1, the configured L2 driver (loaded on demand) and the serializer from a
 * parsed CacheConfig; the rest is re-exported for callers and tests.
 */
import type { InvalidationBus } from "./bus/invalidation-bus.ts";
import type { CacheConfig } from "./config.ts";
import { createRemoteCacheDriver } from "./l2/remote-driver.ts";
import { jsonSerializer } from "./serializers/json-serializer.ts";
import type { Serializer } from "./serializers/serializer.ts";
import { TieredCache } from "./tiered-cache.ts";

export type {
  InvalidationBus,
  InvalidationBusOptions,
  InvalidationBusStats,
  InvalidationEvent,
  InvalidationHandler,
  NotifySql,
} from "./bus/invalidation-bus.ts";
export { createInvalidationBus } from "./bus/invalidation-bus.ts";
export { type CacheConfig, parseCacheConfig } from "./config.ts";
export { CACHE_FORMAT_VERSION, cacheKeys, createKeyNamespace, type KeyNamespace } from "./keys.ts";
export type { MemoryCacheOptions, MemoryCacheStats } from "./l1/memory-cache.ts";
export type { BreakerState, BreakerStats } from "./l2/circuit-breaker.ts";
export type { GuardOptions, GuardStats } from "./l2/guarded-remote.ts";
export {
  createRemoteCacheDriver,
  type RemoteCacheDriver,
  type RemoteDriverConfig,
  type RemoteEntry,
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

export async function createTieredCache(
  config: CacheConfig,
  extras: { bus?: InvalidationBus } = {},
): Promise<TieredCache> {
  const serializer: Serializer =
    config.serializer === "msgpack"
      ? (await import("./serializers/msgpack-serializer.ts")).msgpackSerializer
      : jsonSerializer;
  return new TieredCache({
    l1: config.l1,
    l2: config.l2 ? await createRemoteCacheDriver(config.l2) : null,
    l2Guard: { timeoutMs: config.l2TimeoutMs, breaker: config.breaker },
    l2TtlSeconds: config.l2TtlSeconds,
    negativeTtlSeconds: config.negativeTtlSeconds,
    serializer,
    keyPrefix: config.keyPrefix,
    ...(extras.bus ? { bus: extras.bus } : {}),
  });
}

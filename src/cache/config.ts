/**
 * The cache's configuration, parsed once at start-up from the environment
 * with valibot. Defaults are declared here and nowhere else:
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | CACHE_L1_ENABLED | true | false sends every read to L2 |
 * | CACHE_L1_MAX_ENTRIES | 10000 | L1 entry bound |
 * | CACHE_L1_MAX_BYTES | 67108864 (64 MiB) | L1 byte bound (serialized sizes) |
 * | CACHE_L1_MAX_ENTRY_BYTES | 1048576 (1 MiB) | largest value kept in L1 |
 * | CACHE_L1_TTL_SECONDS | 3600 | absolute L1 lifetime |
 * | CACHE_L1_IDLE_SECONDS | half the TTL | L1 entries unread this long expire |
 * | REDIS_URL | none | `redis://` / `rediss://`: L2 with ioredis |
 * | UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN | none | L2 with @upstash/redis (when no REDIS_URL) |
 * | REDIS_TTL_SECONDS | 3600 | L2 lifetime |
 * | CACHE_NEGATIVE_TTL_SECONDS | 30 | L1 lifetime of "does not exist" (L2: twice that) |
 * | CACHE_KEY_PREFIX | registry | first part of every L2 key |
 * | CACHE_SERIALIZER | json | `json` or `msgpack` |
 * | CACHE_L2_TIMEOUT_MS | 50 | budget of one L2 call |
 * | CACHE_BREAKER_THRESHOLD | 5 | consecutive L2 failures that open the breaker |
 * | CACHE_BREAKER_COOLDOWN_MS | 5000 | open time before a probe |
 * | CACHE_WARM_ON_STARTUP | false | load the most read schemas at start-up |
 * | CACHE_WARM_SIZE | 100 | how many |
 */
import * as v from "valibot";
import type { MemoryCacheOptions } from "./l1/memory-cache.ts";
import type { RemoteDriverConfig } from "./l2/remote-driver.ts";

export interface CacheConfig {
  l1: MemoryCacheOptions | false;
  l2: RemoteDriverConfig | null;
  l2TtlSeconds: number;
  negativeTtlSeconds: { l1: number; l2: number };
  keyPrefix: string;
  serializer: "json" | "msgpack";
  l2TimeoutMs: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  warm: { onStartup: boolean; size: number };
}

const whole = (min: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
  );

const int = (fallback: number, min = 1) => v.optional(whole(min), String(fallback));

const bool = (fallback: boolean) =>
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.toLowerCase(),
      v.picklist(["true", "false", "1", "0", "yes", "no"], "must be true or false"),
      v.transform((s) => s === "true" || s === "1" || s === "yes"),
    ),
    String(fallback),
  );

const optionalText = v.optional(
  v.pipe(
    v.string(),
    v.trim(),
    v.transform((s) => (s === "" ? undefined : s)),
  ),
);

const ENV = v.object({
  CACHE_L1_ENABLED: bool(true),
  CACHE_L1_MAX_ENTRIES: int(10_000),
  CACHE_L1_MAX_BYTES: int(64 * 1024 * 1024),
  CACHE_L1_MAX_ENTRY_BYTES: int(1024 * 1024),
  CACHE_L1_TTL_SECONDS: int(3_600),
  CACHE_L1_IDLE_SECONDS: v.optional(whole(1)),
  REDIS_URL: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^(rediss?:\/\/.+)?$/, "must be a redis:// or rediss:// URL")),
  ),
  UPSTASH_REDIS_REST_URL: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^(https?:\/\/.+)?$/, "must be an http(s) URL")),
  ),
  UPSTASH_REDIS_REST_TOKEN: optionalText,
  REDIS_TTL_SECONDS: int(3_600),
  CACHE_NEGATIVE_TTL_SECONDS: int(30),
  CACHE_KEY_PREFIX: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 of A-Za-z0-9_.:-")),
    "registry",
  ),
  CACHE_SERIALIZER: v.optional(v.picklist(["json", "msgpack"], "must be json or msgpack"), "json"),
  CACHE_L2_TIMEOUT_MS: int(50),
  CACHE_BREAKER_THRESHOLD: int(5),
  CACHE_BREAKER_COOLDOWN_MS: int(5_000),
  CACHE_WARM_ON_STARTUP: bool(false),
  CACHE_WARM_SIZE: int(100, 0),
});

/** Throws a RangeError naming every bad variable. */
export function parseCacheConfig(env: Record<string, string | undefined>): CacheConfig {
  const parsed = v.safeParse(ENV, env);
  if (!parsed.success) {
    const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "?"} ${issue.message}`);
    throw new RangeError(`invalid cache configuration: ${problems.join("; ")}`);
  }
  const e = parsed.output;
  const ttlMs = e.CACHE_L1_TTL_SECONDS * 1000;
  const idleMs =
    e.CACHE_L1_IDLE_SECONDS === undefined ? Math.floor(ttlMs / 2) : e.CACHE_L1_IDLE_SECONDS * 1000;
  let l2: RemoteDriverConfig | null = null;
  if (e.REDIS_URL) l2 = { kind: "ioredis", url: e.REDIS_URL };
  else if (e.UPSTASH_REDIS_REST_URL) {
    if (!e.UPSTASH_REDIS_REST_TOKEN) {
      throw new RangeError(
        "invalid cache configuration: UPSTASH_REDIS_REST_URL needs UPSTASH_REDIS_REST_TOKEN",
      );
    }
    l2 = { kind: "upstash", url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN };
  }
  return {
    l1: e.CACHE_L1_ENABLED
      ? {
          maxEntries: e.CACHE_L1_MAX_ENTRIES,
          maxBytes: e.CACHE_L1_MAX_BYTES,
          maxEntryBytes: e.CACHE_L1_MAX_ENTRY_BYTES,
          ttlMs,
          idleMs,
        }
      : false,
    l2,
    l2TtlSeconds: e.REDIS_TTL_SECONDS,
    negativeTtlSeconds: { l1: e.CACHE_NEGATIVE_TTL_SECONDS, l2: e.CACHE_NEGATIVE_TTL_SECONDS * 2 },
    keyPrefix: e.CACHE_KEY_PREFIX,
    serializer: e.CACHE_SERIALIZER,
    l2TimeoutMs: e.CACHE_L2_TIMEOUT_MS,
    breaker: { failureThreshold: e.CACHE_BREAKER_THRESHOLD, cooldownMs: e.CACHE_BREAKER_COOLDOWN_MS },
    warm: { onStartup: e.CACHE_WARM_ON_STARTUP, size: e.CACHE_WARM_SIZE },
  };
}

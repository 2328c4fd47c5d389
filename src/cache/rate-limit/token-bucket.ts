/**
 * Token buckets held in process: the store of an instance without Redis, and
 * the fallback of the Redis store while Redis does not answer. Buckets live
 * in an LRU bounded by count (a flood of distinct client addresses costs a
 * fixed amount of memory, evicting the idle buckets, which are full anyway),
 * and a bucket unused for longer than it takes to refill is as good as new.
 */
import { LRUCache } from "lru-cache";
import type { BucketDecision, BucketLimit, TokenBuckets } from "../../domain/rate-limit.ts";

interface Bucket {
  tokens: number;
  /** When `tokens` was computed, ms. */
  at: number;
}

/** One step of the bucket: refill since `at`, then take one token if there is one. The Lua script does the same. */
export function takeToken(
  bucket: Bucket | undefined,
  limit: BucketLimit,
  now: number,
): { bucket: Bucket; decision: BucketDecision } {
  const perMs = limit.perSecond / 1000;
  const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
  let tokens = bucket ? Math.min(limit.burst, bucket.tokens + elapsed * perMs) : limit.burst;
  const allowed = tokens >= 1;
  if (allowed) tokens -= 1;
  return {
    bucket: { tokens, at: now },
    decision: {
      allowed,
      remaining: Math.floor(tokens),
      retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / perMs),
      resetMs: Math.ceil((limit.burst - tokens) / perMs),
    },
  };
}

export interface LocalBucketsOptions {
  /** Buckets kept; the least recently used go first. Default 100,000. */
  maxBuckets?: number;
  /** The clock, ms; for tests. */
  now?: () => number;
}

export class LocalTokenBuckets implements TokenBuckets {
  readonly #buckets: LRUCache<string, Bucket>;
  readonly #now: () => number;

  constructor(options: LocalBucketsOptions = {}) {
    this.#buckets = new LRUCache({ max: options.maxBuckets ?? 100_000 });
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  take(key: string, limit: BucketLimit): BucketDecision {
    const { bucket, decision } = takeToken(this.#buckets.get(key), limit, this.#now());
    this.#buckets.set(key, bucket);
    return decision;
  }

  get size(): number {
    return this.#buckets.size;
  }
}

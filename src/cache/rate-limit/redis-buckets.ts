/**
 * Token buckets held in Redis, so every instance draws on the same bucket of
 * a caller: one Lua script per request (refill by the time elapsed, take a
 * token, store, expire) runs atomically on the server, with the server's own
 * clock, so instances whose clocks differ still agree. It goes through L2's
 * guard (its budget and circuit breaker) and works on both drivers (ioredis
 * EVALSHA/EVAL, Upstash's REST EVALSHA/EVAL).
 *
 * Redis down, slow or refusing the script: the request is decided by a
 * bucket in process instead (the same limits, per instance), and counted in
 * `failures`. Failing open this way keeps a Redis outage from turning into a
 * registry outage (every request refused, or waiting on a dead server), while
 * each instance still holds a caller to its limit.
 */
import type { BucketDecision, BucketLimit, TokenBuckets } from "../../domain/rate-limit.ts";
import { type GuardedRemote, UNAVAILABLE } from "../l2/guarded-remote.ts";
import { LocalTokenBuckets } from "./token-bucket.ts";

/**
 * KEYS[1]: the bucket (a hash of `tokens` and `at`, ms). ARGV: tokens per
 * second, burst. Answers {allowed (1/0), tokens left as text}. The bucket
 * expires once it would be full again: an idle caller costs no memory.
 */
export const TAKE_TOKEN_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return { allowed, tostring(tokens) }
`;

export interface RedisBucketsOptions {
  /** The L2 connection behind its guard. */
  remote: Pick<GuardedRemote, "evalScript">;
  /** The full Redis key of a bucket (the cache's namespace, so tests and deployments sharing a Redis stay apart). */
  keyOf: (bucket: string) => string;
  /** Decides while Redis does not answer. Default: a LocalTokenBuckets of its own. */
  fallback?: TokenBuckets;
}

export class RedisTokenBuckets implements TokenBuckets {
  readonly #remote: Pick<GuardedRemote, "evalScript">;
  readonly #keyOf: (bucket: string) => string;
  readonly #fallback: TokenBuckets;
  #failures = 0;

  constructor(options: RedisBucketsOptions) {
    this.#remote = options.remote;
    this.#keyOf = options.keyOf;
    this.#fallback = options.fallback ?? new LocalTokenBuckets();
  }

  /** Decisions made in process because Redis did not answer (or answered nonsense). */
  get failures(): number {
    return this.#failures;
  }

  async take(key: string, limit: BucketLimit): Promise<BucketDecision> {
    let answer: unknown;
    try {
      answer = await this.#remote.evalScript(
        TAKE_TOKEN_SCRIPT,
        [this.#keyOf(key)],
        [String(limit.perSecond), String(limit.burst)],
      );
    } catch {
      answer = UNAVAILABLE;
    }
    const decided = answer === UNAVAILABLE ? null : decisionOf(answer, limit);
    if (decided === null) {
      this.#failures++;
      return this.#fallback.take(key, limit);
    }
    return decided;
  }
}

/** The script's answer as a decision; null when it is not the shape the script returns. */
function decisionOf(answer: unknown, limit: BucketLimit): BucketDecision | null {
  if (!Array.isArray(answer) || answer.length !== 2) return null;
  const allowed = Number(answer[0]) === 1;
  const tokens = Number(answer[1]);
  if (!Number.isFinite(tokens)) return null;
  const perMs = limit.perSecond / 1000;
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / perMs),
    resetMs: Math.ceil((limit.burst - tokens) / perMs),
  };
}

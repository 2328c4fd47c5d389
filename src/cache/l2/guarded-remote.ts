/**
 * L2 as the tiered cache sees it: a RemoteCacheDriver behind a timeout budget
 * and a circuit breaker, that never throws. Every call answers within the
 * budget (default 50 ms) with the driver's result or `UNAVAILABLE`, so a slow
 * or dead Redis degrades the cache to its loader instead of failing requests.
 *
 * Deletes are invalidations and must not be lost while Redis is unreachable,
 * or Redis would serve what was deleted once it answers again. A failed or
 * refused delete is remembered (up to `maxPendingDeletes` keys) and replayed
 * before the next call goes through, the half-open probe included, so no read
 * reaches Redis before the deletes it missed.
 */
import { type BreakerStats, CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.ts";
import type { RemoteCacheDriver, RemoteEntry } from "./remote-driver.ts";

export const UNAVAILABLE: unique symbol = Symbol("l2-unavailable");
export type Unavailable = typeof UNAVAILABLE;

export interface GuardOptions {
  /** Budget for one L2 call, ms. Default 50. */
  timeoutMs: number;
  breaker: Partial<CircuitBreakerOptions>;
  /** Deletes kept for replay while L2 is unreachable. Default 10,000 keys. */
  maxPendingDeletes: number;
}

export const DEFAULT_GUARD_OPTIONS: GuardOptions = { timeoutMs: 50, breaker: {}, maxPendingDeletes: 10_000 };

export interface GuardStats {
  driver: string;
  /** Calls that reached the driver. */
  calls: number;
  /** Calls that failed or timed out (timeouts included). */
  errors: number;
  timeouts: number;
  /** Calls not made because the breaker was open. */
  skipped: number;
  /** Deletes waiting to be replayed. */
  pendingDeletes: number;
  /** Deletes dropped because the replay list was full (their keys may be stale in L2 until TTL). */
  droppedDeletes: number;
  breaker: BreakerStats;
}

class Timeout extends Error {}

export class GuardedRemote {
  readonly breaker: CircuitBreaker;
  readonly options: GuardOptions;
  readonly #pending = new Set<string>();
  #calls = 0;
  #errors = 0;
  #timeouts = 0;
  #skipped = 0;
  #dropped = 0;

  constructor(
    readonly driver: RemoteCacheDriver,
    options: Partial<GuardOptions> = {},
  ) {
    this.options = { ...DEFAULT_GUARD_OPTIONS, ...options };
    this.breaker = new CircuitBreaker(this.options.breaker);
  }

  get(key: string): Promise<string | null | Unavailable> {
    return this.#call((d) => d.get(key));
  }

  getMany(keys: readonly string[]): Promise<(string | null)[] | Unavailable> {
    return this.#call((d) => d.getMany(keys));
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#call((d) => d.set(key, value, ttlSeconds))) !== UNAVAILABLE;
  }

  async setMany(entries: readonly RemoteEntry[]): Promise<boolean> {
    if (entries.length === 0) return true;
    return (await this.#call((d) => d.setMany(entries))) !== UNAVAILABLE;
  }

  /** Returns false when the delete could not be made now; it is then queued for replay. */
  async deleteMany(keys: readonly string[]): Promise<boolean> {
    if (keys.length === 0) return true;
    const done = (await this.#call((d) => d.deleteMany(keys))) !== UNAVAILABLE;
    if (!done) this.#remember(keys);
    return done;
  }

  /**
   * Runs a Lua script on the server (the rate limiter's buckets), within the
   * budget and the breaker like every call; UNAVAILABLE when the driver runs no scripts.
   */
  evalScript(
    source: string,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown | Unavailable> {
    const run = this.driver.evalScript;
    if (run === undefined) return Promise.resolve(UNAVAILABLE);
    return this.#call((d) => run.call(d, source, keys, args));
  }

  /** Health check that bypasses the breaker, still within the budget. */
  async ping(): Promise<boolean> {
    try {
      await this.#within(this.driver.ping());
      return true;
    } catch {
      return false;
    }
  }

  stats(): GuardStats {
    return {
      driver: this.driver.name,
      calls: this.#calls,
      errors: this.#errors,
      timeouts: this.#timeouts,
      skipped: this.#skipped,
      pendingDeletes: this.#pending.size,
      droppedDeletes: this.#dropped,
      breaker: this.breaker.stats(),
    };
  }

  async #call<R>(op: (driver: RemoteCacheDriver) => Promise<R>): Promise<R | Unavailable> {
    const permit = this.breaker.acquire();
    if (permit === null) {
      this.#skipped++;
      return UNAVAILABLE;
    }
    this.#calls++;
    try {
      if (this.#pending.size > 0) await this.#replay();
      const result = await this.#within(op(this.driver));
      this.breaker.success();
      return result;
    } catch (error) {
      this.#errors++;
      if (error instanceof Timeout) this.#timeouts++;
      this.breaker.failure();
      return UNAVAILABLE;
    }
  }

  async #replay(): Promise<void> {
    const keys = [...this.#pending];
    // A backlog of deletes is a bigger batch than one request's call: give it a wider budget.
    await this.#within(this.driver.deleteMany(keys), this.options.timeoutMs * 4);
    for (const key of keys) this.#pending.delete(key);
  }

  #remember(keys: readonly string[]): void {
    for (const key of keys) {
      if (this.#pending.size >= this.options.maxPendingDeletes && !this.#pending.has(key)) this.#dropped++;
      else this.#pending.add(key);
    }
  }

  #within<R>(work: Promise<R>, ms: number = this.options.timeoutMs): Promise<R> {
    // One promise and one timer per call (not Promise.race and friends): this sits on every L2 read.
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Timeout(`L2 call exceeded ${ms} ms`)), ms);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

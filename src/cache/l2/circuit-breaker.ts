/**
 * Circuit breaker for L2. After `failureThreshold` consecutive failures it
 * opens and the cache stops calling Redis at all (a dead Redis then costs
 * nothing per request instead of a timeout each); after `cooldownMs` it lets
 * exactly one probe through (half-open): success closes it, failure opens it
 * for another cool-down. Recovery needs no timer: the next request after the
 * cool-down is the probe.
 */

export type BreakerState = "closed" | "open" | "half_open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  failureThreshold: number;
  /** How long an open breaker refuses calls before a probe. Default 5,000 ms. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 5_000 };

/** What `acquire` grants: a normal call, the single half-open probe, or nothing. */
export type Permit = "call" | "probe" | null;

export interface BreakerStats {
  state: BreakerState;
  /** Times the breaker went from closed (or half-open) to open. */
  trips: number;
  consecutiveFailures: number;
  /** When it last opened (epoch ms), or null if it never did. */
  lastOpenedAt: number | null;
}

export class CircuitBreaker {
  readonly options: CircuitBreakerOptions;
  #state: BreakerState = "closed";
  #failures = 0;
  #trips = 0;
  #openedAt = 0;
  #lastOpenedAt: number | null = null;

  constructor(
    options: Partial<CircuitBreakerOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
  }

  get state(): BreakerState {
    return this.#state;
  }

  acquire(): Permit {
    if (this.#state === "closed") return "call";
    if (this.#state === "open" && this.now() - this.#openedAt >= this.options.cooldownMs) {
      this.#state = "half_open";
      return "probe";
    }
    return null;
  }

  success(): void {
    this.#failures = 0;
    this.#state = "closed";
  }

  failure(): void {
    this.#failures++;
    if (
      this.#state === "half_open" ||
      (this.#state === "closed" && this.#failures >= this.options.failureThreshold)
    ) {
      this.#state = "open";
      this.#openedAt = this.now();
      this.#lastOpenedAt = Date.now();
      this.#trips++;
    }
  }

  stats(): BreakerStats {
    return {
      state: this.#state,
      trips: this.#trips,
      consecutiveFailures: this.#failures,
      lastOpenedAt: this.#lastOpenedAt,
    };
  }
}

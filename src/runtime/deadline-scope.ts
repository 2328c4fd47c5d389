/**
 * The deadline of the request being served, visible to every layer below the
 * one that set it without being passed along: the HTTP layer runs each request
 * inside a scope (http/deadline.ts), and the PostgreSQL pool (storage/postgres/
 * pool.ts) reads it to refuse work for a request that has already been
 * answered, to bound a wait for a connection by the time the request has left,
 * and to cancel the statements of a request whose time is up.
 *
 * Carried by AsyncLocalStorage from `node:async_hooks`, which Bun and Deno
 * both implement, so this module stays runtime-neutral. Code that runs
 * outside any request (start-up, the bus, sweeps) sees no scope, and the pool
 * then applies only its own bounds.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Something a scope cancels when it expires: a statement queued or in flight. */
export interface Cancellable {
  cancel(): void;
}

export class DeadlineScope {
  /** `performance.now()` at which the request's time is up. */
  readonly expiresAt: number;
  #expired = false;
  readonly #live = new Set<Cancellable>();
  readonly #listeners = new Set<() => void>();

  constructor(timeoutMs: number) {
    this.expiresAt = performance.now() + timeoutMs;
  }

  get expired(): boolean {
    return this.#expired;
  }

  /** Milliseconds left, never below 0. */
  remainingMs(): number {
    return Math.max(0, this.expiresAt - performance.now());
  }

  /** Cancelled if the scope expires while it is tracked; returns the function that stops tracking it. */
  track(item: Cancellable): () => void {
    this.#live.add(item);
    return () => this.#live.delete(item);
  }

  /** How many tracked items are still running (statements on a connection, say). */
  get live(): number {
    return this.#live.size;
  }

  /** Told once, when the scope expires; returns the function that stops listening. */
  onExpire(listener: () => void): () => void {
    if (this.#expired) {
      listener();
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The request's time is up: whatever it still runs is cancelled, whatever it asks next is refused. */
  expire(): void {
    if (this.#expired) return;
    this.#expired = true;
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
    for (const item of this.#live) {
      try {
        item.cancel();
      } catch {
        // A cancel that fails leaves the statement to its own timeout.
      }
    }
  }
}

const storage = new AsyncLocalStorage<DeadlineScope>();

/** Runs `work` with `scope` as the current deadline (for everything it starts, awaited or not). */
export function runInScope<T>(scope: DeadlineScope, work: () => T): T {
  return storage.run(scope, work);
}

/** The deadline of the request this code runs for, if any. */
export function currentScope(): DeadlineScope | undefined {
  return storage.getStore();
}

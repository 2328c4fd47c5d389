/**
 * The request an edge isolate is serving, visible to every layer below the
 * entry point without being passed along (as deadline-scope.ts does for the
 * deadline). Needed where a host ties I/O to the request that opened it: in a
 * Worker, a socket opened while serving one request cannot be used by another
 * ("Cannot perform I/O on behalf of a different request"), so a PostgreSQL
 * connection lives for one request (storage/postgres/pool.ts, `perRequest`),
 * and work that must outlive the response is handed to the host's
 * `waitUntil` instead of a timer.
 *
 * Bun and Deno never open a context: their pools and timers are process-wide,
 * and `currentRequest()` is undefined there.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestContext {
  /** What this request opened and must close when it is done (per-request pools, keyed by owner). */
  readonly resources: Map<symbol, unknown>;
  /** Runs `work` after the response is sent, before the host ends the request (the Worker's waitUntil). */
  defer(work: () => Promise<unknown>): void;
  /** Closed after every deferred work has settled: a per-request pool's `end()`. */
  onClose(close: () => Promise<unknown>): void;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** A context for one request; `finish()` runs the deferred work, then the closers, and never rejects. */
export function createRequestContext(): RequestContext & { finish(): Promise<void>; idle(): boolean } {
  const deferred: (() => Promise<unknown>)[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  return {
    resources: new Map(),
    defer: (work) => void deferred.push(work),
    onClose: (close) => void closers.push(close),
    /** Nothing deferred and nothing to close: the host need not be handed any work after the response. */
    idle: () => deferred.length === 0 && closers.length === 0,
    async finish() {
      // Deferred work may defer more (a flush that then refreshes): run until none is left.
      while (deferred.length > 0) {
        await Promise.allSettled(deferred.splice(0).map((work) => work()));
      }
      await Promise.allSettled(closers.splice(0).map((close) => close()));
    },
  };
}

/** Runs `work` as the serving of `context`'s request (for everything it starts, awaited or not). */
export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The request this code runs for on an edge host; undefined on Bun and Deno. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

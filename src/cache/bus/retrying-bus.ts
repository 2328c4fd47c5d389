/**
 * An invalidation bus that neither holds up start-up nor loses a message to
 * a passing database failure.
 *
 * - An instance must start (and answer 503, live but unready) while
 *   PostgreSQL is down, so LISTEN is tried once at start and then again in
 *   the background until it succeeds; once listening, subscribers get a
 *   resync ("drop everything local"), since what other instances published
 *   meanwhile was not heard.
 * - `publish` without a transaction (the registry's, after a commit) always
 *   applies the invalidation here at once. When the NOTIFY cannot be sent
 *   (not listening yet, or it failed), its keys wait and are sent again with
 *   backoff: the other instances would otherwise serve the old value until
 *   its TTL. Up to `maxPendingKeys`; beyond, the oldest are dropped and counted.
 *   With a transaction, a failure is the caller's (the write fails with it).
 * - An outage is told once each way: `onDown` when the bus first finds
 *   PostgreSQL gone (LISTEN failing at start, the listening connection lost,
 *   or a NOTIFY failing), `onUp` when it is back (listening again, after the
 *   resync; or, when only a NOTIFY had failed, once one goes through). The
 *   attempts in between are counted, never logged one by one: a database down
 *   for minutes is two log lines, not one every few seconds.
 */
import type {
  InvalidationBus,
  InvalidationBusStats,
  InvalidationEvent,
  InvalidationHandler,
  NotifySql,
} from "./invalidation-bus.ts";

export interface RetryingBusOptions {
  instanceId?: string;
  channel?: string;
  /** First wait before trying again (LISTEN, or a NOTIFY); doubles up to `maxDelayMs`. Default 500 ms. */
  initialDelayMs?: number;
  /** Default 15,000 ms. */
  maxDelayMs?: number;
  /** Keys kept for a later NOTIFY. Default 10,000. */
  maxPendingKeys?: number;
  /** Told of each failed LISTEN attempt at start. */
  onError?: (error: unknown, attempt: number) => void;
  /** Told of each NOTIFY that failed (its keys are sent again later). */
  onPublishError?: (error: unknown, keys: number) => void;
  /** Told when the bus listens after having failed at start. */
  onConnected?: () => void;
  /** PostgreSQL went away (once per outage); `error` when a failure said why. */
  onDown?: (error: unknown) => void;
  /** PostgreSQL is back for the bus (once per outage). */
  onUp?: () => void;
}

/** What the retrying bus asks the bus it opens to tell it. */
export interface ConnectionHooks {
  onLost(): void;
  onRestored(): void;
}

export interface RetryingBusStats extends InvalidationBusStats {
  /** Keys invalidated here whose NOTIFY is still to be sent. */
  pendingKeys: number;
  /** Keys dropped from the pending list when it was full (other instances may serve them stale until TTL). */
  droppedKeys: number;
  publishFailures: number;
}

export interface RetryingBus extends InvalidationBus {
  /** Whether LISTEN is in place. */
  readonly connected: boolean;
  /** Whether the bus holds PostgreSQL for gone (between `onDown` and `onUp`). */
  readonly down: boolean;
  stats(): RetryingBusStats;
}

/** `connect` opens the real bus (createInvalidationBus on a client of its own), passing it `hooks`. */
export async function createRetryingBus(
  connect: (hooks: ConnectionHooks) => Promise<InvalidationBus>,
  options: RetryingBusOptions = {},
): Promise<RetryingBus> {
  const handlers = new Set<InvalidationHandler>();
  const initialDelay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 15_000;
  const maxPending = options.maxPendingKeys ?? 10_000;
  const instanceId = options.instanceId ?? crypto.randomUUID();
  let inner: InvalidationBus | null = null;
  let closed = false;
  let listenTimer: ReturnType<typeof setTimeout> | undefined;
  let resendTimer: ReturnType<typeof setTimeout> | undefined;
  let resendDelay = initialDelay;
  let attempt = 0;
  let localOnly = 0;
  let droppedKeys = 0;
  let publishFailures = 0;
  // A Set keeps insertion order: the first keys are the oldest, dropped first when full.
  const pending = new Set<string>();
  /** Why the bus holds PostgreSQL for gone: its listening connection, or only a NOTIFY; null while up. */
  let down: "listen" | "notify" | null = null;

  const wentDown = (cause: "listen" | "notify", error: unknown): void => {
    if (closed) return;
    if (down === "listen") return;
    const first = down === null;
    down = cause;
    if (first) options.onDown?.(error);
  };

  const cameUp = (cause: "listen" | "notify"): void => {
    // A NOTIFY going through says nothing of a listening connection still lost.
    if (closed || down === null || (cause === "notify" && down === "listen")) return;
    down = null;
    options.onUp?.();
  };

  const hooks: ConnectionHooks = {
    onLost: () => wentDown("listen", null),
    onRestored: () => {
      cameUp("listen");
      // Whatever waited for a NOTIFY goes now rather than at the end of its back-off.
      clearTimeout(resendTimer);
      resendTimer = undefined;
      resendDelay = initialDelay;
      void resend();
    },
  };

  const dispatch = async (event: InvalidationEvent): Promise<void> => {
    await Promise.allSettled([...handlers].map(async (handler) => handler(event)));
  };

  const keep = (keys: readonly string[]): void => {
    for (const key of keys) {
      pending.delete(key);
      pending.add(key);
    }
    for (const key of pending) {
      if (pending.size <= maxPending) break;
      pending.delete(key);
      droppedKeys++;
    }
  };

  const resend = async (): Promise<void> => {
    resendTimer = undefined;
    if (closed || inner === null || pending.size === 0) return;
    const keys = [...pending];
    pending.clear();
    try {
      await inner.publish(keys);
      resendDelay = initialDelay;
      cameUp("notify");
    } catch (error) {
      publishFailures++;
      options.onPublishError?.(error, keys.length);
      wentDown("notify", error);
      keep(keys);
      scheduleResend();
    }
  };

  const scheduleResend = (): void => {
    if (closed || resendTimer !== undefined) return;
    resendTimer = setTimeout(() => void resend(), resendDelay);
    resendDelay = Math.min(resendDelay * 2, maxDelay);
  };

  const tryConnect = async (): Promise<boolean> => {
    attempt++;
    try {
      const bus = await connect(hooks);
      if (closed) {
        await bus.close();
        return true;
      }
      inner = bus;
      bus.subscribe((event) => dispatch(event));
      return true;
    } catch (error) {
      options.onError?.(error, attempt);
      wentDown("listen", error);
      return false;
    }
  };

  const scheduleListen = (delay: number): void => {
    listenTimer = setTimeout(async () => {
      if (closed) return;
      if (await tryConnect()) {
        if (closed) return;
        options.onConnected?.();
        await dispatch({ keys: "all", origin: instanceId, source: "resync", transactional: false });
        cameUp("listen");
        await resend();
      } else scheduleListen(Math.min(delay * 2, maxDelay));
    }, delay);
  };

  if (!(await tryConnect())) scheduleListen(initialDelay);

  return {
    get instanceId() {
      return inner?.instanceId ?? instanceId;
    },
    get channel() {
      return inner?.channel ?? options.channel ?? "registry_cache_invalidation";
    },
    get connected() {
      return inner !== null;
    },
    get down() {
      return down !== null;
    },
    async publish(keys: readonly string[], tx?: NotifySql) {
      if (keys.length === 0) return;
      if (inner === null) {
        localOnly++;
        await dispatch({ keys, origin: instanceId, source: "local", transactional: false });
        keep(keys);
        return;
      }
      if (tx !== undefined) return inner.publish(keys, tx);
      try {
        // Applies locally first, then NOTIFYs: a failure can only be the NOTIFY's.
        await inner.publish(keys);
        cameUp("notify");
      } catch (error) {
        publishFailures++;
        options.onPublishError?.(error, keys.length);
        wentDown("notify", error);
        keep(keys);
        scheduleResend();
      }
    },
    subscribe(handler: InvalidationHandler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    stats(): RetryingBusStats {
      const base = inner?.stats() ?? {
        published: 0,
        notificationsSent: 0,
        received: 0,
        resyncs: 0,
        malformed: 0,
        lastDeliveryMs: null,
      };
      return {
        ...base,
        published: base.published + localOnly,
        pendingKeys: pending.size,
        droppedKeys,
        publishFailures,
      };
    },
    async close() {
      closed = true;
      clearTimeout(listenTimer);
      clearTimeout(resendTimer);
      handlers.clear();
      await inner?.close();
    },
  };
}

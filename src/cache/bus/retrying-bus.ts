/**
 * An invalidation bus that does not hold up start-up: an instance must start
 * (and answer 503, live but unready) while PostgreSQL is down, so the bus's
 * LISTEN is tried once at start and then again in the background until it
 * succeeds. Meanwhile invalidations act on this instance (L1 and L2) only;
 * once listening, subscribers get a resync ("drop everything local"), since
 * whatever other instances published before was not heard.
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
  /** First wait before trying again; doubles up to `maxDelayMs`. Default 500 ms. */
  initialDelayMs?: number;
  /** Default 15,000 ms. */
  maxDelayMs?: number;
  /** Told of each failed attempt. */
  onError?: (error: unknown, attempt: number) => void;
  /** Told when the bus listens after having failed at start. */
  onConnected?: () => void;
}

export interface RetryingBus extends InvalidationBus {
  /** Whether LISTEN is in place. */
  readonly connected: boolean;
}

/** `connect` opens the real bus (createInvalidationBus on a client of its own). */
export async function createRetryingBus(
  connect: () => Promise<InvalidationBus>,
  options: RetryingBusOptions = {},
): Promise<RetryingBus> {
  const handlers = new Set<InvalidationHandler>();
  const initialDelay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 15_000;
  let inner: InvalidationBus | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let localOnly = 0;

  const dispatch = async (event: InvalidationEvent): Promise<void> => {
    await Promise.allSettled([...handlers].map(async (handler) => handler(event)));
  };

  const tryConnect = async (): Promise<boolean> => {
    attempt++;
    try {
      const bus = await connect();
      if (closed) {
        await bus.close();
        return true;
      }
      inner = bus;
      bus.subscribe((event) => dispatch(event));
      return true;
    } catch (error) {
      options.onError?.(error, attempt);
      return false;
    }
  };

  const schedule = (delay: number): void => {
    timer = setTimeout(async () => {
      if (closed) return;
      if (await tryConnect()) {
        if (closed) return;
        options.onConnected?.();
        await dispatch({ keys: "all", origin: instanceId, source: "resync", transactional: false });
      } else schedule(Math.min(delay * 2, maxDelay));
    }, delay);
  };

  const instanceId = options.instanceId ?? crypto.randomUUID();
  if (!(await tryConnect())) schedule(initialDelay);

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
    async publish(keys: readonly string[], tx?: NotifySql) {
      if (inner !== null) return inner.publish(keys, tx);
      if (keys.length === 0) return;
      localOnly++;
      await dispatch({ keys, origin: instanceId, source: "local", transactional: false });
    },
    subscribe(handler: InvalidationHandler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    stats(): InvalidationBusStats {
      const base = inner?.stats() ?? {
        published: 0,
        notificationsSent: 0,
        received: 0,
        resyncs: 0,
        malformed: 0,
        lastDeliveryMs: null,
      };
      return { ...base, published: base.published + localOnly };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      handlers.clear();
      await inner?.close();
    },
  };
}

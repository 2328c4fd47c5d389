/**
 * Cross-instance invalidation over PostgreSQL LISTEN/NOTIFY.
 *
 * Why PostgreSQL and not Redis pub/sub: every instance already holds a
 * PostgreSQL connection, and it is the only backend every deployment has (the
 * bus then works with ioredis, with Upstash, whose REST API cannot hold a
 * subscription open, and with no L2 at all). Above all, a NOTIFY sent inside
 * the write's own transaction is delivered only if that transaction commits,
 * and only after it does: no instance ever drops a value for a write that
 * rolled back, and none is told before the new data is visible. Redis pub/sub
 * would fire at publish time, committed or not.
 *
 * `publish(keys, tx?)` applies the invalidation to this instance at once
 * (source `local`) and sends NOTIFY payloads of under 8,000 bytes (NOTIFY's
 * limit), chunked. Every instance, the publisher included, receives them after
 * the commit (`remote`, or `echo` for the publisher's own). postgres.js
 * re-establishes a lost listening connection by itself, retrying until the
 * server lets it in (test/cache/invalidation-bus.test.ts holds it to that);
 * notifications sent meanwhile are gone, so subscribers then get a `resync`
 * ("drop everything local"). A watchdog of our own that listened again was
 * tried and removed: it stacked listeners next to postgres.js's own and
 * delivered every notification several times.
 *
 * Whoever runs the bus hears of the outage once: `onLost` when the listening
 * connection first drops, `onRestored` when LISTEN is back (after the resync
 * went out). postgres.js keeps its listening client to itself, so the bus
 * wraps that client's `onclose` (read at each close, from the options object
 * the client keeps); how soon it tries again is the pool's reconnect delay
 * (storage/postgres/pool.ts), and a failed try says nothing more.
 */
import type postgres from "postgres";
import * as v from "valibot";

/** postgres.js client or transaction: anything that can run `select pg_notify(...)`. */
export type NotifySql = postgres.Sql | postgres.TransactionSql;

export type InvalidationSource = "local" | "echo" | "remote" | "resync";

export interface InvalidationEvent {
  /** Logical cache keys, or "all" on a resync. */
  keys: readonly string[] | "all";
  /** instanceId of the publisher. */
  origin: string;
  source: InvalidationSource;
  /** Sent inside a transaction: delivered only on commit. */
  transactional: boolean;
}

export type InvalidationHandler = (event: InvalidationEvent) => void | Promise<void>;

export interface InvalidationBusOptions {
  /** Default `registry_cache_invalidation`. */
  channel?: string;
  /** Default a random UUID. */
  instanceId?: string;
  /** The listening connection dropped: notifications are missed until `onRestored`. Once per outage. */
  onLost?: () => void;
  /** Listening again (subscribers were sent a resync). */
  onRestored?: () => void;
}

export interface InvalidationBusStats {
  published: number;
  notificationsSent: number;
  received: number;
  resyncs: number;
  malformed: number;
  /** Publish-to-delivery time of the last notification seen, ms (wall clocks of the two instances). */
  lastDeliveryMs: number | null;
}

export interface InvalidationBus {
  readonly instanceId: string;
  readonly channel: string;
  /** Applies locally at once, then NOTIFYs (through `tx` when given, so only a commit delivers it). */
  publish(keys: readonly string[], tx?: NotifySql): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(handler: InvalidationHandler): () => void;
  stats(): InvalidationBusStats;
  close(): Promise<void>;
}

/** NOTIFY payloads must be shorter than 8,000 bytes; keep a margin for the envelope. */
export const MAX_PAYLOAD_BYTES = 7_900;

const MESSAGE = v.object({
  o: v.string(),
  s: v.number(),
  t: v.optional(v.literal(1)),
  k: v.optional(v.array(v.string())),
  a: v.optional(v.literal(1)),
});

const encoder = new TextEncoder();

/** Splits keys into JSON payloads under `MAX_PAYLOAD_BYTES`; a key too long for any payload turns into "all". */
export function encodePayloads(origin: string, keys: readonly string[], transactional: boolean): string[] {
  const head = { o: origin, s: 0, ...(transactional ? { t: 1 } : {}) };
  const base = encoder.encode(JSON.stringify({ ...head, s: Date.now(), k: [] })).length;
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = base;
  const flush = () => {
    if (batch.length > 0) payloads.push(JSON.stringify({ ...head, s: Date.now(), k: batch }));
    batch = [];
    size = base;
  };
  for (const key of keys) {
    const cost = encoder.encode(JSON.stringify(key)).length + 1;
    if (base + cost > MAX_PAYLOAD_BYTES) {
      // Cannot be named within NOTIFY's limit: tell everyone to drop everything instead of losing it.
      return [JSON.stringify({ ...head, s: Date.now(), a: 1 })];
    }
    if (size + cost > MAX_PAYLOAD_BYTES) flush();
    batch.push(key);
    size += cost;
  }
  flush();
  return payloads;
}

/** postgres.js's listening client, as `listen` keeps it (`sql.listen.sql`), and the options it reads `onclose` from. */
interface ListeningClient {
  options: { onclose?: (connectionId: number) => void };
}

/** Calls `onClose` each time the listening connection of `sql` closes, before postgres.js listens again. */
function watchListeningConnection(sql: postgres.Sql, onClose: () => void): void {
  const client = (sql.listen as unknown as { sql?: ListeningClient }).sql;
  if (!client) return;
  const relisten = client.options.onclose;
  client.options.onclose = (connectionId) => {
    onClose();
    relisten?.(connectionId);
  };
}

export async function createInvalidationBus(
  sql: postgres.Sql,
  options: InvalidationBusOptions = {},
): Promise<InvalidationBus> {
  const channel = options.channel ?? "registry_cache_invalidation";
  const instanceId = options.instanceId ?? crypto.randomUUID();
  const handlers = new Set<InvalidationHandler>();
  const counters = { published: 0, notificationsSent: 0, received: 0, resyncs: 0, malformed: 0 };
  let lastDeliveryMs: number | null = null;
  let listenCount = 0;
  let closed = false;
  let lost = false;

  const dispatch = async (event: InvalidationEvent): Promise<void> => {
    const results = [...handlers].map(async (handler) => handler(event));
    await Promise.allSettled(results);
  };

  const onNotify = (payload: string): void => {
    if (closed) return;
    let message: v.InferOutput<typeof MESSAGE>;
    try {
      const parsed = v.safeParse(MESSAGE, JSON.parse(payload));
      if (!parsed.success) throw new Error("unexpected payload shape");
      message = parsed.output;
    } catch {
      counters.malformed++;
      return;
    }
    const self = message.o === instanceId;
    counters.received++;
    lastDeliveryMs = Date.now() - message.s;
    void dispatch({
      keys: message.a === 1 ? "all" : (message.k ?? []),
      origin: message.o,
      source: self ? "echo" : "remote",
      transactional: message.t === 1,
    });
  };

  const onListen = (): void => {
    listenCount++;
    // The first LISTEN starts the bus; any later one follows a lost connection, whose notifications are gone.
    if (listenCount > 1) {
      counters.resyncs++;
      void dispatch({ keys: "all", origin: instanceId, source: "resync", transactional: false });
      if (lost && !closed) {
        lost = false;
        options.onRestored?.();
      }
    }
  };

  // Publishes outside a transaction share the bus's one connection: while a
  // NOTIFY is on its way, the keys of the publishes that come meanwhile wait
  // and go out together in the next one. Sent one by one, concurrent writes
  // queued behind each other's round trips (measured: 25 concurrent registers
  // waited about 60 ms each for their NOTIFY on a loaded 2-core machine).
  const outside = coalescing(async (keys) => {
    for (const payload of encodePayloads(instanceId, keys, false)) {
      await sql`select pg_notify(${channel}, ${payload})`;
      counters.notificationsSent++;
    }
  });

  const subscription = await sql.listen(channel, onNotify, onListen);
  watchListeningConnection(sql, () => {
    if (closed || lost) return;
    lost = true;
    options.onLost?.();
  });

  return {
    instanceId,
    channel,
    async publish(keys, tx) {
      if (keys.length === 0) return;
      counters.published++;
      const transactional = tx !== undefined;
      await dispatch({ keys, origin: instanceId, source: "local", transactional });
      if (tx !== undefined) {
        for (const payload of encodePayloads(instanceId, keys, true)) {
          await tx`select pg_notify(${channel}, ${payload})`;
          counters.notificationsSent++;
        }
        return;
      }
      await outside.send(keys);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    stats: () => ({ ...counters, lastDeliveryMs }),
    async close() {
      // After a reconnection postgres.js listens with listener objects of its own, which this unlisten does
      // not reach; the flag keeps them quiet until the caller ends the client.
      closed = true;
      handlers.clear();
      try {
        await subscription.unlisten();
      } catch {
        // Closing: nothing left to tell.
      }
    },
  };
}

/**
 * `send` for keys that may arrive while a send is in flight: those wait and
 * go out together, in one call, when it ends. Each caller's promise settles
 * with the send that carried its keys (its error, if that send failed).
 */
function coalescing(send: (keys: readonly string[]) => Promise<void>): {
  send(keys: readonly string[]): Promise<void>;
} {
  let inFlight = false;
  let waiting: {
    keys: string[];
    settle: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
  } | null = null;
  const run = async (keys: readonly string[]): Promise<void> => {
    inFlight = true;
    try {
      await send(keys);
    } finally {
      const next = waiting;
      waiting = null;
      if (next === null) inFlight = false;
      else
        void run(next.keys).then(
          () => {
            for (const s of next.settle) s.resolve();
          },
          (error: unknown) => {
            for (const s of next.settle) s.reject(error);
          },
        );
    }
  };
  return {
    send(keys) {
      if (!inFlight) return run(keys);
      waiting ??= { keys: [], settle: [] };
      const batch = waiting;
      for (const key of keys) if (!batch.keys.includes(key)) batch.keys.push(key);
      return new Promise<void>((resolve, reject) => batch.settle.push({ resolve, reject }));
    },
  };
}

/**
 * The one place a postgres.js pool is opened. Every connection the registry
 * makes to PostgreSQL comes from here (the primary's pool, each replica's,
 * the read router's position clients, the readiness check, the cache
 * invalidation bus, the scripts), so each has the same connect, idle,
 * lifetime and statement timeouts: a database that hangs can hold no caller
 * longer than the configuration says.
 *
 * Two things postgres.js does not bound by itself, found when PostgreSQL was
 * restarted under load (registers hung 6 to 35 s, past every timeout):
 *
 * - After a failed connection attempt it waits `backoff(n)` seconds before a
 *   connection tries again, `3^n / 100` capped at 20 s, with `n` counting the
 *   failures of the whole pool and reset only by a success. A statement handed
 *   to such a connection waits out that delay, even once the server is back;
 *   a restart of a few seconds left connections 10 to 20 s away from their
 *   next try. Here the delay is at most RECONNECT_DELAY_MAX_S.
 * - A statement that finds every connection busy or connecting waits in the
 *   driver's queue with no limit. Here a gate in front of the driver lets at
 *   most `maxConnections` statements (a transaction counts as one, for its
 *   whole length) reach it; the others wait at most the connect timeout, and
 *   never past the deadline of the request they serve, then fail `unavailable`
 *   with `reason: "timeout"` without having been sent.
 * - A connection whose socket closed with a write pending (busy as the server
 *   shut down) is wedged for good (see WEDGED below): each later attempt ends
 *   in CONNECT_TIMEOUT against a healthy server. The driver is replaced when
 *   the server answers again after an outage, and after a CONNECT_TIMEOUT.
 *   A connection's first statement after a reconnect may also fail, unsent,
 *   with its previous session's error (57P01 …): it is run again.
 *
 * The deadline (runtime/deadline-scope.ts): a statement of a request whose
 * time is up is refused before it is sent; when the time runs out, a
 * statement already running on the server is cancelled there; a transaction
 * whose connection came only after the deadline runs nothing and rolls back.
 * So a write refused for its deadline was not applied, unless its last
 * statement had already reached the server and committed before the cancel
 * arrived (see http/deadline.ts for how the answer accounts for that).
 */
import postgres from "postgres";
import { RegistryError } from "../../domain/errors.ts";
import { currentScope, type DeadlineScope } from "../../runtime/deadline-scope.ts";
import { currentRequest } from "../../runtime/request-context.ts";

export type Pool = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** What a statement runs on: a pool, or the connection of an open transaction. */
export type Db = Pool | Tx;

export interface PoolSettings {
  /** Connections in the pool. Default 50; the embedded PGlite takes exactly 1 (see pglite-server.ts). */
  maxConnections?: number;
  /** Close connections idle this long. Default 600 s; 0 keeps them. */
  idleTimeoutSeconds?: number;
  /** Replace connections after this long, so the pool follows DNS and failovers. Default 1800 s; 0 keeps them. */
  maxLifetimeSeconds?: number;
  /** Give up connecting, or waiting for a free connection, after this long. Default 3 s. */
  connectTimeoutSeconds?: number;
  /** Server-side statement timeout. Default 3000 ms; 0 disables it. */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell the registry's connections apart. */
  applicationName?: string;
  /**
   * Statements beyond the pool's size wait in front of the driver for at
   * most the connect timeout (true, the default). False leaves them to the
   * driver's own queue, which pipelines them on busy connections: for the
   * embedded PGlite, whose single connection serves every statement in turn.
   */
  boundedWait?: boolean;
  /**
   * Connections belong to the request being served (runtime/request-context.ts)
   * and close when it ends: for a Worker, where a socket opened for one request
   * cannot be used by another. Each request opens its own, so put a pooler
   * (PgBouncer, Hyperdrive) in front of PostgreSQL. Default false.
   */
  perRequest?: boolean;
}

export const DEFAULT_POOL_SETTINGS: Required<PoolSettings> = {
  maxConnections: 50,
  idleTimeoutSeconds: 600,
  maxLifetimeSeconds: 1800,
  connectTimeoutSeconds: 3,
  statementTimeoutMs: 3000,
  applicationName: "schema-registry",
  boundedWait: true,
  perRequest: false,
};

/** The longest a connection waits before trying again after a failed attempt, seconds. */
export const RECONNECT_DELAY_MAX_S = 0.5;

/**
 * Seconds before the next connection attempt after `failures` failed ones:
 * 20 ms doubling up to RECONNECT_DELAY_MAX_S, with jitter so that the
 * connections of a pool (and of every instance) do not knock at once.
 */
export function reconnectDelaySeconds(failures: number): number {
  const base = Math.min(0.02 * 2 ** Math.max(0, failures - 1), RECONNECT_DELAY_MAX_S);
  return base * (0.5 + Math.random() / 2);
}

/** Connections open lazily: a server that is down delays nothing until a statement needs it. */
export function createPool(url: string, settings: PoolSettings = {}): Pool {
  if (settings.perRequest) return requestScopedPool(url, { ...settings, perRequest: false });
  const s = { ...DEFAULT_POOL_SETTINGS, ...definedOnly(settings) };
  const open = () =>
    postgres(url, {
      max: s.maxConnections,
      idle_timeout: s.idleTimeoutSeconds,
      max_lifetime: s.maxLifetimeSeconds,
      connect_timeout: s.connectTimeoutSeconds,
      backoff: reconnectDelaySeconds,
      prepare: true,
      onnotice: () => {},
      connection: {
        application_name: s.applicationName,
        ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
      },
    });
  let driver = open();
  let renewedAt = Number.NEGATIVE_INFINITY;
  // A connection wedged by postgres.js (see WEDGED) never connects again: statements go to a fresh driver,
  // at most once per connect timeout, while the old one closes its pool connections (what runs on them
  // finishes; a LISTEN it holds for the bus stays, since close() leaves it alone). Done when a statement
  // times out connecting, and when the server answers again after the connections failed: a restart may
  // have wedged some, and a fresh driver leaves them behind before a request meets one.
  const renew = (force = false) => {
    const now = performance.now();
    if (!force && now - renewedAt < s.connectTimeoutSeconds * 1000) return;
    renewedAt = now;
    const wedged = driver;
    driver = open();
    (wedged as unknown as { close(): Promise<void> }).close().catch(() => {});
  };
  const gate = new ConnectionGate(
    s.boundedWait ? s.maxConnections : Number.POSITIVE_INFINITY,
    s.connectTimeoutSeconds * 1000,
  );
  return guardPool(() => driver, gate, renew);
}

/**
 * A pool whose connections are the current request's: each request that runs
 * a statement opens a pool of its own on first use, closed once the request's
 * deferred work is done. Outside a request there is nothing to run on.
 */
function requestScopedPool(url: string, settings: PoolSettings): Pool {
  const owner = Symbol("request pool");
  const current = (): Pool => {
    const request = currentRequest();
    if (!request) {
      throw new RegistryError(
        "unavailable",
        "no request is being served to open a PostgreSQL connection for",
      );
    }
    let pool = request.resources.get(owner) as Pool | undefined;
    if (!pool) {
      const opened = createPool(url, settings);
      pool = opened;
      request.resources.set(owner, opened);
      request.onClose(() => opened.end({ timeout: 1 }));
    }
    return pool;
  };
  const end = async () => {
    const request = currentRequest();
    const pool = request?.resources.get(owner) as Pool | undefined;
    if (!request || !pool) return;
    request.resources.delete(owner);
    await pool.end({ timeout: 1 });
  };
  // Outside a request (an isolate building the registry at start-up), reads of the driver's helpers
  // (`unsafe` fragments, `json`, options) go to a pool that is never connected: no socket, no I/O.
  let detached: Pool | null = null;
  return new Proxy(function requestPool() {} as unknown as Pool, {
    apply: (_target, _this, args) =>
      Reflect.apply(current() as unknown as (...a: unknown[]) => unknown, undefined, args),
    get(_target, property) {
      if (property === "end") return end;
      if (!currentRequest()) detached ??= createPool(url, settings);
      const pool = detached && !currentRequest() ? detached : current();
      const value = Reflect.get(pool as object, property);
      return typeof value === "function" ? value.bind(pool) : value;
    },
  });
}

/** Lets statements in flight finish for up to `timeoutSeconds`, then closes the connections. */
export async function closePool(pool: Pool, timeoutSeconds = 5): Promise<void> {
  await pool.end({ timeout: timeoutSeconds });
}

export function isTransaction(db: Db): db is Tx {
  return "savepoint" in db;
}

/** Runs `work` in `db`'s transaction when it is one, else in a new transaction on the pool. */
export async function atomic<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return work(db);
  return (await db.begin(work)) as T;
}

// ------------------------------------------------------------ the guard

/** What postgres.js's Query is underneath (a Promise subclass run lazily by its pool's handler). */
interface DriverQuery extends Promise<unknown> {
  handler: (query: DriverQuery) => void;
  canceller: ((query: DriverQuery) => Promise<void>) | null;
  /** Set once the statement is written to a connection. */
  state: unknown;
  reject(error: unknown): void;
}

function isQuery(value: unknown): value is DriverQuery {
  return value instanceof Promise && typeof (value as Partial<DriverQuery>).handler === "function";
}

/** The answer for work refused because the request's time is up. */
export function deadlineExceeded(): RegistryError {
  return new RegistryError(
    "unavailable",
    "the request ran out of time waiting for the metadata database; try again",
    { reason: "timeout", retry_after_seconds: 1 },
  );
}

function connectionWaitExceeded(waitedMs: number): RegistryError {
  return new RegistryError(
    "unavailable",
    `no connection to the metadata database came free within ${Math.round(waitedMs)} ms; try again`,
    { reason: "timeout", retry_after_seconds: 1 },
  );
}

/** Asks the server to cancel a statement it is running; one not yet written is left alone. */
function cancelOnServer(query: DriverQuery): void {
  // A statement not yet written may be the one a connecting connection runs first: cancelling it in the
  // driver would leave that connection stuck in its connecting state, so it is left to run or fail.
  if (query.state === null || query.state === undefined || !query.canceller) return;
  const canceller = query.canceller;
  query.canceller = null;
  // The cancel request needs a connection of its own; a server that does not answer it changes nothing.
  canceller(query).catch(() => {});
}

/**
 * SQLSTATEs of a session the server ended or would not open (admin_shutdown, crash_shutdown,
 * cannot_connect_now): no statement of it committed. postgres.js (3.4.9) also keeps such an error from
 * a connection's last session and fails the first statement after it reconnects with it, unsent: after
 * a restart, one statement per connection that was busy when the server went down.
 */
const SESSION_REFUSED = new Set(["57P01", "57P02", "57P03"]);
/**
 * WEDGED: postgres.js (3.4.9) keeps a connection's pending write across a reconnect: when a socket closes
 * with a write scheduled (statements sent as the server shut down), the next session's startup message is
 * queued behind a flush that was cancelled and never runs, so every later attempt of that connection ends
 * in CONNECT_TIMEOUT, even against a healthy server. That is where the restart's 6 to 35 s hangs and the
 * bus's CONNECT_TIMEOUT lines came from; such a connection is only left behind by replacing the driver.
 */
const handlers = new WeakMap<postgres.Sql, (query: DriverQuery) => void>();

/** The function a driver runs its statements with (every Query it writes carries it). */
function handlerOf(sql: postgres.Sql): (query: DriverQuery) => void {
  let handler = handlers.get(sql);
  if (!handler) {
    // A statement that is never run: only its handler is read.
    handler = (sql`` as unknown as DriverQuery).handler;
    handlers.set(sql, handler);
  }
  return handler;
}

/** Failures of the connection rather than of the statement: the server is down, restarting or gone. */
const CONNECTION_LOST = new Set([
  ...SESSION_REFUSED,
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
]);

function lostConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CONNECTION_LOST.has(code);
}

function isWedged(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "CONNECT_TIMEOUT";
}

/** Tries of a statement whose session was refused, the first included. */
const SESSION_ATTEMPTS = 3;

function sessionRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SESSION_REFUSED.has(code);
}

interface Waiter {
  grant(): void;
  refuse(error: unknown): void;
}

/**
 * At most `capacity` statements (or transactions) in the driver at once; the
 * others wait here, first come first served, for at most `waitMs` and never
 * past their request's deadline.
 */
class ConnectionGate {
  #inUse = 0;
  readonly #waiting: Waiter[] = [];

  constructor(
    readonly capacity: number,
    readonly waitMs: number,
  ) {}

  /** Calls `granted` once a slot is held (at once when one is free), or `refused` with why not. */
  acquire(scope: DeadlineScope | undefined, granted: () => void, refused: (error: unknown) => void): void {
    if (scope?.expired) {
      refused(deadlineExceeded());
      return;
    }
    if (this.#inUse < this.capacity) {
      this.#inUse++;
      granted();
      return;
    }
    const started = performance.now();
    const limit = scope ? Math.min(this.waitMs, scope.remainingMs()) : this.waitMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unlisten = () => {};
    const leave = () => {
      clearTimeout(timer);
      unlisten();
      const index = this.#waiting.indexOf(waiter);
      if (index >= 0) this.#waiting.splice(index, 1);
    };
    const waiter: Waiter = {
      grant() {
        leave();
        granted();
      },
      refuse(error) {
        leave();
        refused(error);
      },
    };
    this.#waiting.push(waiter);
    timer = setTimeout(
      () =>
        waiter.refuse(
          scope?.expired || (scope && scope.remainingMs() <= 0)
            ? deadlineExceeded()
            : connectionWaitExceeded(performance.now() - started),
        ),
      limit,
    );
    if (scope) unlisten = scope.onExpire(() => waiter.refuse(deadlineExceeded()));
  }

  release(): void {
    const next = this.#waiting[0];
    // The slot passes straight to the next waiter: in use stays put, and no newcomer jumps the queue.
    if (next) next.grant();
    else this.#inUse--;
  }
}

/**
 * `sql` with every statement through the gate and under the request's
 * deadline. Fragments (a query embedded in another) are never run, so only
 * what is run passes the gate; `json`, `array`, `listen`, `reserve` and
 * `end` are the driver's own.
 */
function guardPool(
  current: () => postgres.Sql,
  gate: ConnectionGate,
  renew: (force?: boolean) => void,
): Pool {
  /** Statements failed for the connection since the last that succeeded: the server went away. */
  let failing = false;
  const settled = (error?: unknown) => {
    if (error === undefined) {
      if (failing) {
        failing = false;
        renew(true);
      }
    } else if (lostConnection(error)) failing = true;
  };
  const guardQuery = (query: DriverQuery): DriverQuery => {
    query.handler = (q) => {
      const scope = currentScope();
      gate.acquire(
        scope,
        () => {
          if (scope?.expired) {
            gate.release();
            return q.reject(deadlineExceeded());
          }
          const untrack = scope?.track({ cancel: () => cancelOnServer(q) });
          const done = () => {
            untrack?.();
            gate.release();
          };
          Promise.prototype.then.call(
            q,
            () => {
              done();
              settled();
            },
            (error: unknown) => {
              done();
              settled(error);
            },
          );
          // A session the server ended or refused never committed the statement: it runs again, on the
          // slot it holds, rather than fail a request on a connection that was dead before it was sent.
          const reject = q.reject;
          let attempts = 1;
          q.reject = (error) => {
            if (isWedged(error)) renew();
            if (attempts >= SESSION_ATTEMPTS || !sessionRefused(error) || scope?.expired)
              return reject(error);
            attempts++;
            q.state = null;
            handlerOf(current())(q);
          };
          // The driver of the moment, not the one the statement was written on: that one may have been
          // replaced (renew) while the statement waited for its slot, and closed drivers serve nothing.
          handlerOf(current())(q);
        },
        (error) => q.reject(error),
      );
    };
    return query;
  };

  const begin = (...args: unknown[]): Promise<unknown> => {
    const work = args.at(-1) as (tx: Tx) => unknown;
    const mode = args.length > 1 ? [args[0]] : [];
    const scope = currentScope();
    const attempt = (attempts: number): Promise<unknown> => {
      let started = false;
      return (current().begin as (...a: unknown[]) => Promise<unknown>)(...mode, (tx: Tx) => {
        // The connection may have come after the deadline: then nothing runs, and the transaction rolls back.
        if (scope?.expired) throw deadlineExceeded();
        started = true;
        return work(scope ? guardTransaction(tx, scope) : tx);
      }).catch((error: unknown) => {
        if (isWedged(error)) renew();
        // BEGIN itself met a session the server had ended: nothing of the work ran, so it may start again.
        if (started || attempts >= SESSION_ATTEMPTS || !sessionRefused(error) || scope?.expired) throw error;
        return attempt(attempts + 1);
      });
    };
    return new Promise<void>((resolve, reject) => gate.acquire(scope, resolve, reject)).then(() =>
      attempt(1).finally(() => gate.release()),
    );
  };

  // The target only makes the proxy callable; everything goes to the driver of the moment.
  return new Proxy(function pool() {} as unknown as postgres.Sql, {
    apply(_target, thisArg, args) {
      const result = Reflect.apply(current() as unknown as (...a: unknown[]) => unknown, thisArg, args);
      return isQuery(result) ? guardQuery(result) : result;
    },
    get(_target, property) {
      if (property === "begin") return begin;
      const sql = current();
      if (property === "unsafe") {
        return (...args: unknown[]) => {
          const result = (sql.unsafe as (...a: unknown[]) => unknown)(...args);
          return isQuery(result) ? guardQuery(result) : result;
        };
      }
      return Reflect.get(sql, property);
    },
  }) as Pool;
}

/**
 * A transaction's statements go straight to its connection (its slot is
 * held); under a deadline each is refused once the time is up and cancelled
 * on the server when it runs out meanwhile, which rolls the transaction back.
 */
function guardTransaction(tx: Tx, scope: DeadlineScope): Tx {
  const guardQuery = (query: DriverQuery): DriverQuery => {
    const driver = query.handler;
    query.handler = (q) => {
      if (scope.expired) return q.reject(deadlineExceeded());
      const untrack = scope.track({ cancel: () => cancelOnServer(q) });
      Promise.prototype.then.call(q, untrack, untrack);
      driver(q);
    };
    return query;
  };
  return new Proxy(tx, {
    apply(target, thisArg, args) {
      const result = Reflect.apply(target, thisArg, args);
      return isQuery(result) ? guardQuery(result) : result;
    },
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (...args: unknown[]) => {
          const result = (target.unsafe as (...a: unknown[]) => unknown)(...args);
          return isQuery(result) ? guardQuery(result) : result;
        };
      }
      return Reflect.get(target, property, receiver);
    },
  }) as Tx;
}

/** An explicit `undefined` (an unset option passed along) means the default, not "none". */
function definedOnly(settings: PoolSettings): PoolSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

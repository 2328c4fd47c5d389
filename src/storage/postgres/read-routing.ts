/**
 * Where a read goes when the registry has streaming replicas
 * (DATABASE_READ_URLS): the decision alone, with no SQL of its own. The
 * replicas' reader handle (read-replicas.ts) asks `pick()` before every read
 * and tells the router about every write.
 *
 * Read-your-writes, by WAL position. A replica's data is exactly what it has
 * replayed, and PostgreSQL reports that position (`pg_last_wal_replay_lsn()`).
 * So after each write commits, the router reads the primary's WAL insert
 * position (`pg_current_wal_insert_lsn()`, which is at or past the end of the
 * commit record whatever `synchronous_commit` says) and keeps the highest one
 * as its high-water mark. A replica is read from only when the replay position
 * it last reported is at or past that mark; otherwise the read goes to the
 * primary. Replay positions are polled in the background and re-read on
 * demand when a replica is found behind, so a replica serves again a few
 * milliseconds after it has caught up. Until the insert position of a write
 * is known (one small query after the commit, not awaited by the write),
 * every read goes to the primary: the write returns at once and no read can
 * slip past it. The position is read only after the commit because one read
 * inside the write's own statement would come before the commit record.
 *
 * The guarantee holds for this instance: a read that starts after a write
 * returned, on any request, sees it. Across instances, `catchUp()` raises the
 * mark to the primary's position of now (the cache's invalidation listener
 * calls it before dropping keys another instance changed), and the reader
 * handle retries on the primary a lookup that a replica answered with "not
 * found" (an id or version that a client holds was created somewhere).
 *
 * Bounded staleness: the primary's position is sampled every `maxLagMs / 4`,
 * and a replica that has not replayed the sample taken `maxLagMs` ago is
 * skipped, so a replica whose replay stalled never serves data older than
 * about `maxLagMs`, even to an instance that never writes.
 *
 * Health: a replica that fails (refuses connections, loses them) is skipped
 * for `retryAfterMs`, doubling up to 30 s while it keeps failing, then probed
 * again by the poll; a server that is not in recovery (a promoted replica, a
 * primary listed by mistake) is never read from, since its WAL positions are
 * not the primary's. Round robin over the replicas that qualify.
 */

/** The later of two WAL positions (Math.max takes no bigint). */
function later(a: bigint, b: bigint): bigint {
  return a >= b ? a : b;
}

/** A WAL position (`16/B374D848`) as a number of bytes. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** How the router learns WAL positions; read-replicas.ts answers with one small connection per server. */
export interface WalPositions {
  /** The primary's WAL insert position now. */
  primary(): Promise<bigint>;
  /** Replica `index`'s replay position; null when that server is not in recovery. */
  replica(index: number): Promise<bigint | null>;
}

export interface RoutingLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ReadRouterOptions {
  /** For logs and statistics (host:port/database, never a password). */
  replicaNames: readonly string[];
  positions: WalPositions;
  /** How often every replica's replay position is read in the background. Default 250 ms. */
  pollIntervalMs?: number;
  /** A replica further behind the primary than about this is skipped; 0 turns the bound off. Default 30 s. */
  maxLagMs?: number;
  /** A failed replica is skipped this long at first, doubling up to 30 s. Default 1000 ms. */
  retryAfterMs?: number;
  /** A lagging replica's position is re-read on demand at most this often. Default 5 ms. */
  minRefreshIntervalMs?: number;
  log?: RoutingLog;
  /** Milliseconds, for tests. Default `performance.now`. */
  now?: () => number;
}

export type ReplicaStatus = "starting" | "up" | "down" | "not_standby";

export interface ReplicaRoutingStats {
  name: string;
  status: ReplicaStatus;
  /** Last replay position reported, `null` before the first. */
  replayLsn: string | null;
  /** WAL bytes behind the primary's last sampled position (0 at or past it); null before both are known. */
  lagBytes: number | null;
  reads: number;
  failures: number;
}

export interface ReadRoutingStats {
  /** The highest position this instance wrote or was told of. */
  highWaterLsn: string;
  /** Reads sent to the primary because no replica qualified (lag, a write in flight, all down). */
  primaryReads: number;
  /** Reads a replica failed or answered "not found", then served by the primary. */
  retriedOnPrimary: number;
  replicas: ReplicaRoutingStats[];
}

const MAX_RETRY_AFTER_MS = 30_000;

interface Replica {
  name: string;
  status: ReplicaStatus;
  replayLsn: bigint | null;
  reads: number;
  failures: number;
  /** Consecutive failures, for the back-off. */
  streak: number;
  retryAt: number;
  /** The position query in flight, if any. */
  refreshing: Promise<void> | null;
  lastRefreshAt: number;
}

interface Waiter {
  target: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class ReadRouter {
  private readonly replicas: Replica[];
  private readonly positions: WalPositions;
  private readonly pollIntervalMs: number;
  private readonly maxLagMs: number;
  private readonly retryAfterMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly log: RoutingLog | undefined;
  private readonly now: () => number;

  private highWater = 0n;
  /** The newest primary position read (writes, catch-ups, the staleness samples), for the lag figure. */
  private primaryLsn: bigint | null = null;
  /** Writes (and catch-up requests) seen, and how many of them the high-water mark covers. */
  private writes = 0;
  private covered = 0;
  private fetching = false;
  private waiters: Waiter[] = [];
  /** Primary positions by time, for the staleness floor; oldest first. */
  private samples: { at: number; lsn: bigint }[] = [];
  private floor = 0n;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  private next = 0;
  private primaryReads = 0;
  private retried = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(options: ReadRouterOptions) {
    this.positions = options.positions;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxLagMs = options.maxLagMs ?? 30_000;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 5;
    this.log = options.log;
    this.now = options.now ?? (() => performance.now());
    this.replicas = options.replicaNames.map((name) => ({
      name,
      status: "starting",
      replayLsn: null,
      reads: 0,
      failures: 0,
      streak: 0,
      retryAt: 0,
      refreshing: null,
      lastRefreshAt: Number.NEGATIVE_INFINITY,
    }));
  }

  /** Starts the background poll (and polls once now). */
  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.pollIntervalMs);
    // Never keep a process alive for the poll alone (Bun and Node; Deno's ids are numbers).
    (this.timer as unknown as { unref?: () => void }).unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new Error("read routing stopped"));
  }

  /**
   * The replica to send a read to, or null for the primary. Counts the read
   * where it goes.
   */
  pick(): number | null {
    if (this.covered < this.writes) {
      this.primaryReads++;
      return null;
    }
    const floor = later(this.highWater, this.floor);
    const count = this.replicas.length;
    for (let step = 0; step < count; step++) {
      const index = (this.next + step) % count;
      const replica = this.replicas[index]!;
      if (replica.status !== "up" || replica.replayLsn === null) continue;
      if (replica.replayLsn >= floor) {
        this.next = index + 1;
        replica.reads++;
        return index;
      }
      // Behind: ask again now rather than at the next poll, so it serves again soon after it caught up.
      this.refresh(index);
    }
    this.primaryReads++;
    return null;
  }

  /** A write committed (or may have): reads go to the primary until its position is known. */
  writeCommitted(): void {
    this.writes++;
    this.fetchWritePosition();
  }

  /**
   * Makes this instance's reads see everything committed on the primary by
   * now: resolves once the primary's position is known (reads go to the
   * primary until then, and after that to replicas that have replayed it).
   */
  catchUp(): Promise<void> {
    const target = ++this.writes;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ target, resolve, reject }));
    this.fetchWritePosition();
    return done;
  }

  /** Raises the high-water mark to a position learned elsewhere (another instance's write). */
  observe(lsn: bigint): void {
    if (lsn > this.highWater) this.highWater = lsn;
  }

  /**
   * A read on replica `index` failed and is retried on the primary; with
   * `down`, the replica is skipped until a probe finds it back.
   */
  replicaFailed(index: number, error: unknown, down: boolean): void {
    this.retried++;
    if (down) this.markDown(index, error);
  }

  /** A replica answered "not found"; the primary is asked too. */
  missRetried(): void {
    this.retried++;
  }

  /** Reads the replica's position now and reports whether it can serve; for health checks. */
  async check(index: number): Promise<ReplicaStatus> {
    // A read that began before the call may predate what the caller wants to know: wait it out, ask anew.
    await this.replicas[index]!.refreshing;
    await this.refreshNow(index);
    return this.replicas[index]!.status;
  }

  stats(): ReadRoutingStats {
    return {
      highWaterLsn: formatLsn(this.highWater),
      primaryReads: this.primaryReads,
      retriedOnPrimary: this.retried,
      replicas: this.replicas.map((replica) => ({
        name: replica.name,
        status: replica.status,
        replayLsn: replica.replayLsn === null ? null : formatLsn(replica.replayLsn),
        lagBytes:
          replica.replayLsn === null || this.primaryLsn === null
            ? null
            : Number(later(this.primaryLsn - replica.replayLsn, 0n)),
        reads: replica.reads,
        failures: replica.failures,
      })),
    };
  }

  // ------------------------------------------------------------- internals

  private tick(): void {
    const now = this.now();
    for (let index = 0; index < this.replicas.length; index++) {
      const replica = this.replicas[index]!;
      if (replica.status === "down" && now < replica.retryAt) continue;
      void this.refreshNow(index);
    }
    if (this.maxLagMs > 0 && now - this.lastSampleAt >= this.maxLagMs / 4) {
      this.lastSampleAt = now;
      this.positions.primary().then(
        (lsn) => this.sample(lsn),
        // The primary down fails the writes and reads that need it; the floor just stays where it was.
        () => {},
      );
    }
  }

  private refresh(index: number): void {
    const replica = this.replicas[index]!;
    if (replica.refreshing || this.now() - replica.lastRefreshAt < this.minRefreshIntervalMs) return;
    void this.refreshNow(index);
  }

  /** Reads the replica's position, or joins the read in flight. */
  private refreshNow(index: number): Promise<void> {
    const replica = this.replicas[index]!;
    replica.refreshing ??= this.readPosition(replica, index).finally(() => {
      replica.refreshing = null;
    });
    return replica.refreshing;
  }

  private async readPosition(replica: Replica, index: number): Promise<void> {
    replica.lastRefreshAt = this.now();
    try {
      const lsn = await this.positions.replica(index);
      if (this.stopped) return;
      if (lsn === null) {
        if (replica.status !== "not_standby") {
          this.log?.warn("a read replica is not in recovery; reads stay off it", { replica: replica.name });
        }
        replica.status = "not_standby";
        return;
      }
      replica.replayLsn = lsn;
      if (replica.status === "down") {
        this.log?.info("read replica is back", { replica: replica.name, replay_lsn: formatLsn(lsn) });
      }
      replica.status = "up";
      replica.streak = 0;
    } catch (error) {
      if (!this.stopped) this.markDown(index, error);
    }
  }

  private markDown(index: number, error: unknown): void {
    const replica = this.replicas[index]!;
    replica.failures++;
    replica.streak++;
    const wait = Math.min(this.retryAfterMs * 2 ** (replica.streak - 1), MAX_RETRY_AFTER_MS);
    replica.retryAt = this.now() + wait;
    if (replica.status !== "down") {
      this.log?.warn("read replica failed; reads go elsewhere", {
        replica: replica.name,
        retry_in_ms: wait,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    replica.status = "down";
  }

  /** One fetch at a time; a write that lands while one is in flight is covered by the next. */
  private fetchWritePosition(): void {
    if (this.fetching || this.stopped) return;
    this.fetching = true;
    void this.fetchLoop();
  }

  private async fetchLoop(): Promise<void> {
    let delay = 10;
    while (this.covered < this.writes && !this.stopped) {
      // Read after the writes returned, so the position covers every one counted so far.
      const target = this.writes;
      try {
        const lsn = await this.positions.primary();
        this.observe(lsn);
        this.sample(lsn);
        this.covered = target;
        this.settle(target, null);
        delay = 10;
      } catch (error) {
        // Reads keep going to the primary meanwhile; those waiting for a catch-up hear why.
        this.settle(target, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.pollIntervalMs);
      }
    }
    this.fetching = false;
  }

  private settle(target: number, error: unknown): void {
    const remaining: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.target > target) remaining.push(waiter);
      else if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
    this.waiters = remaining;
  }

  private sample(lsn: bigint): void {
    if (this.primaryLsn === null || lsn > this.primaryLsn) this.primaryLsn = lsn;
    if (this.maxLagMs <= 0) return;
    const now = this.now();
    // Samples closer together than an eighth of the bound add nothing; the list stays a dozen long.
    const last = this.samples.at(-1);
    if (last === undefined || now - last.at >= this.maxLagMs / 8) this.samples.push({ at: now, lsn });
    // The floor is the newest sample at least maxLagMs old; older ones are no longer needed.
    let newestOld = -1;
    for (let i = 0; i < this.samples.length && now - this.samples[i]!.at >= this.maxLagMs; i++) newestOld = i;
    if (newestOld >= 0) {
      const old = this.samples[newestOld]!.lsn;
      if (old > this.floor) this.floor = old;
      this.samples = this.samples.slice(newestOld + 1);
    }
  }
}

/**
 * Keeps the materialized views fresh without refreshing inside writes: a write
 * marks them stale, and one refresh follows after a debounce, so a burst of
 * writes costs one refresh; a slow schedule catches time passing (the 7-day
 * window of `popular_schemas`). Refreshes never overlap; one requested during
 * a refresh runs after it.
 */
import { backgroundInterval, backgroundTimeout } from "../../runtime/timers.ts";
import type { Pool } from "./pool.ts";

/** Statement timeout inside a refresh's own transaction: a refresh may take longer than a request. */
const REFRESH_STATEMENT_TIMEOUT = "120s";

export interface ViewRefresherOptions {
  /** Delay between the first write that makes views stale and their refresh. */
  debounceMs: number;
  /** Refresh at least this often (0 disables the schedule). */
  intervalMs: number;
  onError: (error: unknown) => void;
}

export class ViewRefresher {
  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private intervalTimer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failedRefreshes = 0;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly options: ViewRefresherOptions,
  ) {}

  get failures(): number {
    return this.failedRefreshes;
  }

  start(): void {
    if (this.options.intervalMs > 0) {
      // refreshNow never rejects; its promise is returned for an edge isolate to wait for (runtime/timers.ts).
      this.intervalTimer ??= backgroundInterval(() => this.refreshNow(), this.options.intervalMs);
    }
  }

  markStale(): void {
    if (this.stopped || this.debounceTimer !== null) return;
    this.debounceTimer = backgroundTimeout(() => {
      this.debounceTimer = null;
      return this.refreshNow();
    }, this.options.debounceMs);
  }

  /** Refreshes now (or right after the refresh in progress); never rejects. */
  refreshNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timers and waits for a refresh in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounceTimer !== null) clearTimeout(this.debounceTimer);
    if (this.intervalTimer !== null) clearInterval(this.intervalTimer);
    this.debounceTimer = null;
    this.intervalTimer = null;
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.refresh();
      } catch (error) {
        this.failedRefreshes++;
        this.options.onError(error);
      }
    } while (this.again && !this.stopped);
  }
}

/**
 * The refresher of the registry's view, `popular_schemas`, on the primary
 * (migration 008 dropped `subject_versions`, which nothing read).
 */
export function createViewRefresher(primary: Pool, options: ViewRefresherOptions): ViewRefresher {
  return new ViewRefresher(async () => {
    await primary.begin(async (tx) => {
      await tx`SELECT set_config('statement_timeout', ${REFRESH_STATEMENT_TIMEOUT}, true)`;
      await tx`REFRESH MATERIALIZED VIEW CONCURRENTLY popular_schemas`;
    });
  }, options);
}

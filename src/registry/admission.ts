/**
 * Admission control: a bound on how many requests of one class (searches and
 * lists; writes) run against the database at once, with a short, bounded
 * queue in front of it.
 *
 * Without it, a burst of trigram searches takes every connection of the pool
 * and PostgreSQL's CPU, and point reads and registers queue behind them until
 * the statement timeout cuts them off. With it, at most `concurrency` of a
 * class run; up to `queue` more wait (first come, first served) for at most
 * `queueTimeoutMs`; anything beyond that is refused at once with 503
 * `unavailable` and a `Retry-After`, which a client can act on, instead of a
 * 3-second timeout it cannot tell from a dead server.
 *
 * In-process and per instance: each instance protects its own share of the
 * database. A leaf of the registry layer, so the service can use it and the
 * composition root can build it from configuration.
 */
import { RegistryError } from "../domain/errors.ts";

export const ADMISSION_CLASSES = ["search", "write"] as const;
export type AdmissionClass = (typeof ADMISSION_CLASSES)[number];

export interface AdmissionBounds {
  /** Requests of the class running at once. */
  concurrency: number;
  /** Requests waiting for a slot; one more is refused at once. 0: no waiting at all. */
  queue: number;
  /** A request waiting longer than this is refused. */
  queueTimeoutMs: number;
}

export interface AdmissionFigures {
  inFlight: number;
  queued: number;
  /** Refused since start: the queue was full, or the wait too long. */
  rejections: number;
}

/** What the service asks of a class's bound. */
export interface Admission {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export const unbounded: Admission = { run: (work) => work() };

interface Waiter {
  admit(): void;
  timer: ReturnType<typeof setTimeout> | null;
}

export class AdmissionGate implements Admission {
  readonly name: AdmissionClass;
  readonly bounds: AdmissionBounds;
  #inFlight = 0;
  #rejections = 0;
  readonly #waiting: Waiter[] = [];

  constructor(name: AdmissionClass, bounds: AdmissionBounds) {
    if (bounds.concurrency < 1) throw new RangeError("concurrency must be at least 1");
    this.name = name;
    this.bounds = bounds;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.bounds.concurrency) await this.#wait();
    else this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  figures(): AdmissionFigures {
    return { inFlight: this.#inFlight, queued: this.#waiting.length, rejections: this.#rejections };
  }

  /** Resolves once a slot is handed over (already counted in flight), or rejects with 503. */
  #wait(): Promise<void> {
    if (this.#waiting.length >= this.bounds.queue) return Promise.reject(this.#refuse("queue_full"));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          resolve();
        },
        timer: null,
      };
      waiter.timer = setTimeout(() => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(this.#refuse("queue_timeout"));
      }, this.bounds.queueTimeoutMs);
      this.#waiting.push(waiter);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter, so in-flight stays put and no newcomer can jump the queue.
    if (next) next.admit();
    else this.#inFlight--;
  }

  #refuse(reason: "queue_full" | "queue_timeout"): RegistryError {
    this.#rejections++;
    const retryAfterSeconds = Math.max(1, Math.ceil(this.bounds.queueTimeoutMs / 1000));
    const what = this.name === "search" ? "searches and lists" : "writes";
    return new RegistryError(
      "unavailable",
      reason === "queue_full"
        ? `too many ${what} at once; try again in ${retryAfterSeconds} s`
        : `${what} waited over ${this.bounds.queueTimeoutMs} ms for the database; try again in ${retryAfterSeconds} s`,
      { class: this.name, reason, retry_after_seconds: retryAfterSeconds },
    );
  }
}

/** One gate per class; null bounds leave that class unbounded. */
export interface AdmissionGates {
  search: AdmissionGate | null;
  write: AdmissionGate | null;
}

export function createAdmissionGates(
  bounds: Partial<Record<AdmissionClass, AdmissionBounds>>,
): AdmissionGates {
  return {
    search: bounds.search ? new AdmissionGate("search", bounds.search) : null,
    write: bounds.write ? new AdmissionGate("write", bounds.write) : null,
  };
}

/**
 * Defaults: at most 4 searches and lists at once (a sixth of the pool below
 * 24 connections) and half the pool's writes, each class with a queue of 32
 * per slot (see admissionFrom), so that a burst waits within
 * QUEUE_TIMEOUT_MS instead of being refused at once.
 *
 * A search is busy in PostgreSQL's CPU for all of its time, so more of them
 * at once than the server has cores only stretch each one and take the CPU
 * that registers and the reads filling the cache need. Measured with the load
 * test at 100,000 schemas, concurrency 100, on two cores, in a search storm
 * (50/5/45): 4 searches at once against 8 (the earlier default) answered as
 * many searches (769/s against 747/s) while reads kept a p95 of 26 ms against
 * 71 ms and registers 114 ms against 218 ms. A register, by contrast, waits
 * on round trips more than it computes: at 90/5/5, 4 writes at once left
 * registers a p95 of 774 ms in the queue, against 167 ms with 25. A larger
 * database server raises the search bound (`SEARCH_CONCURRENCY`).
 */
export const DEFAULT_SEARCH_CONCURRENCY = 4;
/** Waiting requests per slot of a class's bound, unless its queue is set. */
export const DEFAULT_QUEUE_PER_SLOT = 32;

export function defaultAdmission(poolSize: number): { search: number; write: number } {
  return {
    search: Math.max(1, Math.min(DEFAULT_SEARCH_CONCURRENCY, Math.floor(poolSize / 6))),
    write: Math.max(1, Math.floor(poolSize / 2)),
  };
}

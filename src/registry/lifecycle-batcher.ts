/**
 * Group commit of state changes and soft deletes, in the registry layer.
 *
 * Each of these writes is small (lock a row, check it, update it, add a
 * history row and an audit entry), so at a high rate the database spends most
 * of its time on what each statement and each commit costs, and the write
 * admission bound (its slots of writes at once) caps them at so many per round trip.
 * The batcher sends the requests that arrive while earlier batches are in
 * flight together, through `SchemaRepository.applyLifecycle` (one statement,
 * one commit), and the runner the service gives it takes one write slot per
 * batch: the bound counts database work, not requests. A request that finds
 * a free batch slot goes at once, so at a low rate nothing waits and a batch
 * is one request.
 *
 * Every request keeps its own outcome. A batch that fails as a whole leaves
 * nothing behind (the repository's statement is all or nothing); its
 * requests are then sent again one by one, so only the one that causes the
 * failure fails, unless the failure says the database or the bound is
 * unavailable, which one by one would only repeat. Two requests for the same
 * row never share a batch (the second waits for the next one); an `again`
 * outcome (the same row reached by an id and a global id) queues the request
 * again, an `alone` outcome (its row is held by another transaction) sends it
 * in a batch of its own, outside the in-flight bound, so that only it waits
 * for the lock.
 */
import { isRegistryError, RegistryError } from "../domain/errors.ts";
import type { SchemaRecord, SchemaRef } from "../domain/types.ts";
import type { LifecycleOutcome, LifecycleRequest } from "../storage/schema-repository.ts";

export interface LifecycleBatchOptions {
  /** Most requests in one statement. Default 64. */
  maxBatch?: number;
  /** Batches in flight at once (each holds a connection and a write slot). Default 2. */
  maxInFlight?: number;
}

/** What the batcher runs: one statement for `requests`, one outcome each, in order. */
export type LifecycleRunner = (requests: readonly LifecycleRequest[]) => Promise<LifecycleOutcome[]>;

interface Pending {
  request: LifecycleRequest;
  resolve(record: SchemaRecord): void;
  reject(error: unknown): void;
}

export class LifecycleBatcher {
  readonly #run: LifecycleRunner;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  /** Batches the pump sent and the requests in them since start (the tests read them). */
  readonly figures = { batches: 0, requests: 0 };

  constructor(run: LifecycleRunner, options: LifecycleBatchOptions = {}) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 64;
    this.#maxInFlight = options.maxInFlight ?? 2;
    if (this.#maxBatch < 1 || this.#maxInFlight < 1)
      throw new RangeError("batch size and in-flight must be at least 1");
  }

  /** The changed row, or the request's own error. */
  submit(request: LifecycleRequest): Promise<SchemaRecord> {
    return new Promise<SchemaRecord>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      this.figures.batches++;
      this.figures.requests += batch.length;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  /** Up to maxBatch queued requests, first come first served, one per row reference. */
  #take(): Pending[] {
    const batch: Pending[] = [];
    const refs = new Set<string>();
    const rest: Pending[] = [];
    for (const pending of this.#queue) {
      const key = refKey(pending.request.ref);
      if (batch.length < this.#maxBatch && !refs.has(key)) {
        refs.add(key);
        batch.push(pending);
      } else rest.push(pending);
    }
    this.#queue.splice(0, this.#queue.length, ...rest);
    return batch;
  }

  async #send(batch: Pending[]): Promise<void> {
    let outcomes: LifecycleOutcome[];
    try {
      outcomes = await this.#run(batch.map((pending) => pending.request));
    } catch (error) {
      if (batch.length === 1 || (isRegistryError(error) && error.code === "unavailable")) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // Nothing of the statement stayed: each request alone, so only the one that fails fails.
      await Promise.all(batch.map((pending) => this.#send([pending])));
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome === "again") this.#queue.unshift(pending);
      // Outside the in-flight bound: only this request waits for the lock, no batch behind it.
      else if (outcome === "alone") void this.#send([pending]);
      else if (outcome instanceof RegistryError) pending.reject(outcome);
      else if (outcome === undefined)
        pending.reject(new RegistryError("internal", "a lifecycle batch lost a request"));
      else pending.resolve(outcome);
    });
  }
}

function refKey(ref: SchemaRef): string {
  return "id" in ref ? `id:${ref.id.toLowerCase()}` : `global:${ref.globalId}`;
}

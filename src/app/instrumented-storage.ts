/**
 * Times every operation of the Storage, by its method name (`getById`,
 * `register`, `search`, `popularSchemas`, `putSubject`, …: the `operation` label of
 * schema_registry_db_query_duration_seconds, which dashboards select on),
 * without the storage knowing: a Proxy in front of it and in front of each of
 * its parts. Every method that returns a promise is timed until it settles
 * (failures too: a slow timeout is what an operator most needs to see);
 * synchronous ones (`recordRead`) pass through untouched. A transaction is
 * not timed as a whole (its duration is the caller's work), but the parts it
 * hands to its work are instrumented too.
 *
 * A Proxy rather than a hand-written wrapper so that methods added to a part
 * later are timed without a change here, and properties the wrapper does not
 * know about still reach the storage.
 */
import type { Storage } from "../storage/storage.ts";

export type QueryObserver = (operation: string, seconds: number) => void;

/** Told when a timed operation starts and settles: the operations in flight, for the pool-use gauge. */
export interface InFlightCounter {
  started(): void;
  finished(): void;
}

/**
 * Not operations of the metadata store: closing the pools is no query, and
 * `recordRead` counts a read in memory for the access log's next flush (every
 * single-schema read calls it, so it costs no clock reading either).
 */
const UNTIMED = new Set<PropertyKey>(["close", "constructor", "recordRead"]);

export function instrumentStorage<S extends Storage>(
  storage: S,
  observe: QueryObserver,
  inFlight?: InFlightCounter,
): S {
  return instrument(storage, observe, inFlight);
}

function instrument<T extends object>(target: T, observe: QueryObserver, inFlight?: InFlightCounter): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof property === "symbol") return typeof value === "function" ? value.bind(object) : value;
      const known = wrapped.get(property);
      if (known !== undefined) return known;
      let result: unknown;
      if (typeof value === "function") {
        result = UNTIMED.has(property)
          ? value.bind(object)
          : property === "transaction"
            ? (work: (tx: object) => Promise<unknown>) =>
                (value as (work: (tx: object) => Promise<unknown>) => Promise<unknown>).call(object, (tx) =>
                  work(instrument(tx, observe, inFlight)),
                )
            : timed(property, value as (...args: unknown[]) => unknown, object, observe, inFlight);
      } else if (isPart(value)) {
        // A part (schemas, search, reads, contentLocks, settings): its methods are the operations.
        result = instrument(value, observe, inFlight);
      } else {
        return value;
      }
      wrapped.set(property, result);
      return result;
    },
  });
}

/** An object with methods, as opposed to a figure like `failures` (or a promise, which is no part). */
function isPart(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isThenable(value);
}

function timed(
  operation: string,
  method: (...args: unknown[]) => unknown,
  target: object,
  observe: QueryObserver,
  inFlight?: InFlightCounter,
): (...args: unknown[]) => unknown {
  return (...args) => {
    const started = performance.now();
    const result = method.apply(target, args);
    if (!isThenable(result)) return result;
    inFlight?.started();
    const done = () => {
      inFlight?.finished();
      observe(operation, (performance.now() - started) / 1000);
    };
    return result.then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  };
}

function isThenable(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

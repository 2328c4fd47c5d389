/**
 * Times every operation of a StorageBackend, by its method name, without the
 * backend knowing: a Proxy in front of it. Every method that returns a
 * promise is timed until it settles (failures too: a slow timeout is what an
 * operator most needs to see); synchronous ones (`recordRead`) pass through
 * untouched. A transaction is not timed as a whole (its duration is the
 * caller's work), but the backend it hands to its work is instrumented too.
 *
 * A Proxy rather than a hand-written wrapper so that methods other parts add
 * to the backend later are timed without a change here, and properties the
 * wrapper does not know about still reach the backend.
 */
import type { StorageBackend } from "../storage/backend.ts";

export type QueryObserver = (operation: string, seconds: number) => void;

/** Not operations of the metadata store: closing the pool is no query. */
const UNTIMED = new Set<PropertyKey>(["close", "constructor"]);

export function instrumentBackend<B extends StorageBackend>(backend: B, observe: QueryObserver): B {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(backend, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || UNTIMED.has(property) || typeof property === "symbol") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      let fn = wrapped.get(property);
      if (fn === undefined) {
        fn =
          property === "transaction"
            ? (work: (tx: StorageBackend) => Promise<unknown>) =>
                target.transaction((tx) => work(instrumentBackend(tx, observe)))
            : timed(property, value as (...args: unknown[]) => unknown, target, observe);
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

function timed(
  operation: string,
  method: (...args: unknown[]) => unknown,
  target: object,
  observe: QueryObserver,
): (...args: unknown[]) => unknown {
  return (...args) => {
    const started = performance.now();
    const result = method.apply(target, args);
    if (!isThenable(result)) return result;
    const done = () => observe(operation, (performance.now() - started) / 1000);
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

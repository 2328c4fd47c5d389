/**
 * Fault injection for L2 tests: wraps a real driver (talking to the real
 * Redis) and, on demand, delays every call or makes it fail, the way a slow or
 * unreachable Redis would. Counts the calls that reached it.
 */
import type { RemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";

export interface FaultyDriver extends RemoteCacheDriver {
  faults: { delayMs: number; fail: boolean };
  calls: number;
}

export function withFaults(inner: RemoteCacheDriver): FaultyDriver {
  const faults = { delayMs: 0, fail: false };
  const wrapped = { faults, calls: 0 } as FaultyDriver;
  const guard = async <R>(work: () => Promise<R>): Promise<R> => {
    wrapped.calls++;
    if (faults.delayMs > 0) await Bun.sleep(faults.delayMs);
    if (faults.fail) throw new Error("injected: connection refused");
    return work();
  };
  Object.assign(wrapped, {
    name: inner.name,
    get: (key: string) => guard(() => inner.get(key)),
    getMany: (keys: readonly string[]) => guard(() => inner.getMany(keys)),
    set: (key: string, value: string, ttl: number) => guard(() => inner.set(key, value, ttl)),
    setMany: (entries: Parameters<RemoteCacheDriver["setMany"]>[0]) => guard(() => inner.setMany(entries)),
    delete: (key: string) => guard(() => inner.delete(key)),
    deleteMany: (keys: readonly string[]) => guard(() => inner.deleteMany(keys)),
    ping: () => guard(() => inner.ping()),
    close: () => inner.close(),
  });
  return wrapped;
}

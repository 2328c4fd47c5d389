/**
 * The edge node's generation check (app/edge-coherence.ts) against the
 * machine's Redis: a request waits for the check only once a stamp is known;
 * what requests cached before the first stamp was read is dropped when it
 * is; a stamp moved by another node's write drops L1 at the next check due.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createEdgeCoherence } from "../../src/app/edge-coherence.ts";
import { GuardedRemote } from "../../src/cache/l2/guarded-remote.ts";
import { createRemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";

const available = await requireRedis("edge coherence suite");
const prefix = uniquePrefix("edge-coherence");

describe.skipIf(!available)("edge coherence", () => {
  let remote: GuardedRemote;

  beforeAll(async () => {
    remote = new GuardedRemote(await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL }));
  });

  afterAll(async () => {
    await deleteByPrefix(prefix);
    await remote?.driver.close();
  });

  function node(key: string, intervalMs: number) {
    let drops = 0;
    const coherence = createEdgeCoherence({ remote, key, intervalMs, drop: () => drops++ });
    return { coherence, drops: () => drops };
  }

  test("the first request does not wait; the first stamp drops what was cached before it", async () => {
    const key = `${prefix}:first`;
    const fresh = node(key, 60_000);
    expect(fresh.coherence.fresh()).toBeUndefined();
    const running = fresh.coherence.pending();
    expect(running).not.toBeNull();
    // A second request before the stamp is known does not wait either, and starts no second check.
    expect(fresh.coherence.fresh()).toBeUndefined();
    expect(fresh.coherence.pending()).toBe(running);
    await running;
    expect(fresh.drops()).toBe(1);
    expect(fresh.coherence.stats()).toEqual({ checks: 1, drops: 0 });
    expect(fresh.coherence.pending()).toBeNull();
    // Checked within the interval: nothing to wait for, nothing dropped.
    expect(fresh.coherence.fresh()).toBeUndefined();
    expect(fresh.drops()).toBe(1);
  });

  test("once a stamp is known, a due check is awaited and another node's write drops L1", async () => {
    const key = `${prefix}:moved`;
    const reader = node(key, 20);
    const writer = node(key, 20);
    reader.coherence.fresh();
    await reader.coherence.pending();
    const before = reader.drops();

    await writer.coherence.changes.schemaChanged({} as never);
    await Bun.sleep(25);
    const check = reader.coherence.fresh();
    expect(check).toBeInstanceOf(Promise);
    await check;
    expect(reader.drops()).toBe(before + 1);
    expect(reader.coherence.stats().drops).toBe(1);

    // No write since: the next due check keeps L1.
    await Bun.sleep(25);
    await reader.coherence.fresh();
    expect(reader.drops()).toBe(before + 1);
  });
});

/**
 * The retrying bus on the machine's PostgreSQL: an instance whose LISTEN
 * fails at start still invalidates locally, and once it listens, sends what
 * it invalidated meanwhile and resyncs; a NOTIFY that fails (injected once
 * in front of a real bus) is sent again, so the other instance hears of it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createRetryingBus } from "../../src/cache/bus/retrying-bus.ts";
import {
  createInvalidationBus,
  type InvalidationBus,
  type InvalidationEvent,
} from "../../src/cache/index.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

async function until(done: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}

describe.skipIf(!available)("retrying invalidation bus", () => {
  let database: TestDatabase;
  const clients: postgres.Sql[] = [];
  const buses: InvalidationBus[] = [];
  const channel = `retry_${crypto.randomUUID().slice(0, 8)}`;
  let heard: InvalidationEvent[] = [];

  const client = () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    clients.push(sql);
    return sql;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const other = await createInvalidationBus(client(), { channel, instanceId: "other" });
    other.subscribe((event) => {
      if (event.source === "remote") heard.push(event);
    });
    buses.push(other);
  });
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    for (const sql of clients) await sql.end({ timeout: 1 });
    await database?.drop();
  });

  test("LISTEN failing at start: local invalidation at once, the keys sent and a resync once it listens", async () => {
    heard = [];
    let attempts = 0;
    const local: InvalidationEvent[] = [];
    const bus = await createRetryingBus(
      async () => {
        attempts++;
        if (attempts < 3) throw new Error("database down");
        return createInvalidationBus(client(), { channel, instanceId: "late" });
      },
      { initialDelayMs: 20, instanceId: "late" },
    );
    buses.push(bus);
    bus.subscribe((event) => {
      local.push(event);
    });
    expect(bus.connected).toBe(false);
    await bus.publish(["schema:id:a", "subject:s:latest"]);
    expect(local.map((e) => [e.source, e.keys])).toEqual([["local", ["schema:id:a", "subject:s:latest"]]]);
    expect(bus.stats().pendingKeys).toBe(2);

    await until(() => bus.connected && heard.length > 0);
    expect(heard.flatMap((e) => e.keys)).toEqual(["schema:id:a", "subject:s:latest"]);
    expect(local.some((e) => e.source === "resync")).toBe(true);
    expect(bus.stats().pendingKeys).toBe(0);
  });

  test("a NOTIFY that fails is sent again; the publisher's own invalidation is not held up", async () => {
    heard = [];
    const real = await createInvalidationBus(client(), { channel, instanceId: "flaky" });
    let failures = 1;
    const flaky: InvalidationBus = {
      instanceId: real.instanceId,
      channel: real.channel,
      async publish(keys, tx) {
        if (failures-- > 0) throw new Error("connection lost mid-NOTIFY");
        return real.publish(keys, tx);
      },
      subscribe: (handler) => real.subscribe(handler),
      stats: () => real.stats(),
      close: () => real.close(),
    };
    const errors: number[] = [];
    const bus = await createRetryingBus(async () => flaky, {
      initialDelayMs: 20,
      onPublishError: (_, keys) => errors.push(keys),
    });
    buses.push(bus);
    await bus.publish(["schema:gid:9"]);
    expect(errors).toEqual([1]);
    expect(bus.stats()).toMatchObject({ pendingKeys: 1, publishFailures: 1 });
    await until(() => heard.length > 0);
    expect(heard.flatMap((e) => e.keys)).toEqual(["schema:gid:9"]);
    expect(bus.stats().pendingKeys).toBe(0);
  });

  test("the pending list is bounded: the oldest keys are dropped and counted", async () => {
    const bus = await createRetryingBus(
      async () => {
        throw new Error("database down");
      },
      { initialDelayMs: 60_000, maxPendingKeys: 3 },
    );
    buses.push(bus);
    await bus.publish(["a", "b", "c"]);
    await bus.publish(["d", "e"]);
    expect(bus.stats()).toMatchObject({ pendingKeys: 3, droppedKeys: 2 });
  });
});

/**
 * The invalidation bus on a fresh database of the machine's PostgreSQL, with
 * two postgres.js clients standing for two instances: delivery to the other
 * instance and back to the publisher, nothing delivered for a transaction that
 * rolled back or before its commit, chunking under NOTIFY's limit, recovery
 * after the listening connection is lost, and delivery latency (goal < 100 ms).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import {
  createInvalidationBus,
  encodePayloads,
  type InvalidationBus,
  type InvalidationEvent,
  MAX_PAYLOAD_BYTES,
} from "../../src/cache/bus/invalidation-bus.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

/** Collects events and lets a test wait for one that matches. */
function recorder(bus: InvalidationBus) {
  const events: (InvalidationEvent & { at: number })[] = [];
  const waiters: { match: (e: InvalidationEvent) => boolean; resolve: (e: InvalidationEvent) => void }[] = [];
  bus.subscribe((event) => {
    events.push({ ...event, at: performance.now() });
    for (const waiter of [...waiters]) {
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  const waitFor = (match: (e: InvalidationEvent) => boolean, timeoutMs = 2_000) =>
    new Promise<InvalidationEvent>((resolve, reject) => {
      const found = events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error("no matching invalidation event arrived")), timeoutMs);
      waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  return { events, waitFor };
}

const hasKey = (key: string) => (e: InvalidationEvent) => e.keys !== "all" && e.keys.includes(key);

describe("payload encoding", () => {
  test("chunks stay under NOTIFY's limit and carry every key once", () => {
    const keys = Array.from(
      { length: 3_000 },
      (_, i) => `subject:com.acme.chat.Subject${i}:version:1.${i}.0`,
    );
    const payloads = encodePayloads("instance-a", keys, true);
    expect(payloads.length).toBeGreaterThan(10);
    const seen: string[] = [];
    for (const payload of payloads) {
      expect(new TextEncoder().encode(payload).length).toBeLessThan(MAX_PAYLOAD_BYTES);
      const message = JSON.parse(payload);
      expect(message).toMatchObject({ o: "instance-a", t: 1 });
      seen.push(...message.k);
    }
    expect(seen).toEqual(keys);
  });

  test("multi-byte keys are measured in bytes", () => {
    const keys = Array.from({ length: 400 }, (_, i) => `subject:ü€😀-${i}`);
    for (const payload of encodePayloads("a", keys, false)) {
      expect(new TextEncoder().encode(payload).length).toBeLessThan(MAX_PAYLOAD_BYTES);
    }
  });

  test("a key too long for any payload becomes a drop-everything message", () => {
    const [payload, ...rest] = encodePayloads("a", ["short", "x".repeat(9_000)], false);
    expect(rest).toEqual([]);
    expect(JSON.parse(payload!)).toMatchObject({ o: "a", a: 1 });
  });
});

describe.skipIf(!available)("over PostgreSQL", () => {
  let db: TestDatabase;
  let sqlA: postgres.Sql;
  let sqlB: postgres.Sql;
  let busA: InvalidationBus;
  let busB: InvalidationBus;
  let a: ReturnType<typeof recorder>;
  let b: ReturnType<typeof recorder>;
  const options = { max: 4, idle_timeout: 5, connect_timeout: 3, onnotice: () => {} };

  beforeAll(async () => {
    db = await createTestDatabase();
    sqlA = postgres(db.url, options);
    sqlB = postgres(db.url, options);
    busA = await createInvalidationBus(sqlA, { channel: "cache_test", instanceId: "A" });
    busB = await createInvalidationBus(sqlB, { channel: "cache_test", instanceId: "B" });
    a = recorder(busA);
    b = recorder(busB);
  });

  afterAll(async () => {
    await busA?.close();
    await busB?.close();
    await sqlA?.end({ timeout: 1 });
    await sqlB?.end({ timeout: 1 });
    await db?.drop();
  });

  test("the publisher applies at once; the other instance and the publisher's echo follow", async () => {
    await busA.publish(["schema:id:1", "schema:gid:1"]);
    // Applied here before publish returned.
    expect(a.events.find(hasKey("schema:id:1"))).toMatchObject({
      source: "local",
      origin: "A",
      transactional: false,
    });
    const remote = await b.waitFor(hasKey("schema:id:1"));
    expect(remote).toMatchObject({ source: "remote", origin: "A", keys: ["schema:id:1", "schema:gid:1"] });
    expect(await a.waitFor((e) => e.source === "echo" && hasKey("schema:id:1")(e))).toMatchObject({
      origin: "A",
    });
  });

  test("a NOTIFY sent in a transaction that rolls back is never delivered", async () => {
    await expect(
      sqlA.begin(async (tx) => {
        await busA.publish(["rolled-back"], tx);
        throw new Error("abort the write");
      }),
    ).rejects.toThrow("abort the write");
    // Local invalidation happened at once (harmless: a miss).
    expect(a.events.some((e) => e.source === "local" && hasKey("rolled-back")(e))).toBe(true);
    // A later notification from the same publisher arrives; the rolled-back one would have come before it.
    await busA.publish(["marker-after-rollback"]);
    await b.waitFor(hasKey("marker-after-rollback"));
    await a.waitFor((e) => e.source === "echo" && hasKey("marker-after-rollback")(e));
    expect(b.events.some(hasKey("rolled-back"))).toBe(false);
    expect(a.events.some((e) => e.source === "echo" && hasKey("rolled-back")(e))).toBe(false);
  });

  test("a transactional NOTIFY arrives only after the commit", async () => {
    let committedAt = 0;
    await sqlA.begin(async (tx) => {
      await busA.publish(["held-until-commit"], tx);
      await Bun.sleep(150);
      expect(b.events.some(hasKey("held-until-commit"))).toBe(false);
    });
    committedAt = performance.now();
    const event = await b.waitFor(hasKey("held-until-commit"));
    expect(event.transactional).toBe(true);
    const arrived = b.events.find(hasKey("held-until-commit"))!.at;
    expect(arrived).toBeGreaterThanOrEqual(committedAt - 5);
  });

  test("publishes made while a NOTIFY is on its way go out together, and every key arrives", async () => {
    const before = busA.stats().notificationsSent;
    const keys = Array.from({ length: 40 }, (_, i) => `together:${i}`);
    await Promise.all(keys.map((key) => busA.publish([key])));
    for (const key of keys) await b.waitFor(hasKey(key));
    const sent = busA.stats().notificationsSent - before;
    // The first goes alone; the 39 that came while it was out share the next one.
    expect(sent).toBeLessThan(keys.length / 4);
    expect(sent).toBeGreaterThanOrEqual(2);
  });

  test("thousands of keys arrive complete, in several notifications", async () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `bulk:${i}:${"k".repeat(30)}`);
    const before = busA.stats().notificationsSent;
    await busA.publish(keys);
    expect(busA.stats().notificationsSent - before).toBeGreaterThan(5);
    await b.waitFor(hasKey(keys.at(-1)!));
    const received = new Set(
      b.events.flatMap((e) => (e.keys === "all" ? [] : e.keys.filter((k) => k.startsWith("bulk:")))),
    );
    expect(received.size).toBe(keys.length);
  });

  test("commit-to-delivery latency stays under 100 ms", async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const key = `latency:${i}`;
      await sqlA.begin(async (tx) => {
        await busA.publish([key], tx);
      });
      const committed = performance.now();
      await b.waitFor(hasKey(key));
      latencies.push(b.events.find(hasKey(key))!.at - committed);
    }
    latencies.sort((x, y) => x - y);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    console.log(
      `bus delivery after commit (40 runs, indicative): p50 ${pct(0.5).toFixed(2)} ms, p95 ${pct(0.95).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
    );
    expect(pct(0.5)).toBeLessThan(100);
    expect(pct(0.95)).toBeLessThan(100);
  });

  test("after its listening connection is killed, a subscriber resyncs and hears again", async () => {
    const before = busB.stats().resyncs;
    // Kill both instances' LISTEN connections (A's pool keeps its query connection): B must recover by itself.
    await sqlA`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${db.name} and pid <> pg_backend_pid() and query ilike 'listen%'`;
    await b.waitFor((e) => e.source === "resync" && e.keys === "all", 5_000);
    expect(busB.stats().resyncs).toBeGreaterThan(before);
    await busA.publish(["after-reconnect"]);
    await b.waitFor(hasKey("after-reconnect"), 5_000);
  });

  test("when listening again fails for a while, the bus still recovers, once", async () => {
    const role = `bus_test_${crypto.randomUUID().slice(0, 8)}`;
    await sqlA.unsafe(`create role ${role} login`);
    const url = new URL(db.url);
    url.username = role;
    const sqlC = postgres(url.toString(), { ...options, max: 2, idle_timeout: 0.2, connect_timeout: 1 });
    const busC = await createInvalidationBus(sqlC, { channel: "cache_test", instanceId: "C" });
    const c = recorder(busC);
    try {
      // Longer than the connect timeout: postgres.js's re-LISTEN fails several times before it gets in.
      await sqlA.unsafe(`alter role ${role} nologin`);
      await sqlA`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role}`;
      await Bun.sleep(1_500);
      await sqlA.unsafe(`alter role ${role} login`);
      await c.waitFor((e) => e.source === "resync", 5_000);
      await busA.publish(["after-outage"]);
      await c.waitFor(hasKey("after-outage"), 5_000);
      await Bun.sleep(50);
      // Delivered once, not once per failed attempt.
      expect(c.events.filter(hasKey("after-outage"))).toHaveLength(1);
      expect(c.events.filter((e) => e.source === "resync")).toHaveLength(1);
    } finally {
      await busC.close();
      await sqlC.end({ timeout: 1 });
      await sqlA.unsafe(`drop role if exists ${role}`);
    }
  });
});

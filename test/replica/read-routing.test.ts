/**
 * The ReadRouter's decisions on their own, with WAL positions and a clock the
 * test controls: round robin, read-your-writes by position, catching up,
 * skipping failed and lagging replicas, and the staleness bound. The same
 * decisions against a real replica are in read-replicas.test.ts.
 */
import { describe, expect, test } from "bun:test";
import {
  formatLsn,
  parseLsn,
  ReadRouter,
  type ReadRouterOptions,
} from "../../src/storage/postgres/read-routing.ts";

/** Positions the test sets; a replica set to an Error fails its query. */
class FakeServers {
  primaryLsn = 100n;
  primaryDown = false;
  replicas: (bigint | null | Error)[];
  primaryCalls = 0;
  replicaCalls: number[];
  /** When set, the primary's answer waits for release(). */
  private gate: { promise: Promise<void>; release: () => void } | null = null;

  constructor(replicas: (bigint | null | Error)[]) {
    this.replicas = replicas;
    this.replicaCalls = replicas.map(() => 0);
  }

  hold(): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gate = { promise, release };
  }

  release(): void {
    this.gate?.release();
    this.gate = null;
  }

  positions: ReadRouterOptions["positions"] = {
    primary: async () => {
      this.primaryCalls++;
      if (this.gate) await this.gate.promise;
      if (this.primaryDown) throw new Error("primary down");
      return this.primaryLsn;
    },
    replica: async (index) => {
      this.replicaCalls[index]!++;
      const value = this.replicas[index]!;
      if (value instanceof Error) throw value;
      return value;
    },
  };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function router(servers: FakeServers, clock: { now: number }, options: Partial<ReadRouterOptions> = {}) {
  return new ReadRouter({
    replicaNames: servers.replicas.map((_, i) => `replica-${i}`),
    positions: servers.positions,
    now: () => clock.now,
    // The background poll is driven by hand (start() polls once); keep the timer out of the way.
    pollIntervalMs: 1_000_000,
    minRefreshIntervalMs: 0,
    ...options,
  });
}

describe("WAL positions", () => {
  test("parse and format round trip, and order as bytes", () => {
    expect(parseLsn("0/0")).toBe(0n);
    expect(parseLsn("16/B374D848")).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe("16/B374D848");
    expect(parseLsn("1/0") > parseLsn("0/FFFFFFFF")).toBe(true);
    expect(() => parseLsn("nonsense")).toThrow("not a WAL position");
  });
});

describe("ReadRouter", () => {
  test("no replica is read from before it reported a position; then round robin", async () => {
    const servers = new FakeServers([50n, 60n]);
    const clock = { now: 0 };
    const r = router(servers, clock);
    expect(r.pick()).toBeNull();
    r.start();
    await settle();
    expect([r.pick(), r.pick(), r.pick(), r.pick()]).toEqual([0, 1, 0, 1]);
    expect(r.stats().replicas.map((replica) => replica.reads)).toEqual([2, 2]);
    expect(r.stats().primaryReads).toBe(1);
    r.stop();
  });

  test("after a write, reads go to the primary until its position is known, then to replicas that replayed it", async () => {
    const servers = new FakeServers([100n, 100n]);
    const clock = { now: 0 };
    const r = router(servers, clock);
    r.start();
    await settle();
    expect(r.pick()).not.toBeNull();

    servers.primaryLsn = 200n;
    servers.hold();
    r.writeCommitted();
    // The write's position is not known yet: nothing may go to a replica.
    expect(r.pick()).toBeNull();
    servers.release();
    await settle();
    expect(r.stats().highWaterLsn).toBe(formatLsn(200n));
    // Both replicas are at 100: still the primary, and each behind one is asked again.
    const asked = [...servers.replicaCalls];
    expect(r.pick()).toBeNull();
    await settle();
    expect(servers.replicaCalls[0]).toBe(asked[0]! + 1);

    servers.replicas[1] = 200n;
    expect(r.pick()).toBeNull();
    await settle();
    expect(r.pick()).toBe(1);
    expect(r.pick()).toBe(1);
    r.stop();
  });

  test("a write that lands while a position is being read is covered by another read", async () => {
    const servers = new FakeServers([1000n]);
    const clock = { now: 0 };
    const r = router(servers, clock);
    r.start();
    await settle();

    servers.primaryLsn = 200n;
    servers.hold();
    r.writeCommitted();
    await settle();
    // A second write commits after the first position query went out.
    r.writeCommitted();
    servers.primaryLsn = 300n;
    servers.release();
    await settle();
    await settle();
    expect(servers.primaryCalls).toBeGreaterThanOrEqual(3);
    expect(r.stats().highWaterLsn).toBe(formatLsn(300n));
    expect(r.pick()).toBe(0);
    r.stop();
  });

  test("catchUp resolves once the primary's position is known, and rejects when the primary does not answer", async () => {
    const servers = new FakeServers([100n]);
    const clock = { now: 0 };
    const r = router(servers, clock);
    r.start();
    await settle();
    servers.primaryLsn = 500n;
    await r.catchUp();
    expect(r.stats().highWaterLsn).toBe(formatLsn(500n));
    expect(r.pick()).toBeNull();

    servers.primaryDown = true;
    await expect(r.catchUp()).rejects.toThrow("primary down");
    // Still unknown: reads stay on the primary while the router keeps asking.
    expect(r.pick()).toBeNull();
    servers.primaryDown = false;
    servers.replicas[0] = 500n;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The poll would refresh the replica's position; here a lagging pick does.
    r.pick();
    await settle();
    expect(r.pick()).toBe(0);
    r.stop();
  });

  test("a failed replica is skipped, then probed again after the back-off", async () => {
    const servers = new FakeServers([100n, 100n]);
    const clock = { now: 0 };
    const r = router(servers, clock, { retryAfterMs: 1000, pollIntervalMs: 10 });
    r.start();
    await settle();
    r.replicaFailed(0, new Error("connection refused"), true);
    servers.replicas[0] = new Error("connection refused");
    expect([r.pick(), r.pick(), r.pick()]).toEqual([1, 1, 1]);
    expect(r.stats().replicas[0]).toMatchObject({ status: "down", failures: 1 });
    expect(r.stats().retriedOnPrimary).toBe(1);

    // Polls before the back-off has passed leave it alone.
    const calls = servers.replicaCalls[0]!;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(servers.replicaCalls[0]).toBe(calls);

    servers.replicas[0] = 100n;
    clock.now = 1001;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(r.stats().replicas[0]!.status).toBe("up");
    expect(new Set([r.pick(), r.pick()])).toEqual(new Set([0, 1]));
    r.stop();
  });

  test("a server that is not in recovery is never read from", async () => {
    const servers = new FakeServers([null]);
    const clock = { now: 0 };
    const warnings: string[] = [];
    const r = router(servers, clock, { log: { info() {}, warn: (message) => warnings.push(message) } });
    r.start();
    await settle();
    expect(r.pick()).toBeNull();
    expect(r.stats().replicas[0]!.status).toBe("not_standby");
    expect(warnings).toEqual(["a read replica is not in recovery; reads stay off it"]);
    r.stop();
  });

  test("a replica whose replay stalled stops serving once it is more than maxLagMs behind", async () => {
    const servers = new FakeServers([100n]);
    const clock = { now: 0 };
    const r = router(servers, clock, { maxLagMs: 1000, pollIntervalMs: 5 });
    r.start();
    await settle();
    expect(r.pick()).toBe(0);

    // The primary moves on; this instance writes nothing, the replica replays nothing.
    servers.primaryLsn = 900n;
    clock.now = 300;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.pick()).toBe(0);
    clock.now = 1400;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.pick()).toBeNull();

    servers.replicas[0] = 900n;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.pick()).toBe(0);
    r.stop();
  });

  test("observe raises the mark to a position learned elsewhere", async () => {
    const servers = new FakeServers([100n]);
    const clock = { now: 0 };
    const r = router(servers, clock);
    r.start();
    await settle();
    r.observe(150n);
    expect(r.pick()).toBeNull();
    r.observe(120n);
    expect(r.stats().highWaterLsn).toBe(formatLsn(150n));
    r.stop();
  });
});

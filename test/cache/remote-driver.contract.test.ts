/**
 * One contract for every L2 driver: ioredis over TCP on the machine's Redis,
 * ioredis on the primary of a Sentinel group and on a three-node Redis
 * Cluster (both started by this file from the machine's redis-server, with
 * passwords), and @upstash/redis over HTTP through the REST bridge. All must
 * store and read the same bytes, so ioredis and Upstash each also read what
 * the other wrote.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Cluster, Redis } from "ioredis";
import { createRemoteCacheDriver, type RemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";
import {
  type ClusterTopology,
  requireRedisServer,
  type SentinelTopology,
  startClusterTopology,
  startSentinelTopology,
} from "../support/redis-topologies.ts";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge.ts";

const available = await requireRedis("L2 driver contract suite");
const topologies = available && requireRedisServer("L2 driver contract suite on Sentinel and Cluster");
const prefix = uniquePrefix("driver");

let bridge: UpstashBridge;
let sentinel: SentinelTopology | undefined;
let cluster: ClusterTopology | undefined;
/** Plain clients of each driver's Redis, to look behind the driver (TTLs). */
const raw: Record<string, Redis | Cluster> = {};
const drivers: Record<string, RemoteCacheDriver> = {};

/** The TTL Redis holds for `key`, in seconds (rounded up). */
const ttlOf = async (name: string, key: string) => Math.ceil((await raw[name]!.pttl(key)) / 1000);

beforeAll(async () => {
  if (!available) return;
  bridge = await startUpstashBridge(REDIS_TEST_URL);
  raw.ioredis = raw.upstash = new Redis(REDIS_TEST_URL);
  drivers.ioredis = await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL });
  drivers.upstash = await createRemoteCacheDriver({ kind: "upstash", url: bridge.url, token: bridge.token });
  if (!topologies) return;
  [sentinel, cluster] = await Promise.all([
    startSentinelTopology({ password: "data-secret", sentinelPassword: "sentinel-secret" }),
    startClusterTopology({ password: "cluster-secret" }),
  ]);
  const group = {
    sentinels: sentinel.sentinels,
    master: sentinel.master,
    password: "data-secret",
    sentinelPassword: "sentinel-secret",
  };
  drivers.sentinel = await createRemoteCacheDriver({ kind: "sentinel", ...group });
  raw.sentinel = new Redis({ ...group, name: group.master });
  drivers.cluster = await createRemoteCacheDriver({
    kind: "cluster",
    nodes: cluster.nodes,
    password: "cluster-secret",
  });
  raw.cluster = cluster.client();
});

afterAll(async () => {
  if (!available) return;
  for (const driver of Object.values(drivers)) await driver.close();
  for (const client of new Set(Object.values(raw))) client.disconnect();
  await bridge.stop();
  await deleteByPrefix(prefix);
  await sentinel?.stop();
  await cluster?.stop();
});

// Text a byte-for-byte store must keep: multi-byte UTF-8, escapes, JSON-looking and base64-looking strings.
const AWKWARD = [
  'plain {"a":1}',
  "ünïcødé ✓ 😀 中文 \u0000 nul",
  "T0s=",
  "OK",
  "123",
  "  spaces  \n\ttabs",
  "x".repeat(200_000),
];

const NAMES: Record<string, string> = {
  ioredis: "ioredis",
  upstash: "upstash",
  sentinel: "ioredis-sentinel",
  cluster: "ioredis-cluster",
};

describe.skipIf(!available).each(["ioredis", "upstash", ...(topologies ? ["sentinel", "cluster"] : [])])(
  "%s driver",
  (name) => {
    const key = (k: string) => `${prefix}:${name}:${k}`;
    const driver = () => drivers[name]!;

    test("reports its name", () => {
      expect(driver().name).toBe(NAMES[name]!);
    });

    test("get of a missing key is null", async () => {
      expect(await driver().get(key("missing"))).toBeNull();
    });

    test("set then get returns the exact text", async () => {
      for (const [i, value] of AWKWARD.entries()) {
        await driver().set(key(`v${i}`), value, 60);
        expect(await driver().get(key(`v${i}`))).toBe(value);
      }
    });

    test("set applies the TTL, in whole seconds of at least 1", async () => {
      await driver().set(key("ttl"), "short", 42);
      expect(await ttlOf(name, key("ttl"))).toBe(42);
      await driver().set(key("ttl0"), "tiny", 0.2);
      expect(await ttlOf(name, key("ttl0"))).toBe(1);
    });

    test("getMany answers in key order with null for absent keys", async () => {
      await driver().set(key("m1"), "one", 60);
      await driver().set(key("m3"), "three", 60);
      expect(await driver().getMany([key("m1"), key("m2"), key("m3")])).toEqual(["one", null, "three"]);
      expect(await driver().getMany([])).toEqual([]);
    });

    test("getMany of more keys than one batch keeps the order", async () => {
      const keys = Array.from({ length: 1_203 }, (_, i) => key(`big${i}`));
      await driver().setMany(
        keys.filter((_, i) => i % 2 === 0).map((k) => ({ key: k, value: k, ttlSeconds: 60 })),
      );
      const values = await driver().getMany(keys);
      expect(values).toHaveLength(keys.length);
      for (const [i, value] of values.entries()) expect(value).toBe(i % 2 === 0 ? keys[i]! : null);
    });

    test("setMany stores every entry with its TTL", async () => {
      await driver().setMany([
        { key: key("s1"), value: "a", ttlSeconds: 60 },
        { key: key("s2"), value: AWKWARD[1]!, ttlSeconds: 7 },
      ]);
      expect(await driver().getMany([key("s1"), key("s2")])).toEqual(["a", AWKWARD[1]!]);
      expect([await ttlOf(name, key("s1")), await ttlOf(name, key("s2"))]).toEqual([60, 7]);
    });

    test("delete and deleteMany remove keys and ignore absent ones", async () => {
      await driver().setMany(["d1", "d2", "d3"].map((k) => ({ key: key(k), value: k, ttlSeconds: 60 })));
      await driver().delete(key("d1"));
      await driver().deleteMany([key("d2"), key("never-there")]);
      await driver().deleteMany([]);
      expect(await driver().getMany([key("d1"), key("d2"), key("d3")])).toEqual([null, null, "d3"]);
    });

    test("ping succeeds", async () => {
      await driver().ping();
    });

    test("runs a one-key Lua script wherever its key lives (on a cluster: on every node)", async () => {
      // A fresh script each run: the first call on each node is EVALSHA's NOSCRIPT, then EVAL.
      const script = `-- ${crypto.randomUUID()}\nredis.call('SET', KEYS[1], ARGV[1], 'EX', 60)\nreturn redis.call('GET', KEYS[1])`;
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 20; i++) {
          const answer = await driver().evalScript!(script, [key(`lua${i}`)], [`v${round}.${i}`]);
          expect(answer).toBe(`v${round}.${i}`);
        }
      }
      expect(await driver().get(key("lua7"))).toBe("v1.7");
    });
  },
);

describe.skipIf(!available)("both drivers", () => {
  test("each reads exactly what the other wrote", async () => {
    for (const [i, value] of AWKWARD.entries()) {
      await drivers.ioredis!.set(`${prefix}:x:io${i}`, value, 60);
      await drivers.upstash!.set(`${prefix}:x:up${i}`, value, 60);
      expect(await drivers.upstash!.get(`${prefix}:x:io${i}`)).toBe(value);
      expect(await drivers.ioredis!.get(`${prefix}:x:up${i}`)).toBe(value);
    }
  });

  test("upstash batch writes go in one pipeline request", async () => {
    const before = { ...bridge.requests };
    await drivers.upstash!.setMany(
      Array.from({ length: 50 }, (_, i) => ({ key: `${prefix}:p${i}`, value: String(i), ttlSeconds: 60 })),
    );
    expect(bridge.requests.pipeline - before.pipeline).toBe(1);
    expect(bridge.requests.single - before.single).toBe(0);
  });

  test("the bridge refuses a wrong token, so the driver fails", async () => {
    const wrong = await createRemoteCacheDriver({ kind: "upstash", url: bridge.url, token: "wrong" });
    await expect(wrong.ping()).rejects.toThrow();
  });
});

describe("a dead server", () => {
  test("ioredis commands fail fast instead of queueing", async () => {
    const driver = await createRemoteCacheDriver({
      kind: "ioredis",
      url: "redis://127.0.0.1:1",
      readyTimeoutMs: 100,
    });
    const started = performance.now();
    await expect(driver.get("k")).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(100);
    await driver.close();
  });

  test("upstash commands fail without retrying", async () => {
    const driver = await createRemoteCacheDriver({ kind: "upstash", url: "http://127.0.0.1:1", token: "t" });
    const started = performance.now();
    await expect(driver.get("k")).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe.skipIf(!topologies)("on Deno", () => {
  // The registry also runs on Deno (npm packages through its Node compatibility): the same drivers must
  // work there, and close() must release every connection, or a Deno process never exits.
  test("the Sentinel and Cluster drivers write, read and delete, and close() lets the process exit", async () => {
    const configs = [
      {
        kind: "sentinel",
        sentinels: sentinel!.sentinels,
        master: sentinel!.master,
        password: "data-secret",
        sentinelPassword: "sentinel-secret",
      },
      { kind: "cluster", nodes: cluster!.nodes, password: "cluster-secret" },
    ];
    const script = `
      import { createRemoteCacheDriver } from ${JSON.stringify(new URL("../../src/cache/l2/remote-driver.ts", import.meta.url).href)};
      for (const config of ${JSON.stringify(configs)}) {
        const driver = await createRemoteCacheDriver(config);
        const keys = Array.from({ length: 30 }, (_, i) => "${prefix}:deno:" + config.kind + i);
        await driver.setMany(keys.map((key) => ({ key, value: key, ttlSeconds: 60 })));
        const read = await driver.getMany(keys);
        await driver.deleteMany(keys);
        const gone = await driver.getMany(keys);
        await driver.close();
        console.log(config.kind, read.every((v, i) => v === keys[i]) && gone.every((v) => v === null));
      }`;
    const root = new URL("../..", import.meta.url).pathname;
    const deno = Bun.spawn(
      [`${root}node_modules/.bin/deno`, "eval", "--config", `${root}deno.json`, script],
      {
        cwd: root,
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const timer = setTimeout(() => deno.kill(9), 20_000);
    const code = await deno.exited;
    clearTimeout(timer);
    const out = await new Response(deno.stdout).text();
    expect({
      code,
      out: out.trim(),
      stderr: code === 0 ? "" : await new Response(deno.stderr).text(),
    }).toEqual({
      code: 0,
      out: "sentinel true\ncluster true",
      stderr: "",
    });
  });
});

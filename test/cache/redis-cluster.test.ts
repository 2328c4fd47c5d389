/**
 * L2 on a real three-node Redis Cluster (started by this file from the
 * machine's redis-server): the driver's hash slots are the server's, a
 * subject's keys share a slot by hash tag, a batch over many slots (which a
 * plain MGET or DEL refuses with CROSSSLOT) goes through, and two registry
 * instances on the cluster keep each other's L1 and L2 coherent with no L2
 * error at all (a CROSSSLOT would be one).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Cluster } from "ioredis";
import { cacheKeys, createKeyNamespace } from "../../src/cache/keys.ts";
import { keySlot } from "../../src/cache/l2/key-slot.ts";
import { createRemoteCacheDriver, type RemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { subjectVersionKey } from "../../src/cache/schema-cache.ts";
import { jsonSchema, type RegistryInstance, startRegistryInstance, until } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import {
  type ClusterTopology,
  nodeClient,
  requireRedisServer,
  startClusterTopology,
} from "../support/redis-topologies.ts";

const available = requireRedisServer("L2 on Redis Cluster");
const withDatabase = available && (await postgresAvailable());

let cluster: ClusterTopology;
let client: Cluster;
let driver: RemoteCacheDriver;

beforeAll(async () => {
  if (!available) return;
  cluster = await startClusterTopology();
  client = cluster.client();
  driver = await createRemoteCacheDriver({ kind: "cluster", nodes: cluster.nodes });
});
afterAll(async () => {
  await driver?.close();
  client?.disconnect();
  await cluster?.stop();
});

/** The slot the server gives `key`. */
async function serverSlot(key: string): Promise<number> {
  const node = nodeClient(cluster.nodes[0]!.port);
  try {
    await node.connect();
    return Number(await node.call("CLUSTER", "KEYSLOT", key));
  } finally {
    node.disconnect();
  }
}

const namespace = createKeyNamespace("registry", "j");

// Subjects a user may choose: separators, braces, the words of the key scheme, non-ASCII.
const SUBJECTS = [
  "orders-value",
  "com.acme.Order",
  "a:b:c",
  "x:latest",
  "y:version:1.0.0",
  "ünïcødé ✓",
  "with{brace",
  "close}brace",
  "}leading",
  "{tagged}",
];

describe.skipIf(!available)("hash slots", () => {
  test("the driver computes every slot as the server does", async () => {
    const keys = [
      "",
      "a",
      "registry:v1.j:schema:id:5f0c",
      "{user1000}.following",
      "foo{}{bar}",
      "foo{{bar}}zap",
      "foo{bar}{zap}",
      "}{x}",
      "{}",
      "ünïcødé {中文} 😀",
      "nul\u0000byte",
      ...SUBJECTS.flatMap((subject) => [
        namespace.full(cacheKeys.subjectLatest(subject)),
        namespace.full(subjectVersionKey(subject, "1.2.3")!),
      ]),
    ];
    for (const key of keys) expect([key, keySlot(key)]).toEqual([key, await serverSlot(key)]);
  });

  test("a subject's latest and version keys share a slot, tagged by the subject", async () => {
    expect(namespace.full(cacheKeys.subjectLatest("orders-value"))).toBe(
      "registry:v1.j:subject:{orders-value}:latest",
    );
    expect(namespace.full(subjectVersionKey("orders-value", "2.0.0")!)).toBe(
      "registry:v1.j:subject:{orders-value}:version:2.0.0",
    );
    for (const subject of SUBJECTS.filter((s) => !s.startsWith("}"))) {
      const slots = new Set(
        await Promise.all(
          [
            cacheKeys.subjectLatest(subject),
            subjectVersionKey(subject, "1.0.0")!,
            subjectVersionKey(subject, "10.3.1-rc.1")!,
          ].map((key) => serverSlot(namespace.full(key))),
        ),
      );
      expect([subject, slots.size]).toEqual([subject, 1]);
    }
    // Keys by id are hashed whole: they spread over the slots.
    const idSlots = new Set(
      Array.from({ length: 50 }, (_, i) => keySlot(namespace.full(cacheKeys.schemaByGlobalId(i)))),
    );
    expect(idSlots.size).toBeGreaterThan(40);
  });

  test("two subjects never share a key", () => {
    const keys = SUBJECTS.flatMap((subject) => [
      namespace.full(cacheKeys.subjectLatest(subject)),
      namespace.full(subjectVersionKey(subject, "1.0.0")!),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe.skipIf(!available)("batches over many slots", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `test:cluster:${i}`);

  test("a plain MGET and DEL of them fail with CROSSSLOT (what the driver must avoid)", async () => {
    await expect(client.mget(keys)).rejects.toThrow(/CROSSSLOT/);
    await expect(client.del(keys)).rejects.toThrow(/CROSSSLOT/);
  });

  test("the driver writes, reads and deletes them in one call each", async () => {
    await driver.setMany(keys.map((key) => ({ key, value: `v-${key}`, ttlSeconds: 60 })));
    expect(await driver.getMany(keys)).toEqual(keys.map((key) => `v-${key}`));
    // Every key went to the node that owns its slot: a cluster client finds each one.
    expect(await client.get(keys[7]!)).toBe(`v-${keys[7]}`);
    await driver.deleteMany([...keys.slice(0, 20), "test:cluster:absent"]);
    expect(await driver.getMany(keys)).toEqual(keys.map((key, i) => (i < 20 ? null : `v-${key}`)));
    await driver.deleteMany(keys);
  });
});

describe.skipIf(!withDatabase)("two registry instances on the cluster", () => {
  let database: TestDatabase;
  let a: RegistryInstance;
  let b: RegistryInstance;
  const channel = `cache_cluster_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await startRegistryInstance(database.url, cluster.env, { channel });
    b = await startRegistryInstance(database.url, cluster.env, { channel });
  });
  afterAll(async () => {
    await a?.registry.close();
    await b?.registry.close();
    await database?.drop();
  });

  test("a write on A drops L2 and B's L1; B reads what A cached; no L2 call fails", async () => {
    const subject = "cluster.Orders";
    const created = await a.call("POST", "/api/v1/schemas", {
      subject,
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(1),
    });
    expect(created.status).toBe(201);
    const { id, global_id } = created.body;
    const paths = [
      `/api/v1/schemas/${id}`,
      `/api/v1/schemas/${global_id}`,
      `/api/v1/subjects/${subject}/versions/1.0.0`,
      `/api/v1/subjects/${subject}/versions/latest`,
    ];
    // A's register sends its invalidation after the commit: read until Redis holds what A read.
    const key = `registry:v1.j:schema:id:${id}`;
    await until(
      async () => {
        for (const path of paths) expect((await a.call("GET", path)).status).toBe(200);
        await Bun.sleep(20);
        return client.exists(key);
      },
      (count) => count === 1,
      3_000,
    );
    // The subject's keys landed on one node, under its hash tag.
    expect(await client.exists(`registry:v1.j:subject:{${subject}}:latest`)).toBe(1);

    const before = await b.queries("getById");
    for (const path of paths) expect((await b.call("GET", path)).body.state).toBe("active");
    expect(await b.queries("getById")).toBe(before);
    expect((await b.call("GET", "/api/v1/stats")).body.cache.tiers.l2.hits).toBeGreaterThan(0);

    expect((await a.call("PATCH", `${paths[0]}/state`, { state: "deprecated" })).status).toBe(200);
    for (const path of paths) expect((await a.call("GET", path)).body.state).toBe("deprecated");
    await until(
      () => b.call("GET", paths[0]!),
      (res) => res.body.state === "deprecated",
    );
    for (const path of paths) expect((await b.call("GET", path)).body.state).toBe("deprecated");

    expect((await a.call("DELETE", paths[0]!)).status).toBe(204);
    await until(
      () => b.call("GET", paths[2]!),
      (res) => res.status === 404,
    );
    for (const path of paths) expect((await b.call("GET", path)).status).toBe(404);

    for (const instance of [a, b]) {
      const l2 = (await instance.call("GET", "/api/v1/stats")).body.cache.tiers.l2;
      expect(l2).toMatchObject({ errors: 0, breaker: "closed" });
    }
    const health = await a.call("GET", "/health");
    expect(health.body.components.redis).toMatchObject({ status: "up" });
  });
});

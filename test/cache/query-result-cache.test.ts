/**
 * The search and list result cache through the app, on a fresh PostgreSQL
 * database: identical searches and lists reach the backend once (counted by
 * the instrumented backend), a change on this instance shows in the next
 * search or list at once while entries it cannot alter stay cached, a change
 * on a second instance shows in its lists within the bus's delivery and in
 * its searches within the stated bound, the TTL ends an entry, and with L1
 * off nothing is cached.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DEFAULT_SEARCH_STALE_MS,
  normaliseQuery,
  QueryResultCache,
  queryCacheBounds,
} from "../../src/cache/query-result-cache.ts";
import type { SchemaChange } from "../../src/domain/schema-changes.ts";
import type { SchemaRecord } from "../../src/domain/types.ts";
import {
  type RegistryInstance as Instance,
  jsonSchema,
  startRegistryInstance as startInstance,
  until,
} from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

// biome-ignore lint/suspicious/noExplicitAny: list items are asserted field by field
const versionsOf = (body: any): string[] => body.items.map((item: any) => `${item.version}:${item.state}`);

/**
 * Waits until a repeated `path` is answered from `instance`'s query cache:
 * notifications of earlier tests' writes may still be arriving and move its
 * generation on, and a test that counts queries must start after them.
 */
async function settled(
  instance: { call(method: string, path: string): Promise<unknown>; queries(kind: string): Promise<number> },
  path: string,
): Promise<void> {
  await until(
    async () => {
      await instance.call("GET", path);
      const before = await instance.queries("search");
      await instance.call("GET", path);
      return (await instance.queries("search")) === before;
    },
    (cached) => cached,
    2_000,
  );
}

describe("query keys and bounds", () => {
  test("equal queries give equal keys whatever the field order; undefined fields are left out", () => {
    const a = normaliseQuery({
      q: "x",
      limit: 20,
      offset: 0,
      sort: { field: "relevance", descending: true },
    });
    const b = normaliseQuery({
      sort: { descending: true, field: "relevance" },
      offset: 0,
      owner: undefined,
      limit: 20,
      q: "x",
    });
    expect(a).toBe(b);
    expect(normaliseQuery({ q: "x", limit: 20 })).not.toBe(normaliseQuery({ q: "x", limit: 21 }));
    expect(normaliseQuery({ tags: ["a", "b"] })).not.toBe(normaliseQuery({ tags: ["b"] }));
  });

  test("no bounds (nothing cached) with L1 off; otherwise a small share of L1's", () => {
    expect(queryCacheBounds({ maxEntries: 0, maxBytes: 64 << 20 })).toBeNull();
    expect(queryCacheBounds({ maxEntries: 10_000, maxBytes: 0 })).toBeNull();
    expect(queryCacheBounds({ maxEntries: 10_000, maxBytes: 64 << 20 }, 0)).toBeNull();
    expect(queryCacheBounds({ maxEntries: 10_000, maxBytes: 64 << 20 })).toEqual({
      maxEntries: 1_000,
      maxBytes: 8 << 20,
      maxEntryBytes: 512 << 10,
      ttlMs: 3_000,
      searchStaleMs: 2_000,
    });
  });
});

describe("the generation", () => {
  const bounds = { maxEntries: 16, maxBytes: 64 * 1024, maxEntryBytes: 1024, ttlMs: 60_000 };

  test("a load that began before a change is answered to its callers but never served after it", async () => {
    const cache = new QueryResultCache(bounds);
    let loads = 0;
    let release: (value: string) => void = () => {};
    const slow = () => {
      loads++;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };
    const first = cache.cached("search", { q: "x" }, slow);
    const joined = cache.cached("search", { q: "x" }, slow);
    expect(loads).toBe(1);
    cache.bump();
    // After the change a caller never joins the load that began before it.
    const after = cache.cached("search", { q: "x" }, async () => {
      loads++;
      return "new";
    });
    release("old");
    expect(await first).toBe("old");
    expect(await joined).toBe("old");
    expect(await after).toBe("new");
    expect(await cache.cached("search", { q: "x" }, async () => "unexpected")).toBe("new");
    expect(loads).toBe(2);
    expect(cache.generation).toBe(1);
    await cache.close();
  });

  test("a result over the entry bound is loaded each time; a failed load is not cached", async () => {
    const cache = new QueryResultCache(bounds);
    let loads = 0;
    const big = async () => {
      loads++;
      return "x".repeat(4 * 1024);
    };
    await cache.cached("search", { q: "big" }, big);
    await cache.cached("search", { q: "big" }, big);
    expect(loads).toBe(2);
    const failing = async (): Promise<string> => {
      loads++;
      throw new Error("database down");
    };
    await expect(cache.cached("search", { q: "f" }, failing)).rejects.toThrow("database down");
    await expect(cache.cached("search", { q: "f" }, failing)).rejects.toThrow("database down");
    expect(loads).toBe(4);
    await cache.close();
  });
});

/** A change of a row with just the fields the cache reads. */
function change(
  kind: SchemaChange["kind"],
  subject: string,
  metadata: Record<string, unknown> = {},
): SchemaChange {
  const schema = { subject, schemaType: "json", state: "active", metadata } as unknown as SchemaRecord;
  return { kind, schema };
}

describe("what a change ends", () => {
  const bounds = { maxEntries: 64, maxBytes: 64 * 1024, maxEntryBytes: 1024, ttlMs: 60_000 };
  const search = (q: string, extra: Record<string, unknown> = {}) => ({ q, limit: 20, offset: 0, ...extra });

  /** Which of `queries` a change sends back to the database. */
  async function reloaded(
    queries: [string, object][],
    apply: (cache: QueryResultCache) => void,
  ): Promise<string[]> {
    const cache = new QueryResultCache(bounds);
    for (const [kind, query] of queries) await cache.cached(kind, query, async () => "first");
    apply(cache);
    const again: string[] = [];
    for (const [kind, query] of queries) {
      await cache.cached(kind, query, async () => {
        again.push(`${kind} ${normaliseQuery(query)}`);
        return "second";
      });
    }
    await cache.close();
    return again;
  }

  test("a register ends its subject's versions, the subject list and the searches its row may match", async () => {
    const queries: [string, object][] = [
      ["versions", { subject: "shop.Order", limit: 20 }],
      ["versions", { subject: "shop.Invoice", limit: 20 }],
      ["subjects", { limit: 20, offset: 0 }],
      ["search", search("order")],
      ["search", search("ordr")],
      ["search", search("invoice")],
      ["search", search("placed")],
      ["search", search("", { tags: ["billing"] })],
      ["search", search("order", { schemaType: "avro" })],
      ["search", search("order", { subject: "shop.*" })],
      ["search", search("order", { subject: "warehouse.*" })],
      ["search", search("order", { states: ["draft"] })],
      ["search", search("order", { owner: "team-b" })],
    ];
    const again = await reloaded(queries, (cache) =>
      cache.changed(
        change("registered", "shop.Order", {
          description: "an order placed online",
          tags: ["orders"],
          owner: "team-a",
        }),
      ),
    );
    expect(again).toEqual([
      `versions ${normaliseQuery({ subject: "shop.Order", limit: 20 })}`,
      `subjects ${normaliseQuery({ limit: 20, offset: 0 })}`,
      `search ${normaliseQuery(search("order"))}`,
      // One typo still shares trigrams: possibly similar, so reloaded.
      `search ${normaliseQuery(search("ordr"))}`,
      `search ${normaliseQuery(search("placed"))}`,
      `search ${normaliseQuery(search("order", { subject: "shop.*" }))}`,
    ]);
  });

  test("a state change or delete ends the searches whose row matched whatever their state filter", async () => {
    const queries: [string, object][] = [
      ["search", search("order", { states: ["draft"] })],
      ["search", search("invoice")],
    ];
    for (const kind of ["state_changed", "soft_deleted", "deleted"] as const) {
      expect(await reloaded(queries, (cache) => cache.changed(change(kind, "shop.Order")))).toEqual([
        `search ${normaliseQuery(search("order", { states: ["draft"] }))}`,
      ]);
    }
  });

  test("the subject's camelCase words, the owner and a negated word count as text", async () => {
    const queries: [string, object][] = [
      ["search", search("cd")],
      ["search", search("team")],
      ["search", search("-order")],
      ["search", search("zebra")],
    ];
    const again = await reloaded(queries, (cache) =>
      cache.changed(change("registered", "shop.AbCdEf", { owner: "team-a" })),
    );
    expect(again).toEqual([
      `search ${normaliseQuery(search("cd"))}`,
      `search ${normaliseQuery(search("team"))}`,
      `search ${normaliseQuery(search("-order"))}`,
    ]);
  });

  test("text outside ASCII always counts as a possible match", async () => {
    const queries: [string, object][] = [["search", search("straße")]];
    expect(
      await reloaded(queries, (cache) => cache.changed(change("registered", "shop.Order"))),
    ).toHaveLength(1);
  });

  test("another instance's change ends that subject's versions and the subject list; searches age out", async () => {
    const queries: [string, object][] = [
      ["versions", { subject: "shop.Order", limit: 20 }],
      ["versions", { subject: "shop.Invoice", limit: 20 }],
      ["subjects", { limit: 20, offset: 0 }],
      ["search", search("order")],
    ];
    const keys = [
      "schema:id:x",
      "schema:gid:1",
      "subject:shop.Order:latest",
      "subject:shop.Order:version:1.0.0",
    ];
    expect(await reloaded(queries, (cache) => cache.heard(keys))).toEqual([
      `versions ${normaliseQuery({ subject: "shop.Order", limit: 20 })}`,
      `subjects ${normaliseQuery({ limit: 20, offset: 0 })}`,
    ]);
    // A resync drops everything.
    expect(await reloaded(queries, (cache) => cache.heard("all"))).toHaveLength(4);
  });

  test("a search page is read again once older than the staleness bound", async () => {
    const cache = new QueryResultCache({ ...bounds, searchStaleMs: 50 });
    let loads = 0;
    const load = async () => ++loads;
    await cache.cached("search", search("order"), load);
    await cache.cached("versions", { subject: "s" }, load);
    expect(await cache.cached("search", search("order"), load)).toBe(1);
    await Bun.sleep(80);
    expect(await cache.cached("search", search("order"), load)).toBe(3);
    // Lists hear of every change through the bus: they keep the TTL.
    expect(await cache.cached("versions", { subject: "s" }, load)).toBe(2);
    await cache.close();
  });
});

describe.skipIf(!available)("search and list results cached per generation", () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  let short: Instance;
  let off: Instance;
  const channel = `query_cache_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    // L1 only (no Redis): the query cache never uses L2 anyway. A long TTL, so only changes end entries.
    a = await startInstance(database.url, {}, { channel, queryTtlMs: 60_000 });
    b = await startInstance(database.url, {}, { channel, queryTtlMs: 60_000 });
    short = await startInstance(database.url, {}, { channel, queryTtlMs: 150 });
    off = await startInstance(database.url, { CACHE_L1_MAX_ENTRIES: "0" }, { channel, queryTtlMs: 60_000 });
    for (let n = 0; n < 3; n++) {
      const res = await a.call("POST", "/api/v1/schemas", {
        subject: `qc.orders.Order${n}`,
        schema_type: "json",
        version: "1.0.0",
        content: jsonSchema(n),
        metadata: { description: "order placed by a customer", tags: ["orders"] },
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    for (const instance of [a, b, short, off]) await instance?.registry.close();
    await database?.drop();
  });

  test("identical searches, sequential or concurrent, reach PostgreSQL once; /stats and /metrics count tier query", async () => {
    const path = "/api/v1/search?q=order&limit=20";
    const before = await a.queries("search");
    const first = await a.call("GET", path);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(3);
    for (let i = 0; i < 5; i++) expect((await a.call("GET", path)).body).toEqual(first.body);
    expect(await a.queries("search")).toBe(before + 1);

    const concurrent = "/api/v1/search?q=customer&limit=20";
    const answers = await Promise.all(Array.from({ length: 20 }, () => a.call("GET", concurrent)));
    for (const answer of answers) expect(answer.body).toEqual(answers[0]!.body);
    expect(await a.queries("search")).toBe(before + 2);

    // Another query is another entry.
    await a.call("GET", "/api/v1/search?q=order&limit=2");
    expect(await a.queries("search")).toBe(before + 3);

    const stats = await a.call("GET", "/api/v1/stats");
    expect(stats.body.cache.tiers.query.hits).toBeGreaterThanOrEqual(5);
    expect(stats.body.cache.tiers.query.misses).toBeGreaterThanOrEqual(3);
    const exposition = await a.registry.metrics.expose();
    expect(exposition).toMatch(/schema_registry_cache_\w+\{tier="query",result="hit"\} \d+/);
  });

  test("lists of subjects and versions reach PostgreSQL once until a change", async () => {
    const versions = "/api/v1/subjects/qc.orders.Order0/versions";
    const before = { subjects: await a.queries("listSubjects"), versions: await a.queries("listVersions") };
    const subjects = await a.call("GET", "/api/v1/subjects");
    await a.call("GET", "/api/v1/subjects");
    const listed = await a.call("GET", versions);
    await a.call("GET", versions);
    expect(await a.queries("listSubjects")).toBe(before.subjects + 1);
    expect(await a.queries("listVersions")).toBe(before.versions + 1);
    expect(versionsOf(listed.body)).toEqual(["1.0.0:active"]);

    // A register of another subject changes both lists' generation: the next ones are read anew.
    const res = await a.call("POST", "/api/v1/schemas", {
      subject: "qc.orders.Order0",
      schema_type: "json",
      version: "1.1.0",
      content: jsonSchema(100),
    });
    expect(res.status).toBe(201);
    expect(versionsOf((await a.call("GET", versions)).body)).toEqual(["1.1.0:active", "1.0.0:active"]);
    const after = await a.call("GET", "/api/v1/subjects");
    expect(after.body.total).toBe(subjects.body.total);
    expect(await a.queries("listVersions")).toBe(before.versions + 2);
    expect(await a.queries("listSubjects")).toBe(before.subjects + 2);
  });

  test("a register ends only the searches and version lists it can change", async () => {
    const order = "/api/v1/search?q=order&limit=20";
    const versions = "/api/v1/subjects/qc.orders.Order1/versions";
    await settled(a, order);
    await a.call("GET", versions);
    const before = { search: await a.queries("search"), versions: await a.queries("listVersions") };
    const res = await a.call("POST", "/api/v1/schemas", {
      subject: "qc.hr.Payslip",
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(400),
      metadata: { description: "monthly salary statement" },
    });
    expect(res.status).toBe(201);
    await a.call("GET", order);
    await a.call("GET", versions);
    expect(await a.queries("search")).toBe(before.search);
    expect(await a.queries("listVersions")).toBe(before.versions);
  });

  test("register, deprecate and delete on the same instance: the next search shows each at once", async () => {
    const path = "/api/v1/search?q=invoice&limit=20";
    const states = async () => versionsOf((await a.call("GET", path)).body);
    expect(await states()).toEqual([]);
    expect(await states()).toEqual([]);

    const created = await a.call("POST", "/api/v1/schemas", {
      subject: "qc.billing.Invoice",
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(200),
      metadata: { description: "invoice sent to a customer" },
    });
    expect(created.status).toBe(201);
    expect(await states()).toEqual(["1.0.0:active"]);
    expect(await states()).toEqual(["1.0.0:active"]);

    const patched = await a.call("PATCH", `/api/v1/schemas/${created.body.id}/state`, {
      state: "deprecated",
      reason: "replaced",
    });
    expect(patched.status).toBe(200);
    expect(await states()).toEqual(["1.0.0:deprecated"]);

    expect((await a.call("DELETE", `/api/v1/schemas/${created.body.id}`)).status).toBe(204);
    expect(await states()).toEqual([]);
  });

  test("a change on A ends B's cached list within the bus's delivery, its search within the stated bound", async () => {
    const path = "/api/v1/search?q=shipment&limit=20";
    const list = "/api/v1/subjects";
    expect((await b.call("GET", path)).body.total).toBe(0);
    const subjects = (await b.call("GET", list)).body.total;
    await settled(b, path);
    expect((await b.call("GET", path)).body.total).toBe(0);

    const created = await a.call("POST", "/api/v1/schemas", {
      subject: "qc.shipping.Shipment",
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(300),
      metadata: { description: "shipment of an order" },
    });
    expect(created.status).toBe(201);
    const listMs = await until(
      () => b.call("GET", list),
      (res) => res.body.total === subjects + 1,
      2_000,
    );
    const searchMs = await until(
      () => b.call("GET", path),
      (res) => res.body.total === 1,
      DEFAULT_SEARCH_STALE_MS + 2_000,
    );
    // The bus's bound in cache-coherence.test.ts is the same: a NOTIFY round trip, well under a second.
    expect(listMs).toBeLessThan(1_000);
    // A search page is never served longer than the bound after it was read (plus the polling's step).
    expect(searchMs).toBeLessThan(DEFAULT_SEARCH_STALE_MS + 500);

    await a.call("PATCH", `/api/v1/schemas/${created.body.id}/state`, { state: "deprecated", reason: "x" });
    await until(
      () => b.call("GET", path),
      (res) => res.body.items[0]?.state === "deprecated",
      DEFAULT_SEARCH_STALE_MS + 2_000,
    );
  });

  test("an entry ends with its TTL even without a change", async () => {
    const path = "/api/v1/search?q=order&limit=5";
    await settled(short, path);
    await Bun.sleep(200);
    const before = await short.queries("search");
    await short.call("GET", path);
    await short.call("GET", path);
    expect(await short.queries("search")).toBe(before + 1);
    await Bun.sleep(200);
    await short.call("GET", path);
    expect(await short.queries("search")).toBe(before + 2);
  });

  test("with L1 off (CACHE_L1_MAX_ENTRIES=0) every search and list reaches PostgreSQL", async () => {
    const before = { search: await off.queries("search"), subjects: await off.queries("listSubjects") };
    for (let i = 0; i < 3; i++) {
      expect((await off.call("GET", "/api/v1/search?q=order&limit=20")).status).toBe(200);
      expect((await off.call("GET", "/api/v1/subjects")).status).toBe(200);
    }
    expect(await off.queries("search")).toBe(before.search + 3);
    expect(await off.queries("listSubjects")).toBe(before.subjects + 3);
    const stats = await off.call("GET", "/api/v1/stats");
    expect(stats.body.cache?.tiers?.query).toBeUndefined();
  });
});

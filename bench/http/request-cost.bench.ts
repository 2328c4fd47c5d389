/**
 * Where the time of one `GET /api/v1/schemas/{id}` goes, in process (no
 * sockets, no load generator sharing the cores): the registry as served (the
 * fast path in front of the app) answered from L1 and from L2, the app's own
 * route, against a plain Hono route answering the same bytes, and the service
 * call alone (the read path: cache lookup, access-log count, metrics).
 * Companion of get-schema.bench.ts, which measures over HTTP.
 *
 *   ./node_modules/.bin/bun bench/http/request-cost.bench.ts
 */
import { Hono } from "hono";
import { bench, group, run } from "mitata";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { createTestDatabase } from "../../test/support/database.ts";
import { deleteByPrefix, REDIS_TEST_URL } from "../../test/support/redis.ts";

const database = await createTestDatabase();
const keyPrefix = `bench:cost:${crypto.randomUUID().slice(0, 8)}`;

async function start(env: Record<string, string>): Promise<Registry> {
  const config = await loadConfig({
    env: {
      LOG_LEVEL: "warn",
      DATABASE_URL: database.url,
      AUTH_REQUIRED: "false",
      REDIS_URL: REDIS_TEST_URL,
      CACHE_WARM_ON_STARTUP: "false",
      ...env,
    },
  });
  return createRegistry(config, { cache: { keyPrefix } });
}

const l1 = await start({});
const l2 = await start({ CACHE_L1_MAX_ENTRIES: "0" });
try {
  const properties = Object.fromEntries(
    Array.from({ length: 24 }, (_, i) => [`field_${i}`, { type: i % 2 ? "string" : "integer" }]),
  );
  const created = await l1.app.request("/api/v1/schemas", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      subject: "bench.cost.Prompt",
      schema_type: "json",
      content: { type: "object", properties },
      metadata: { description: "cost", tags: ["bench"] },
    }),
  });
  const { id } = (await created.json()) as { id: string };
  const path = `/api/v1/schemas/${id}`;
  const bytes = await (await l1.app.request(path)).text();
  const plain = new Hono();
  plain.get("/api/v1/schemas/:id", (c) => c.body(bytes, 200, { "Content-Type": "application/json" }));
  const ref = { id };

  const url = `http://localhost${path}`;
  group("GET /api/v1/schemas/{id}, in process", () => {
    bench("plain Hono route, same bytes", async () => (await plain.request(path)).text());
    bench("registry as served, L1 hit", async () => (await l1.fetch(new Request(url))).text());
    bench("registry as served, L1 off, L2 hit", async () => (await l2.fetch(new Request(url))).text());
    bench("registry's app alone (the route), L1 hit", async () => (await l1.app.request(path)).text());
  });
  group("the service's read alone", () => {
    bench("service.getSchema, L1 hit", () => l1.service.getSchema(ref));
    bench("service.getSchema, L1 off, L2 hit", () => l2.service.getSchema(ref));
  });
  await run();
} finally {
  await l1.close();
  await l2.close();
  await database.drop();
  await deleteByPrefix(keyPrefix);
}

/**
 * Cache warm-up at start-up: an instance started with warm_on_startup loads
 * the most read schemas (popular_schemas, from the access log) into L1 and
 * L2 in the background, so their first reads make no database query; a
 * schema outside the top is still read from PostgreSQL. Start-up does not
 * wait for it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { jsonSchema } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";

const available = (await postgresAvailable()) && (await requireRedis("cache warm-up"));

async function start(url: string, env: Record<string, string>, keyPrefix: string, logger?: Logger) {
  const config = await loadConfig({
    env: {
      LOG_LEVEL: "silent",
      DATABASE_URL: url,
      REDIS_URL: REDIS_TEST_URL,
      AUTH_REQUIRED: "false",
      ...env,
    },
  });
  return createRegistry(config, { cache: { keyPrefix }, ...(logger ? { logger } : {}) });
}

async function getByIdQueries(registry: Registry): Promise<number> {
  const line = (await registry.metrics.expose())
    .split("\n")
    .find((l) => l.startsWith('schema_registry_db_query_duration_seconds_count{operation="getById"}'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe.skipIf(!available)("warm-up on start-up", () => {
  let database: TestDatabase;
  const keyPrefix = uniquePrefix("warm");
  const ids: string[] = [];
  let warm: Registry | undefined;
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // A first instance registers ten schemas and reads three of them often; its close flushes the access log.
    const first = await start(database.url, { CACHE_WARM_ON_STARTUP: "false" }, uniquePrefix("warm-first"));
    for (let i = 0; i < 10; i++) {
      const res = await first.app.request("/api/v1/schemas", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ subject: `warm.S${i}`, schema_type: "json", content: jsonSchema(i) }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    for (let round = 0; round < 20; round++) {
      for (const id of ids.slice(0, 3)) await first.app.request(`/api/v1/schemas/${id}`);
    }
    await first.app.request(`/api/v1/schemas/${ids[3]}`);
    await first.close();
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await sql`REFRESH MATERIALIZED VIEW popular_schemas`;
    await sql.end({ timeout: 1 });
  });
  afterAll(async () => {
    await warm?.close();
    await database?.drop();
    await deleteByPrefix(keyPrefix);
  });

  test("the three most read schemas are cached before their first read", async () => {
    const logger: Logger = {
      debug() {},
      info: (message, fields) => lines.push({ message, ...(fields ? { fields } : {}) }),
      warn: (message, fields) => lines.push({ message, ...(fields ? { fields } : {}) }),
      error: (message, fields) => lines.push({ message, ...(fields ? { fields } : {}) }),
    };
    warm = await start(
      database.url,
      { CACHE_WARM_ON_STARTUP: "true", CACHE_WARM_SIZE: "3" },
      keyPrefix,
      logger,
    );
    const deadline = Date.now() + 5_000;
    while (!lines.some((l) => l.message.startsWith("cache warm-up")) && Date.now() < deadline)
      await Bun.sleep(5);
    const line = lines.find((l) => l.message.startsWith("cache warm-up"));
    expect(line?.message).toBe("cache warm-up: 3 of the most read schemas cached");

    const before = await getByIdQueries(warm);
    for (const id of ids.slice(0, 3)) {
      const res = await warm.app.request(`/api/v1/schemas/${id}`);
      expect(res.status).toBe(200);
    }
    expect(await getByIdQueries(warm)).toBe(before);
    // Outside the top three: read from PostgreSQL.
    expect((await warm.app.request(`/api/v1/schemas/${ids[3]}`)).status).toBe(200);
    expect(await getByIdQueries(warm)).toBe(before + 1);
  });
});

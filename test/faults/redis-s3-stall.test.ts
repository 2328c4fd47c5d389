/**
 * The request deadline against backends that stop answering without failing:
 * a Redis paused with SIGSTOP (connections open, nothing comes back) and an
 * S3 endpoint behind a proxy that holds every byte. Whatever they do, every
 * request is answered within REQUEST_TIMEOUT_MS, and a register answered 503
 * is not applied, even when S3 answers after the client was told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../support/redis.ts";
import { S3RVER_CREDENTIALS, s3Env, startS3, type TestS3 } from "../support/s3.ts";
import { type FaultRegistry, registerBody, startFaultRegistry, type Timed } from "./harness.ts";
import { type StallProxy, startStallProxy } from "./stall-proxy.ts";

const REQUEST_TIMEOUT_MS = 1500;
/** What the network and the test's own client add to an answer given at the deadline. */
const SLACK_MS = 300;

const available = await postgresAvailable();
if (!available && process.env.CI === "true")
  throw new Error("the fault tests need PostgreSQL on 127.0.0.1:5432");

describe.skipIf(!available)("Redis paused (SIGSTOP)", () => {
  let db: TestDatabase;
  let redis: ThrowawayRedis;
  let app: FaultRegistry;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startThrowawayRedis();
    app = await startFaultRegistry({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
  });

  afterAll(async () => {
    redis?.resume();
    await app?.close();
    await redis?.kill();
    await db?.drop();
  });

  test("reads and registers are answered within the deadline; Redis costs no more than its budget", async () => {
    const seeded: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await app.call("POST", "/api/v1/schemas", registerBody(`redis.seed${i}`, i));
      expect(created.status).toBe(201);
      seeded.push(created.body.id);
      expect((await app.call("GET", `/api/v1/schemas/${created.body.id}`)).status).toBe(200);
    }

    redis.pause();
    const answers: (Timed & { what: string })[] = [];
    const stopAt = performance.now() + 2500;
    for (let i = 0; performance.now() < stopAt; i++) {
      const created = await app.call("POST", "/api/v1/schemas", registerBody(`redis.paused${i}`, 100 + i));
      answers.push({ ...created, what: "register" });
      if (created.status === 201) {
        answers.push({ ...(await app.call("GET", `/api/v1/schemas/${created.body.id}`)), what: "read new" });
      }
      answers.push({ ...(await app.call("GET", `/api/v1/schemas/${seeded[i % 5]}`)), what: "read cached" });
      answers.push({
        ...(await app.call("GET", `/api/v1/subjects/redis.seed${i % 5}/versions`)),
        what: "list",
      });
    }
    redis.resume();

    const slowest = Math.max(...answers.map((a) => a.ms));
    expect(slowest).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    // L2 is a cache: with Redis hanging, everything is still served, from L1 and PostgreSQL.
    expect(answers.filter((a) => a.status >= 300).map((a) => `${a.what} ${a.status}`)).toEqual([]);
    console.log(`Redis paused: ${answers.length} requests, all answered, slowest ${slowest.toFixed(0)} ms`);
  }, 20_000);
});

describe.skipIf(!available)("S3 that stops answering", () => {
  let db: TestDatabase;
  let s3: TestS3;
  let proxy: StallProxy;
  let app: FaultRegistry;
  let sql: postgres.Sql;

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startS3();
    proxy = startStallProxy(Number(new URL(s3.endpoint).port));
    app = await startFaultRegistry(
      {
        DATABASE_URL: db.url,
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        ...s3Env({ bucket: s3.bucket, endpoint: proxy.endpoint }, { S3_MIN_SIZE_BYTES: "1024" }),
      },
      { objectStore: { credentials: { ...S3RVER_CREDENTIALS } } },
    );
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    proxy?.resume();
    await sql?.end({ timeout: 1 });
    await app?.close();
    proxy?.stop();
    await s3?.stop();
    await db?.drop();
  });

  test("a register needing S3 answers 503 at the deadline and is not applied when S3 answers late", async () => {
    const before = await app.call("POST", "/api/v1/schemas", registerBody("s3.before", 1, 4096));
    expect(before.status).toBe(201);
    expect(before.body.content_location).toBe("object_store");

    proxy.stall();
    const late = await app.call("POST", "/api/v1/schemas", registerBody("s3.late", 2, 4096));
    expect(late.status).toBe(503);
    expect(late.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(late.headers.get("Retry-After")).toBe("1");
    expect(late.body.error.details.reason).toBe("timeout");
    // Metadata and presigned links need no S3 round trip: still served while it hangs.
    const meta = await app.call("GET", `/api/v1/schemas/${before.body.id}`);
    expect(meta.status).toBe(200);
    expect(meta.ms).toBeLessThan(REQUEST_TIMEOUT_MS);

    // S3 answers now, after the client was told: the register's upload completes, its insert must not run.
    proxy.resume();
    await Bun.sleep(1500);
    expect(await sql`SELECT id FROM schemas WHERE subject = 's3.late'`).toHaveLength(0);

    // And S3 back, the same request registers (once).
    const again = await app.call("POST", "/api/v1/schemas", registerBody("s3.late", 2, 4096));
    expect(again.status).toBe(201);
    expect(await sql`SELECT id FROM schemas WHERE subject = 's3.late'`).toHaveLength(1);
    console.log(
      `S3 stalled: register answered 503 after ${late.ms.toFixed(0)} ms; its late upload was not registered`,
    );
  }, 20_000);
});

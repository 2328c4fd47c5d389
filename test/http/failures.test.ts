/**
 * When what the registry stands on fails: a database that does not answer
 * (503 unavailable, unready), a database that answers with an error the
 * registry did not expect (500 internal, leaking nothing), and a database
 * whose migrations an operator has not applied yet (unready).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

/** Nothing listens on port 1 of the loopback: connections are refused at once. */
const CLOSED_PORT_URL = "postgres://registry:secret-password@127.0.0.1:1/registry";

describe("a database that does not answer", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: CLOSED_PORT_URL, env: { DATABASE_MIGRATE_ON_START: "false" } });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("reads and writes answer 503 unavailable, naming no host or credential", async () => {
    const requests = [
      api.get("/api/v1/schemas/1"),
      api.get("/api/v1/schemas/00000000-0000-4000-8000-000000000000/content"),
      api.get("/api/v1/subjects"),
      api.get("/api/v1/subjects/any.Subject/versions/latest"),
      api.get("/api/v1/search?q=x"),
      api.get("/api/v1/stats"),
      api.post("/api/v1/schemas", { subject: "down.Subject", schema_type: "json", content: jsonSchema(1) }),
    ];
    for (const res of await Promise.all(requests)) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("unavailable");
      expect(res.body.error.request_id).toBe(res.headers.get("X-Request-Id"));
      expect(res.text).not.toContain("127.0.0.1");
      expect(res.text).not.toContain("secret-password");
      expect(res.text).not.toContain("ECONNREFUSED");
    }
  });

  test("validation still answers 400 before the database is asked", async () => {
    const res = await api.post("/api/v1/schemas", { subject: 5 });
    expect(res.status).toBe(400);
  });

  test("the instance is live but not ready", async () => {
    expect((await api.get("/health/live")).status).toBe(200);
    const ready = await api.get("/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe("unready");
    expect(ready.body.checks.postgres.status).toBe("down");
    expect(ready.text).not.toContain("secret-password");
  });
});

describe.skipIf(!available)("a database that fails unexpectedly", () => {
  let api: TestRegistry;
  let sql: postgres.Sql;
  const rows = async () => [...(await sql`SELECT * FROM schemas ORDER BY global_id`)];

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
    await api.post("/api/v1/schemas", {
      subject: "broken.Subject",
      schema_type: "json",
      content: jsonSchema(1),
    });
    // Damage the database under the registry: the history table disappears.
    sql = postgres(api.registry.database.url, { max: 1, onnotice: () => {} });
    await sql`DROP TABLE schema_state_history`;
  });
  afterAll(async () => {
    await sql?.end();
    await api?.close();
  });

  test("answers 500 internal with a generic message, and the write leaves nothing behind", async () => {
    const before = await rows();
    const history = await api.get("/api/v1/schemas/1/history");
    expect(history.status).toBe(500);
    expect(history.body.error.code).toBe("internal");
    expect(history.body.error.details).toEqual({});
    expect(history.body.error.message).toContain("request id");
    expect(history.text).not.toContain("schema_state_history");
    expect(history.text).not.toContain("relation");

    // Registering writes the history in the same statement: it fails as a whole.
    const res = await api.post("/api/v1/schemas", {
      subject: "broken.Subject",
      schema_type: "json",
      content: jsonSchema(2),
    });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain("schema_state_history");
    expect(await rows()).toEqual(before);
  });

  test("reads that do not touch the broken table still work", async () => {
    expect((await api.get("/api/v1/schemas/1")).status).toBe(200);
  });
});

describe.skipIf(!available)("migrations left to an operator", () => {
  let database: TestDatabase;
  let api: TestRegistry;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestRegistry({
      database: database.url as `postgres://${string}`,
      env: { DATABASE_MIGRATE_ON_START: "false" },
    });
  });
  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  test("the instance is not ready until they are applied", async () => {
    const ready = await api.get("/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres.error).toContain("migrations not applied");

    const { createMigrator } = await import("../../src/storage/postgres/migrator.ts");
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await (await createMigrator(sql)).run();
    await sql.end();

    const after = await api.get("/health/ready");
    expect(after.status).toBe(200);
    expect(after.body.status).toBe("ready");
  });
});

/**
 * State changes and soft deletes through the app on PostgreSQL, many at once
 * under a write bound of one slot: they are grouped (fewer storage calls than
 * requests), each batch takes one slot, so none is refused, and each request
 * still gets its own answer, its own audit entry under its own request id,
 * and its own history row.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { jsonSchema, type RegistryInstance, startRegistryInstance } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();
const COUNT = 40;

describe.skipIf(!available)("state changes and soft deletes under a one-slot write bound", () => {
  let database: TestDatabase;
  let instance: RegistryInstance;
  let sql: postgres.Sql;
  const ids: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
    // One write at a time, two waiting: one request per slot would refuse most of a burst of 40.
    instance = await startRegistryInstance(
      database.url,
      { WRITE_CONCURRENCY: "1", WRITE_QUEUE: "2" },
      undefined,
    );
    for (let i = 0; i < COUNT; i++) {
      const created = await instance.call("POST", "/api/v1/schemas", {
        subject: `group.s${i}`,
        schema_type: "json",
        content: jsonSchema(i),
      });
      expect(created.status).toBe(201);
      ids.push((created.body as { id: string }).id);
    }
  });

  afterAll(async () => {
    await instance?.registry.close();
    await sql?.end({ timeout: 1 });
    await database?.drop();
  });

  test("are grouped, none refused, each with its own answer, audit entry and history row", async () => {
    const before = await instance.queries("applyLifecycle");
    const responses = await Promise.all(
      ids.map((id, i) =>
        instance.registry.app.request(
          `/api/v1/schemas/${id}${i % 2 === 0 ? "/state" : ""}`,
          i % 2 === 0
            ? {
                method: "PATCH",
                headers: { "Content-Type": "application/json", "X-Request-Id": `group-${i}` },
                body: JSON.stringify({ state: "deprecated", reason: `reason ${i}` }),
              }
            : { method: "DELETE", headers: { "X-Request-Id": `group-${i}` } },
        ),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses).toEqual(ids.map((_, i) => (i % 2 === 0 ? 200 : 204)));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    for (let i = 0; i < COUNT; i += 2) {
      expect(JSON.parse(bodies[i]!)).toMatchObject({ id: ids[i], state: "deprecated" });
    }
    // Grouped: fewer storage calls than requests (the first goes alone, the rest wait for it).
    expect((await instance.queries("applyLifecycle")) - before).toBeLessThan(COUNT / 2);

    const audit = await sql<{ request_id: string; operation: string; schema_id: string }[]>`
      SELECT request_id, operation, schema_id::text FROM audit_log
      WHERE request_id LIKE 'group-%' ORDER BY request_id`;
    expect(audit.length).toBe(COUNT);
    for (const entry of audit) {
      const i = Number(entry.request_id.slice("group-".length));
      expect(entry.schema_id).toBe(ids[i]!);
      expect(entry.operation).toBe(i % 2 === 0 ? "schema.state_change" : "schema.delete");
    }
    const history = await sql<{ schema_id: string; reason: string }[]>`
      SELECT schema_id::text, reason FROM schema_state_history WHERE to_state = 'deprecated'`;
    expect(new Map(history.map((row) => [row.schema_id, row.reason]))).toEqual(
      new Map(ids.filter((_, i) => i % 2 === 0).map((id) => [id, `reason ${ids.indexOf(id)}`])),
    );
  });
});

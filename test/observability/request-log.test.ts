/**
 * Structured logs: one JSON line per request (method, route template, path,
 * status, duration, request id, the same id as the X-Request-Id header), an
 * unexpected failure logged with its stack while the response shows none,
 * and the buffered sink that writes the lines (batched, warnings and errors
 * at once, nothing lost on flush).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { createLogSink } from "../../src/observability/log-sink.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { jsonSchema } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

describe.skipIf(!available)("request log of a registry on PostgreSQL", () => {
  let database: TestDatabase;
  let registry: Registry;
  const lines: Record<string, unknown>[] = [];

  const call = (path: string, init: RequestInit = {}) => registry.app.request(path, init);
  const requestLines = () => lines.filter((line) => line.message === "request");

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = await loadConfig({
      env: { DATABASE_URL: database.url, DATABASE_MAX_CONNECTIONS: "4", AUTH_REQUIRED: "false" },
    });
    const logger = createLogger("info", (line) => lines.push(JSON.parse(line)));
    registry = await createRegistry(config, { logger });
  });
  afterAll(async () => {
    await registry?.close();
    await database?.drop();
  });

  test("one line per request, with the route template and the id the client got", async () => {
    const started = performance.now();
    lines.length = 0;
    const created = await call("/api/v1/schemas", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-Id": "client-req-1" },
      body: JSON.stringify({ subject: "log.Subject", schema_type: "json", content: jsonSchema(1) }),
    });
    const { id } = (await created.json()) as { id: string };
    const read = await call(`/api/v1/schemas/${id}`);
    const missing = await call("/nowhere");

    const logged = requestLines();
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({
      level: "info",
      request_id: "client-req-1",
      method: "POST",
      route: "/api/v1/schemas",
      path: "/api/v1/schemas",
      status: 201,
    });
    expect(logged[1]).toMatchObject({
      request_id: read.headers.get("X-Request-Id"),
      method: "GET",
      route: "/api/v1/schemas/:id",
      path: `/api/v1/schemas/${id}`,
      status: 200,
    });
    expect(logged[2]).toMatchObject({ route: "unmatched", status: 404 });
    expect(logged[2]!.request_id).toBe(missing.headers.get("X-Request-Id"));
    for (const line of logged) {
      expect(typeof line.duration_ms).toBe("number");
      // Timed by the server: never negative, never longer than the test has been running.
      expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
      expect(line.duration_ms as number).toBeLessThanOrEqual(performance.now() - started);
      expect(Date.parse(line.time as string)).not.toBeNaN();
    }
  });

  test("an unexpected failure: the stack in the log, none in the response", async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await sql`DROP TABLE schema_state_history`;
    } finally {
      await sql.end();
    }
    lines.length = 0;
    const res = await call("/api/v1/schemas/1/history", { headers: { "X-Request-Id": "broken-1" } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("    at ");
    expect(text).not.toContain("schema_state_history");

    const error = lines.find((line) => line.level === "error");
    expect(error?.request_id).toBe("broken-1");
    const cause = error?.error as { stack?: string; message?: string };
    expect(cause.message).toContain("schema_state_history");
    expect(cause.stack).toContain("    at ");
    // The access line follows the error line, with the same id.
    const access = requestLines().at(-1);
    expect(access).toMatchObject({ request_id: "broken-1", status: 500 });
    expect(lines.indexOf(access!)).toBeGreaterThan(lines.indexOf(error!));
  });
});

describe("buffered log sink", () => {
  test("gathers info lines and writes them together, in order", () => {
    const chunks: string[] = [];
    const sink = createLogSink((chunk) => chunks.push(chunk), { maxLines: 3, maxDelayMs: 60_000 });
    sink.write("a", "info");
    sink.write("b", "debug");
    expect(chunks).toEqual([]);
    sink.write("c", "info");
    expect(chunks).toEqual(["a\nb\nc"]);
    sink.write("d", "info");
    sink.flush();
    expect(chunks).toEqual(["a\nb\nc", "d"]);
    sink.flush();
    expect(chunks).toHaveLength(2);
  });

  test("a warning or an error is written at once, after the lines before it", () => {
    const chunks: string[] = [];
    const sink = createLogSink((chunk) => chunks.push(chunk), { maxLines: 100, maxDelayMs: 60_000 });
    sink.write("request 1", "info");
    sink.write("failure", "error");
    expect(chunks).toEqual(["request 1\nfailure"]);
    sink.write("slow", "warn");
    expect(chunks).toEqual(["request 1\nfailure", "slow"]);
  });

  test("a line waits no longer than the delay", async () => {
    const chunks: string[] = [];
    const sink = createLogSink((chunk) => chunks.push(chunk), { maxLines: 100, maxDelayMs: 20 });
    sink.write("late", "info");
    expect(chunks).toEqual([]);
    await Bun.sleep(80);
    expect(chunks).toEqual(["late"]);
  });
});

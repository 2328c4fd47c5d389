/**
 * The fast path of `GET /api/v1/schemas/{id}` (src/http/schema-fast-path.ts)
 * against the route behind it: on the machine's PostgreSQL with L1, the same
 * bytes and headers, never a stale body after a change or a delete on this
 * instance, If-None-Match → 304, every request read once, and every request
 * it answers counted in the metrics and logged; with a stand-in service, the
 * same answers as the route for a link, a backend failure and any request id,
 * and an L1 hit answered without a promise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { RegistryError } from "../../src/domain/errors.ts";
import { DEFAULT_LIMITS } from "../../src/domain/limits.ts";
import type { SchemaRecord } from "../../src/domain/types.ts";
import { createApp } from "../../src/http/app.ts";
import type { RegistryApp } from "../../src/http/app-env.ts";
import { type FetchHandler, fastPathId, withSchemaFastPath } from "../../src/http/schema-fast-path.ts";
import { createLogger, silentLogger } from "../../src/observability/logger.ts";
import { RegistryMetrics } from "../../src/observability/registry-metrics.ts";
import type { RegistryService, SchemaView } from "../../src/registry/registry-service.ts";
import { jsonSchema } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

test("only a bare /api/v1/schemas/{id} URL takes the fast path", () => {
  const id = "5f0c6d1e-8a8b-4c1e-9b7a-1d2e3f4a5b6c";
  expect(fastPathId(`http://localhost/api/v1/schemas/${id}`)).toBe(id);
  expect(fastPathId("https://registry.example:8443/api/v1/schemas/17")).toBe("17");
  for (const other of [
    `http://localhost/api/v1/schemas/${id}?include=content`,
    `http://localhost/api/v1/schemas/${id}/`,
    `http://localhost/api/v1/schemas/${id}/content`,
    "http://localhost/api/v1/schemas/",
    "http://localhost/api/v1/schemas/%31%37",
    "http://localhost/api/v2/schemas/17",
    "http://localhost/x/api/v1/schemas/17",
  ]) {
    expect(fastPathId(other)).toBeNull();
  }
});

describe.skipIf(!available)("fast path of GET /api/v1/schemas/{id} on PostgreSQL", () => {
  let database: TestDatabase;
  let registry: Registry;
  let app: RegistryApp;
  let handler: FetchHandler;
  let metrics: RegistryMetrics;
  const lines: Record<string, unknown>[] = [];
  // How schemas were read: the fast path asks with the ref alone, the route with its query's options.
  const reads = { fast: 0, route: 0 };

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = await loadConfig({
      env: { DATABASE_URL: database.url, DATABASE_MAX_CONNECTIONS: "4", AUTH_REQUIRED: "false" },
    });
    registry = await createRegistry(config, { logger: silentLogger });
    const service = registry.service;
    const counted = new Proxy(service, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== "getSchema") return typeof value === "function" ? value.bind(target) : value;
        return (...args: Parameters<RegistryService["getSchema"]>) => {
          if (args.length === 1) reads.fast++;
          else reads.route++;
          return service.getSchema(...args);
        };
      },
    });
    metrics = new RegistryMetrics();
    const logger = createLogger("info", (line) => lines.push(JSON.parse(line)));
    app = createApp({ service: counted, health: [], logger, metrics });
    handler = withSchemaFastPath(app, { service: counted, logger, metrics });
  });
  afterAll(async () => {
    await registry?.close();
    await database?.drop();
  });

  const register = async (subject: string) => {
    const res = await app.request("/api/v1/schemas", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject,
        schema_type: "json",
        content: jsonSchema(3),
        metadata: { tags: ["fast"] },
      }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; global_id: number };
  };
  const get = async (path: string, headers: Record<string, string> = {}) =>
    handler.fetch(new Request(`http://localhost${path}`, { headers }));
  const headersOf = (res: Response) => [...res.headers.entries()].sort(([a], [b]) => a.localeCompare(b));

  test("answers with the route's bytes and headers, by UUID and by global_id", async () => {
    const { id, global_id } = await register("fast.Same");
    for (const ref of [id, String(global_id)]) {
      const before = { ...reads };
      const fast = await get(`/api/v1/schemas/${ref}`, { "X-Request-Id": "same-1" });
      expect(reads).toEqual({ fast: before.fast + 1, route: before.route });
      // A query string sends the request through Hono, zod and the route.
      const routed = await get(`/api/v1/schemas/${ref}?include_deleted=false`, { "X-Request-Id": "same-1" });
      expect(reads).toEqual({ fast: before.fast + 1, route: before.route + 1 });
      expect(fast.status).toBe(200);
      expect(routed.status).toBe(200);
      expect(await fast.text()).toBe(await routed.text());
      expect(headersOf(fast)).toEqual(headersOf(routed));
      expect(fast.headers.get("Content-Type")).toBe("application/json");
      expect(fast.headers.get("X-Request-Id")).toBe("same-1");
    }
    const body = (await (await get(`/api/v1/schemas/${id}`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id,
      global_id,
      subject: "fast.Same",
      state: "active",
      content: jsonSchema(3),
    });
  });

  test("a state change and a delete on this instance are served at once, never the memoised body", async () => {
    const { id, global_id } = await register("fast.Fresh");
    const first = await get(`/api/v1/schemas/${id}`);
    expect(((await first.json()) as { state: string }).state).toBe("active");
    await get(`/api/v1/schemas/${global_id}`);

    const patched = await app.request(`/api/v1/schemas/${id}/state`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ state: "deprecated" }),
    });
    expect(patched.status).toBe(200);
    for (const ref of [id, String(global_id)]) {
      const res = await get(`/api/v1/schemas/${ref}`);
      expect(((await res.json()) as { state: string }).state).toBe("deprecated");
      expect(res.headers.get("ETag")).not.toBe(first.headers.get("ETag"));
    }

    expect((await app.request(`/api/v1/schemas/${id}`, { method: "DELETE" })).status).toBe(204);
    for (const ref of [id, String(global_id)]) {
      const before = { ...reads };
      const gone = await get(`/api/v1/schemas/${ref}`, { "X-Request-Id": "gone-1" });
      expect(gone.status).toBe(404);
      const body = (await gone.json()) as { error: { code: string; request_id: string } };
      expect(body.error).toMatchObject({ code: "not_found", request_id: "gone-1" });
      // Handed on to the route with the read already made: one read, not two.
      expect(reads.fast + reads.route).toBe(before.fast + before.route + 1);
    }
    const deleted = await get(`/api/v1/schemas/${id}?include_deleted=true`);
    expect(((await deleted.json()) as { deleted_at: string | null }).deleted_at).not.toBeNull();
  });

  test("If-None-Match with the current ETag gives 304; after a change, the new representation", async () => {
    const { id } = await register("fast.Conditional");
    const full = await get(`/api/v1/schemas/${id}`);
    const etag = full.headers.get("ETag")!;
    expect(etag).toStartWith('W/"sha256:');

    const before = reads.fast;
    const same = await get(`/api/v1/schemas/${id}`, { "If-None-Match": etag, "X-Request-Id": "cond-1" });
    expect(reads.fast).toBe(before + 1);
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    expect(same.headers.get("ETag")).toBe(etag);
    expect(same.headers.get("Cache-Control")).toBe("no-cache");
    expect(same.headers.get("X-Request-Id")).toBe("cond-1");
    expect((await get(`/api/v1/schemas/${id}`, { "If-None-Match": `"other", ${etag}` })).status).toBe(304);
    expect((await get(`/api/v1/schemas/${id}`, { "If-None-Match": "*" })).status).toBe(304);
    expect((await get(`/api/v1/schemas/${id}`, { "If-None-Match": '"other"' })).status).toBe(200);

    await app.request(`/api/v1/schemas/${id}/state`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ state: "deprecated" }),
    });
    const changed = await get(`/api/v1/schemas/${id}`, { "If-None-Match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
  });

  test("requests it answers are in the duration histogram and the access log, like any other", async () => {
    const { id } = await register("fast.Counted");
    const etag = (await get(`/api/v1/schemas/${id}`)).headers.get("ETag")!;
    const counts = async () => {
      const text = await metrics.expose();
      const count = (status: number) => {
        const line = text
          .split("\n")
          .find(
            (l) =>
              l.includes("http_request_duration_seconds_count{") &&
              l.includes('method="GET"') &&
              l.includes('route="/api/v1/schemas/:id"') &&
              l.includes(`status="${status}"`),
          );
        return line ? Number(line.split(" ").at(-1)) : 0;
      };
      const inFlight = text.split("\n").find((l) => l.startsWith("schema_registry_http_requests_in_flight "));
      return { ok: count(200), notModified: count(304), notFound: count(404), inFlight };
    };
    const before = await counts();
    lines.length = 0;
    const fastBefore = reads.fast;

    const started = performance.now();
    const served = await get(`/api/v1/schemas/${id}`, { "X-Request-Id": "count-1" });
    const revalidated = await get(`/api/v1/schemas/${id}`, { "If-None-Match": etag });
    const missing = await get("/api/v1/schemas/00000000-0000-4000-8000-000000000000");
    expect([served.status, revalidated.status, missing.status]).toEqual([200, 304, 404]);
    expect(reads.fast).toBe(fastBefore + 3);

    const after = await counts();
    expect(after.ok).toBe(before.ok + 1);
    expect(after.notModified).toBe(before.notModified + 1);
    expect(after.notFound).toBe(before.notFound + 1);
    expect(after.inFlight).toBe("schema_registry_http_requests_in_flight 0");

    const logged = lines.filter((line) => line.message === "request");
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({
      level: "info",
      request_id: "count-1",
      method: "GET",
      route: "/api/v1/schemas/:id",
      path: `/api/v1/schemas/${id}`,
      status: 200,
    });
    expect(logged[1]).toMatchObject({ route: "/api/v1/schemas/:id", status: 304 });
    expect(logged[1]!.request_id).toBe(revalidated.headers.get("X-Request-Id"));
    expect(logged[2]).toMatchObject({ route: "/api/v1/schemas/:id", status: 404 });
    expect(logged[2]!.request_id).toBe(missing.headers.get("X-Request-Id"));
    for (const line of logged) {
      expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
      expect(line.duration_ms as number).toBeLessThanOrEqual(performance.now() - started);
      expect(Date.parse(line.time as string)).not.toBeNaN();
    }
  });
});

describe("fast path with a stand-in service", () => {
  const id = "5f0c6d1e-8a8b-4c1e-9b7a-1d2e3f4a5b6c";
  const row: SchemaRecord = {
    id,
    globalId: 17,
    subject: "stub.Subject",
    version: "1.0.0",
    contentId: 1,
    subjectVersion: 1,
    references: [],
    schemaType: "json",
    state: "active",
    content: { type: "object" },
    contentHash: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    contentSize: 17,
    contentLocation: "inline",
    contentKey: null,
    metadata: { tags: ["stub"] },
    createdAt: new Date("2026-01-02T03:04:05.000Z"),
    updatedAt: new Date("2026-01-02T03:04:05.000Z"),
    deletedAt: null,
  };
  const elsewhere: SchemaRecord = { ...row, content: null, contentLocation: "object_store", contentKey: "k" };

  /** The app and its fast path over a service whose `getSchema` answers `read()`. */
  const start = (read: () => SchemaView | Promise<SchemaView>, requestTimeoutMs?: number) => {
    const service = { limits: DEFAULT_LIMITS, getSchema: read } as unknown as RegistryService;
    const logged: Record<string, unknown>[] = [];
    const logger = createLogger("info", (line) => logged.push(JSON.parse(line)));
    const deps = {
      service,
      health: [],
      logger,
      metrics: new RegistryMetrics(),
      ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    };
    const app = createApp(deps);
    const appFetch = app.fetch;
    return { app, appFetch, handler: withSchemaFastPath(app, deps), logged };
  };
  const request = (path: string, headers: Record<string, string> = {}) =>
    new Request(`http://localhost${path}`, { headers });
  /** The same request answered by the fast path and (with a query string) by the route. */
  const both = async (handler: FetchHandler, headers: Record<string, string> = {}) => ({
    fast: await handler.fetch(request(`/api/v1/schemas/${id}`, headers)),
    routed: await handler.fetch(request(`/api/v1/schemas/${id}?include_deleted=false`, headers)),
  });
  const headersOf = (res: Response) => [...res.headers.entries()].sort(([a], [b]) => a.localeCompare(b));

  test("an L1 hit is answered with a Response, not a promise; the app is left as it was", async () => {
    const { app, appFetch, handler } = start(() => ({ schema: row, link: null }));
    const answer = handler.fetch(request(`/api/v1/schemas/${id}`));
    expect(answer).toBeInstanceOf(Response);
    expect(app.fetch).toBe(appFetch);
    const { fast, routed } = await both(handler, { "X-Request-Id": "hit-1" });
    expect(await fast.text()).toBe(await routed.text());
    expect(headersOf(fast)).toEqual(headersOf(routed));
  });

  test("content elsewhere, answered with a link: the route's bytes and headers", async () => {
    const link = { url: "https://store.example/k?sig=1", expiresAt: new Date("2026-01-02T04:04:05.000Z") };
    const { handler } = start(() => Promise.resolve({ schema: elsewhere, link }));
    const { fast, routed } = await both(handler, { "X-Request-Id": "link-1" });
    expect(fast.status).toBe(200);
    const text = await fast.text();
    expect(text).toBe(await routed.text());
    expect(headersOf(fast)).toEqual(headersOf(routed));
    expect(JSON.parse(text)).toMatchObject({ content_url: link.url, content_location: "object_store" });
    expect(JSON.parse(text)).not.toHaveProperty("content");
  });

  test("a failed read: the route's error envelope, status, headers and log line", async () => {
    for (const failure of [
      RegistryError.unavailable("the database does not answer", new Error("ECONNREFUSED")),
      new Error("something unexpected"),
    ]) {
      const { handler, logged } = start(() => Promise.reject(failure));
      const { fast, routed } = await both(handler, { "X-Request-Id": "fail-1" });
      expect([fast.status, routed.status]).toEqual(
        failure instanceof RegistryError ? [503, 503] : [500, 500],
      );
      expect(await fast.text()).toBe(await routed.text());
      expect(headersOf(fast)).toEqual(headersOf(routed));
      const problems = logged
        .filter((line) => line.message !== "request")
        .map(({ time: _time, ...line }) => line);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toEqual(problems[1]!);
      expect(problems[0]).toMatchObject({ request_id: "fail-1" });
    }
  });

  test("a read that outlasts the deadline: 503 timeout within it, as the route answers; a late answer is dropped", async () => {
    const timeoutMs = 300;
    let late: (view: SchemaView) => void = () => {};
    const { handler } = start(() => new Promise<SchemaView>((resolve) => (late = resolve)), timeoutMs);
    const started = performance.now();
    const { fast, routed } = await both(handler, { "X-Request-Id": "slow-1" });
    // Both were answered by their deadline, one after the other.
    expect(performance.now() - started).toBeLessThan(2 * timeoutMs + 400);
    expect([fast.status, routed.status]).toEqual([503, 503]);
    const body = (await fast.json()) as { error: { code: string; details: Record<string, unknown> } };
    expect(body.error.code).toBe("unavailable");
    expect(body.error.details).toMatchObject({ reason: "timeout", timeout_ms: timeoutMs });
    expect(fast.headers.get("X-Request-Id")).toBe("slow-1");
    expect(fast.headers.get("Retry-After")).toBe(routed.headers.get("Retry-After"));
    // The read's answer after the deadline changes nothing and throws nowhere.
    late({ schema: row, link: null });
    await Bun.sleep(10);
  });

  test("request ids: kept or replaced by one rule on both paths", async () => {
    const { handler } = start(() => ({ schema: row, link: null }));
    for (const kept of ["client-42", "a.b:c", "trace_7", "token=="]) {
      const { fast, routed } = await both(handler, { "X-Request-Id": kept });
      expect([fast.headers.get("X-Request-Id"), routed.headers.get("X-Request-Id")]).toEqual([kept, kept]);
    }
    for (const replaced of ["bad id with spaces", "x".repeat(129), 'quote"d']) {
      const { fast, routed } = await both(handler, { "X-Request-Id": replaced });
      for (const res of [fast, routed]) expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

/**
 * Every route of the HTTP API on its happy path, through `app.request()` against
 * the real PostgreSQL backend in a database of this file's own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JsonBody, jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

const AVRO = {
  type: "record",
  name: "Event",
  namespace: "com.acme",
  fields: [
    { name: "id", type: "string" },
    { name: "at", type: "long" },
  ],
};
const PROTO = 'syntax = "proto3";\r\npackage acme;   \r\nmessage Ping {\n  string id = 1;\n}\n';

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

describe.skipIf(!available)("HTTP API on PostgreSQL", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  describe("round trip of a JSON Schema", () => {
    let created: JsonBody;

    test("register answers 201 with the resource and its Location", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "com.acme.chat.CompletionRequest",
        schema_type: "json",
        content: jsonSchema(1),
        metadata: {
          description: "Request body of the chat completion call",
          tags: ["llm", "production"],
          owner: "platform-team",
          custom: { model_family: "gpt" },
        },
      });
      expect(res.status).toBe(201);
      created = res.body;
      expect(res.headers.get("Location")).toBe(`/api/v1/schemas/${created.id}`);
      expect(created).toMatchObject({
        subject: "com.acme.chat.CompletionRequest",
        version: "1.0.0",
        schema_type: "json",
        state: "active",
        content: jsonSchema(1),
        content_location: "inline",
        metadata: { tags: ["llm", "production"], owner: "platform-team", custom: { model_family: "gpt" } },
        deleted_at: null,
      });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.global_id).toBeGreaterThan(0);
      expect(created.content_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Date.parse(created.created_at)).not.toBeNaN();
      expect(res.headers.get("X-Request-Id")).toBeTruthy();
    });

    test("reads back by UUID, by global_id, by subject and version, and as latest", async () => {
      const paths = [
        `/api/v1/schemas/${created.id}`,
        `/api/v1/schemas/${created.global_id}`,
        "/api/v1/subjects/com.acme.chat.CompletionRequest/versions/1.0.0",
        "/api/v1/subjects/com.acme.chat.CompletionRequest/versions/latest",
      ];
      for (const path of paths) {
        const res = await api.get(path);
        expect(res.status, path).toBe(200);
        expect(res.body, path).toEqual(created);
      }
    });

    test("the content route serves the canonical text, whose SHA-256 is the content_hash", async () => {
      const res = await api.get(`/api/v1/schemas/${created.id}/content`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/schema+json");
      expect(await sha256(res.text)).toBe(created.content_hash);
      expect(JSON.parse(res.text)).toEqual(jsonSchema(1));
      expect(res.headers.get("ETag")).toBe(`"${created.content_hash}"`);
      expect(res.headers.get("Cache-Control")).toContain("immutable");
    });

    test("If-None-Match answers 304 on the schema and on its content", async () => {
      const schema = await api.get(`/api/v1/schemas/${created.id}`);
      const etag = schema.headers.get("ETag")!;
      expect(etag).toBeTruthy();
      const again = await api.get(`/api/v1/schemas/${created.id}`, { "If-None-Match": etag });
      expect(again.status).toBe(304);
      expect(again.text).toBe("");

      const content = await api.get(`/api/v1/schemas/${created.global_id}/content`, {
        "If-None-Match": `"sha256:0000", "${created.content_hash}"`,
      });
      expect(content.status).toBe(304);
      const stale = await api.get(`/api/v1/schemas/${created.id}/content`, {
        "If-None-Match": '"sha256:other"',
      });
      expect(stale.status).toBe(200);
    });

    test("the schema's ETag changes with its state, though its content does not", async () => {
      const before = (await api.get(`/api/v1/schemas/${created.id}`)).headers.get("ETag")!;
      await api.request("PATCH", `/api/v1/schemas/${created.id}/state`, { body: { state: "deprecated" } });
      const after = await api.get(`/api/v1/schemas/${created.id}`, { "If-None-Match": before });
      expect(after.status).toBe(200);
      expect(after.body.state).toBe("deprecated");
      await api.request("PATCH", `/api/v1/schemas/${created.id}/state`, { body: { state: "active" } });
    });
  });

  describe("registration rules", () => {
    test("without a version: 1.0.0 for a new subject, then the latest's minor + 1", async () => {
      const first = await api.post("/api/v1/schemas", {
        subject: "versioning.Default",
        schema_type: "json",
        content: jsonSchema(1),
      });
      const second = await api.post("/api/v1/schemas", {
        subject: "versioning.Default",
        schema_type: "json",
        content: jsonSchema(2),
      });
      const third = await api.post("/api/v1/schemas", {
        subject: "versioning.Default",
        schema_type: "json",
        content: jsonSchema(3),
        version: "4.7.3",
      });
      const fourth = await api.post("/api/v1/schemas", {
        subject: "versioning.Default",
        schema_type: "json",
        content: jsonSchema(4),
      });
      expect([first.status, second.status, third.status, fourth.status]).toEqual([201, 201, 201, 201]);
      expect([first.body.version, second.body.version, third.body.version, fourth.body.version]).toEqual([
        "1.0.0",
        "1.1.0",
        "4.7.3",
        "4.8.0",
      ]);
    });

    test("the same content again, with another version, answers 200 with the same schema and creates nothing", async () => {
      const first = await api.post("/api/v1/schemas", {
        subject: "idempotent.Subject",
        schema_type: "json",
        content: jsonSchema(7),
        version: "1.0.0",
      });
      // Same content with other key order and whitespace, sent as JSON text.
      const reordered = JSON.stringify(
        {
          required: ["prompt"],
          properties: jsonSchema(7).properties,
          type: "object",
          $schema: jsonSchema(7).$schema,
        },
        null,
        2,
      );
      const again = await api.post("/api/v1/schemas", {
        subject: "idempotent.Subject",
        schema_type: "json",
        content: reordered,
        version: "9.9.9",
      });
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.version).toBe("1.0.0");
      expect(again.headers.get("Location")).toBe(`/api/v1/schemas/${first.body.id}`);
      const list = await api.get("/api/v1/subjects/idempotent.Subject/versions");
      expect(list.body.total).toBe(1);
    });

    test("build metadata does not make another version", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "build.Meta",
        schema_type: "json",
        content: jsonSchema(1),
        version: "1.0.0-rc.1+build.5",
      });
      expect(res.status).toBe(201);
      expect(res.body.version).toBe("1.0.0-rc.1+build.5");
      for (const asked of ["1.0.0-rc.1", "1.0.0-rc.1+build.9", "1.0.0-rc.1%2Bbuild.5"]) {
        const found = await api.get(`/api/v1/subjects/build.Meta/versions/${asked}`);
        expect(found.status, asked).toBe(200);
        expect(found.body.id).toBe(res.body.id);
      }
      const clash = await api.post("/api/v1/schemas", {
        subject: "build.Meta",
        schema_type: "json",
        content: jsonSchema(2),
        version: "1.0.0-rc.1+build.6",
      });
      expect(clash.status).toBe(409);
      expect(clash.body.error.code).toBe("version_exists");
    });

    test("Avro and Protobuf register and serve their content with their media types", async () => {
      const avro = await api.post("/api/v1/schemas", {
        subject: "com.acme.Event",
        schema_type: "avro",
        content: AVRO,
      });
      expect(avro.status).toBe(201);
      const avroContent = await api.get(`/api/v1/schemas/${avro.body.id}/content`);
      expect(avroContent.headers.get("Content-Type")).toBe("application/json");
      expect(JSON.parse(avroContent.text)).toEqual(AVRO);
      expect(await sha256(avroContent.text)).toBe(avro.body.content_hash);

      const proto = await api.post("/api/v1/schemas", {
        subject: "acme.Ping",
        schema_type: "protobuf",
        content: PROTO,
        state: "draft",
      });
      expect(proto.status).toBe(201);
      expect(proto.body.state).toBe("draft");
      expect(proto.body.content).toBe(
        'syntax = "proto3";\npackage acme;\nmessage Ping {\n  string id = 1;\n}\n',
      );
      const protoContent = await api.get(`/api/v1/schemas/${proto.body.id}/content`);
      expect(protoContent.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
      expect(protoContent.text).toBe(proto.body.content);
      expect(await sha256(protoContent.text)).toBe(proto.body.content_hash);
    });
  });

  describe("lifecycle, history and deletion", () => {
    test("a state change is answered with the schema and recorded with its reason", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "life.Cycle",
        schema_type: "json",
        content: jsonSchema(1),
      });
      const id = res.body.id;
      const deprecated = await api.request("PATCH", `/api/v1/schemas/${id}/state`, {
        body: { state: "deprecated", reason: "superseded by 2.0.0" },
      });
      expect(deprecated.status).toBe(200);
      expect(deprecated.body.state).toBe("deprecated");
      expect(deprecated.body.content).toEqual(jsonSchema(1));
      const archived = await api.request("PATCH", `/api/v1/schemas/${res.body.global_id}/state`, {
        body: { state: "archived" },
      });
      expect(archived.body.state).toBe("archived");

      const history = await api.get(`/api/v1/schemas/${id}/history`);
      expect(history.status).toBe(200);
      expect(history.body.items.map((t: JsonBody) => [t.from_state, t.to_state, t.reason])).toEqual([
        [null, "active", null],
        ["active", "deprecated", "superseded by 2.0.0"],
        ["deprecated", "archived", null],
      ]);
      expect(Date.parse(history.body.items[2].changed_at)).not.toBeNaN();
    });

    test("latest is the highest active or deprecated version that is not deleted", async () => {
      const subject = "latest.Rules";
      const v1 = await api.post("/api/v1/schemas", {
        subject,
        schema_type: "json",
        content: jsonSchema(1),
        version: "1.0.0",
      });
      const v2 = await api.post("/api/v1/schemas", {
        subject,
        schema_type: "json",
        content: jsonSchema(2),
        version: "1.10.0",
      });
      await api.post("/api/v1/schemas", {
        subject,
        schema_type: "json",
        content: jsonSchema(3),
        version: "2.0.0",
        state: "draft",
      });
      expect((await api.get(`/api/v1/subjects/${subject}/versions/latest`)).body.version).toBe("1.10.0");

      await api.request("PATCH", `/api/v1/schemas/${v2.body.id}/state`, { body: { state: "deprecated" } });
      expect((await api.get(`/api/v1/subjects/${subject}/versions/latest`)).body.version).toBe("1.10.0");

      await api.request("DELETE", `/api/v1/schemas/${v2.body.id}`);
      const latest = await api.get(`/api/v1/subjects/${subject}/versions/latest`);
      expect(latest.body.id).toBe(v1.body.id);
    });

    test("soft delete hides a schema unless include_deleted=true; permanent removes it", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "delete.Me",
        schema_type: "json",
        content: jsonSchema(1),
      });
      const id = res.body.id;
      const deleted = await api.request("DELETE", `/api/v1/schemas/${id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");

      expect((await api.get(`/api/v1/schemas/${id}`)).status).toBe(404);
      expect((await api.get(`/api/v1/schemas/${id}/content`)).status).toBe(404);
      expect((await api.get("/api/v1/subjects/delete.Me/versions/1.0.0")).status).toBe(404);
      const shown = await api.get(`/api/v1/schemas/${id}?include_deleted=true`);
      expect(shown.status).toBe(200);
      expect(Date.parse(shown.body.deleted_at)).not.toBeNaN();
      expect((await api.get("/api/v1/subjects/delete.Me/versions/1.0.0?include_deleted=true")).status).toBe(
        200,
      );
      expect((await api.get(`/api/v1/schemas/${id}/history`)).status).toBe(200);

      const gone = await api.request("DELETE", `/api/v1/schemas/${id}?permanent=true`);
      expect(gone.status).toBe(204);
      expect((await api.get(`/api/v1/schemas/${id}?include_deleted=true`)).status).toBe(404);
    });
  });

  describe("lists", () => {
    const subject = "list.Versions";
    let ids: string[] = [];

    beforeAll(async () => {
      ids = [];
      for (const [n, version] of [
        [1, "1.0.0"],
        [2, "1.1.0"],
        [3, "2.0.0-rc.1"],
        [4, "2.0.0"],
      ] as const) {
        const res = await api.post("/api/v1/schemas", {
          subject,
          schema_type: "json",
          content: jsonSchema(n),
          version,
        });
        ids.push(res.body.id);
      }
      await api.request("PATCH", `/api/v1/schemas/${ids[1]}/state`, { body: { state: "deprecated" } });
      await api.request("DELETE", `/api/v1/schemas/${ids[0]}`);
    });

    test("versions come newest first, paged, without content", async () => {
      const res = await api.get(`/api/v1/subjects/${subject}/versions`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((s: JsonBody) => s.version)).toEqual(["2.0.0", "2.0.0-rc.1", "1.1.0"]);
      expect(res.body).toMatchObject({ limit: 50, offset: 0, total: 3 });
      expect(res.body.items[0].content).toBeUndefined();

      const page = await api.get(`/api/v1/subjects/${subject}/versions?limit=1&offset=1`);
      expect(page.body.items.map((s: JsonBody) => s.version)).toEqual(["2.0.0-rc.1"]);
      expect(page.body).toMatchObject({ limit: 1, offset: 1, total: 3 });
    });

    test("state, include_deleted and include=content filter and fill the list", async () => {
      const deprecated = await api.get(`/api/v1/subjects/${subject}/versions?state=deprecated`);
      expect(deprecated.body.items.map((s: JsonBody) => s.version)).toEqual(["1.1.0"]);
      const some = await api.get(
        `/api/v1/subjects/${subject}/versions?state=active,deprecated&include_deleted=true`,
      );
      expect(some.body.items.map((s: JsonBody) => s.version)).toEqual([
        "2.0.0",
        "2.0.0-rc.1",
        "1.1.0",
        "1.0.0",
      ]);
      const withContent = await api.get(`/api/v1/subjects/${subject}/versions?include=content&limit=1`);
      expect(withContent.body.items[0].content).toEqual(jsonSchema(4));
    });

    test("subjects list their latest version and version count", async () => {
      const res = await api.get("/api/v1/subjects?limit=1000");
      expect(res.status).toBe(200);
      const row = res.body.items.find((s: JsonBody) => s.subject === subject);
      expect(row).toMatchObject({ subject, latest_version: "2.0.0" });
      expect(row.version_count).toBeGreaterThanOrEqual(3);
      expect(res.body.total).toBe(res.body.items.length);
    });
  });

  describe("search", () => {
    beforeAll(async () => {
      const register = (subject: string, n: number, metadata: object, schema_type = "json") =>
        api.post("/api/v1/schemas", {
          subject,
          schema_type,
          content: schema_type === "avro" ? { ...AVRO, name: `E${n}` } : jsonSchema(n),
          metadata,
        });
      await register("search.billing.Invoice", 1, {
        description: "An invoice sent to a customer",
        tags: ["billing", "finance"],
        owner: "billing-team",
        custom: { region: "eu" },
      });
      await register("search.billing.Refund", 2, {
        description: "Money going back",
        tags: ["billing"],
        owner: "billing-team",
        custom: { region: "us" },
      });
      await register("search.chat.Prompt", 3, {
        description: "A prompt to the model",
        tags: ["llm"],
        owner: "ai-team",
      });
      await register("search.events.Click", 4, { tags: ["events"], owner: "web-team" }, "avro");
    });

    const subjects = (res: { body: JsonBody }) => res.body.items.map((s: JsonBody) => s.subject);

    test("q ranks by similarity and scores each hit", async () => {
      const res = await api.get("/api/v1/search?q=invoice");
      expect(res.status).toBe(200);
      expect(subjects(res)[0]).toBe("search.billing.Invoice");
      expect(res.body.items[0].score).toBeGreaterThan(0);
      // Counted to the end: the total is exact.
      expect(res.body.total_exact).toBe(true);
      expect(res.body.total).toBe(res.body.items.length);
    });

    test("subject wildcards, tags, owner, schema_type and metadata filter", async () => {
      expect(subjects(await api.get("/api/v1/search?subject=search.billing.*&sort=subject"))).toEqual([
        "search.billing.Invoice",
        "search.billing.Refund",
      ]);
      expect(subjects(await api.get("/api/v1/search?tags=billing,finance"))).toEqual([
        "search.billing.Invoice",
      ]);
      expect(subjects(await api.get("/api/v1/search?owner=ai-team"))).toEqual(["search.chat.Prompt"]);
      expect(subjects(await api.get("/api/v1/search?schema_type=avro&subject=search.*"))).toEqual([
        "search.events.Click",
      ]);
      const metadata = encodeURIComponent(JSON.stringify({ custom: { region: "us" } }));
      expect(subjects(await api.get(`/api/v1/search?metadata=${metadata}`))).toEqual([
        "search.billing.Refund",
      ]);
    });

    test("sort, paging and include=content", async () => {
      const desc = await api.get("/api/v1/search?subject=search.*&sort=-subject&limit=2");
      expect(subjects(desc)).toEqual(["search.events.Click", "search.chat.Prompt"]);
      expect(desc.body).toMatchObject({ limit: 2, offset: 0, total: 4 });
      expect(desc.body.items[0].content).toBeUndefined();
      const withContent = await api.get("/api/v1/search?subject=search.chat.*&include=content");
      expect(withContent.body.items[0].content).toEqual(jsonSchema(3));
    });
  });

  test("stats count schemas by state, subjects and bytes", async () => {
    const res = await api.get("/api/v1/stats");
    expect(res.status).toBe(200);
    const { schemas, subjects, storage, cache } = res.body;
    expect(schemas.total).toBe(schemas.draft + schemas.active + schemas.deprecated + schemas.archived);
    expect(schemas.total).toBeGreaterThan(10);
    expect(schemas.deleted).toBeGreaterThanOrEqual(2);
    expect(subjects).toBeGreaterThan(5);
    expect(storage.inline_bytes).toBeGreaterThan(0);
    expect(storage.total_bytes).toBe(storage.inline_bytes + storage.object_store_bytes);
    // L1 runs by default; without REDIS_URL there is no L2. The searches and lists above used tier query.
    expect(Object.keys(cache.tiers)).toEqual(["l1", "query"]);
    expect(cache.tiers.l1.hits + cache.tiers.l1.misses).toBeGreaterThan(0);
  });

  test("health: live, and ready once PostgreSQL answers", async () => {
    expect((await api.get("/health/live")).body).toEqual({ status: "live" });
    const ready = await api.get("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    expect(ready.body.checks.postgres.status).toBe("up");
  });

  test("a sane X-Request-Id is echoed; anything else is replaced", async () => {
    const echoed = await api.get("/api/v1/stats", { "X-Request-Id": "client-42" });
    expect(echoed.headers.get("X-Request-Id")).toBe("client-42");
    const replaced = await api.get("/api/v1/schemas/nope", { "X-Request-Id": "bad id with spaces" });
    const id = replaced.headers.get("X-Request-Id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.body.error.request_id).toBe(id);
  });

  describe("OpenAPI document and docs page", () => {
    const API_ROUTES: [string, string][] = [
      ["post", "/api/v1/schemas"],
      ["get", "/api/v1/schemas/{id}"],
      ["get", "/api/v1/schemas/{id}/content"],
      ["patch", "/api/v1/schemas/{id}/state"],
      ["delete", "/api/v1/schemas/{id}"],
      ["get", "/api/v1/subjects"],
      ["get", "/api/v1/subjects/{subject}/versions"],
      ["get", "/api/v1/subjects/{subject}/versions/latest"],
      ["get", "/api/v1/subjects/{subject}/versions/{version}"],
      ["get", "/api/v1/search"],
      ["get", "/api/v1/stats"],
      ["get", "/api/v1/schemas/{id}/history"],
      ["get", "/health/live"],
      ["get", "/health/ready"],
    ];

    test("is OpenAPI 3.1 with every route of the HTTP API, each with its error responses", async () => {
      const res = await api.get("/openapi.json");
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toBe("3.1.0");
      expect(doc.info.title).toBeTruthy();
      expect(doc.info.description).toContain("16777216");
      for (const [method, path] of API_ROUTES) {
        const operation = doc.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        expect(operation.operationId).toBeTruthy();
        if (path.startsWith("/api/v1")) {
          expect(operation.responses["400"].content["application/json"].schema.$ref).toBe(
            "#/components/schemas/Error",
          );
          expect(operation.responses["500"]).toBeDefined();
        }
        // Every path parameter in the template is declared.
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          const declared = (operation.parameters ?? []).some(
            (p: JsonBody) => p.in === "path" && `{${p.name}}` === name,
          );
          expect(declared, `${method} ${path} ${name}`).toBe(true);
        }
      }
      expect(doc.components.schemas.Error.properties.error.required).toEqual(
        expect.arrayContaining(["code", "message", "details", "request_id"]),
      );
      // Every $ref points at a component that exists.
      const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThan(10);
      for (const name of new Set(refs)) expect(doc.components.schemas[name], name).toBeDefined();
      const register = doc.paths["/api/v1/schemas"].post;
      expect(Object.keys(register.responses)).toEqual(
        expect.arrayContaining(["200", "201", "409", "413", "415", "422"]),
      );
      const limits = doc.components.schemas.SchemaMetadata.properties.tags;
      expect(JSON.stringify(limits)).toContain('"maxItems":50');
    });

    test("/docs serves an interactive page that reads /openapi.json", async () => {
      const res = await api.get("/docs");
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toContain("text/html");
      expect(res.text).toContain("/openapi.json");
    });
  });
});

/**
 * Data validation over HTTP against the real PostgreSQL backend: documents
 * checked against a stored JSON Schema, Avro or Protobuf schema by id, by
 * version and as latest; the batch rule; the bounds that keep a document
 * from holding the server (a catastrophic pattern, a deeply nested body);
 * and the OpenAPI document's account of the new routes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_BODY_DEPTH } from "../../src/http/request-bounds.ts";
import { MAX_VALIDATION_DOCUMENTS } from "../../src/registry/registry-service.ts";
import {
  type ApiResponse,
  type JsonBody,
  startRegistryInstance,
  startTestRegistry,
  type TestRegistry,
} from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

const CHAT_REQUEST = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    prompt: { type: "string", minLength: 1 },
    max_tokens: { type: "integer", minimum: 1 },
    messages: {
      type: "array",
      items: {
        type: "object",
        properties: { role: { enum: ["system", "user", "assistant"] }, content: { type: "string" } },
        required: ["role", "content"],
      },
    },
  },
  required: ["prompt"],
  additionalProperties: false,
};

const USER_AVRO = {
  type: "record",
  name: "User",
  namespace: "com.acme",
  fields: [
    { name: "name", type: "string" },
    { name: "age", type: "int" },
    { name: "email", type: ["null", "string"], default: null },
  ],
};

const ORDERS_PROTO = `syntax = "proto3";
package acme;

message Ping {
  string id = 1;
}

message Order {
  string id = 1;
  int32 quantity = 2;
  repeated string tags = 3;
}
`;

/** JSON with sorted keys and no whitespace. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

describe.skipIf(!available)("data validation over HTTP", () => {
  let api: TestRegistry;
  let chat: JsonBody;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
    const res = await api.post("/api/v1/schemas", {
      subject: "val.chat",
      schema_type: "json",
      content: CHAT_REQUEST,
    });
    expect(res.status, res.text).toBe(201);
    chat = res.body;
  });
  afterAll(async () => {
    await api?.close();
  });

  function expectError(res: ApiResponse, status: number, code: string): void {
    expect(res.status, res.text).toBe(status);
    expect(res.body.error.code).toBe(code);
  }

  const paths = (verdict: JsonBody): string[] => verdict.errors.map((error: JsonBody) => error.path).sort();

  describe("JSON Schema", () => {
    test("a valid document", async () => {
      const res = await api.post(`/api/v1/schemas/${chat.id}/validate`, {
        prompt: "Hello",
        max_tokens: 64,
        messages: [{ role: "user", content: "Hi" }],
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ valid: true, errors: [] });
    });

    test("an invalid document: every error with its JSON pointer and a sentence", async () => {
      const res = await api.post(`/api/v1/schemas/${chat.global_id}/validate`, {
        prompt: 5,
        max_tokens: 0,
        messages: [{ role: "robot", content: "Hi" }, { role: "user" }],
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.valid).toBe(false);
      expect(paths(res.body)).toEqual(["/max_tokens", "/messages/0/role", "/messages/1", "/prompt"]);
      for (const error of res.body.errors) {
        expect(Object.keys(error).sort()).toEqual(["message", "path"]);
        expect(error.message.length).toBeGreaterThan(3);
      }
    });

    test("any JSON value is a document: a string, null, an array", async () => {
      for (const document of ["text", null, [1, 2], 42]) {
        const res = await api.post(`/api/v1/schemas/${chat.id}/validate`, document);
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({ valid: false, errors: [expect.objectContaining({ path: "" })] });
      }
    });

    test("a batch: one verdict per document in order, valid when all are", async () => {
      const res = await api.post(`/api/v1/schemas/${chat.id}/validate`, {
        documents: [{ prompt: "a" }, { prompt: "" }, { prompt: "b", extra: true }],
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.valid).toBe(false);
      expect(res.body.results).toHaveLength(3);
      expect(res.body.results[0]).toEqual({ valid: true, errors: [] });
      expect(paths(res.body.results[1])).toEqual(["/prompt"]);
      expect(res.body.results[2].valid).toBe(false);

      const all = await api.post(`/api/v1/schemas/${chat.id}/validate`, {
        documents: [{ prompt: "a" }, { prompt: "b" }],
      });
      expect(all.body).toEqual({
        valid: true,
        results: [
          { valid: true, errors: [] },
          { valid: true, errors: [] },
        ],
      });

      const none = await api.post(`/api/v1/schemas/${chat.id}/validate`, { documents: [] });
      expect(none.body).toEqual({ valid: true, results: [] });
    });

    test("the batch rule: only an object whose only key is documents, holding an array", async () => {
      // Another key beside documents, or documents that is not an array: one document.
      const mixed = await api.post(`/api/v1/schemas/${chat.id}/validate`, { documents: [], prompt: "x" });
      expect(mixed.body.valid).toBe(false);
      expect(mixed.body.errors).toBeDefined();
      expect(mixed.body.results).toBeUndefined();
      const notArray = await api.post(`/api/v1/schemas/${chat.id}/validate`, { documents: "x" });
      expect(notArray.body.errors).toBeDefined();

      // A document of exactly the batch's shape is wrapped.
      const open = await api.post("/api/v1/schemas", {
        subject: "val.documents",
        schema_type: "json",
        content: {
          type: "object",
          properties: { documents: { type: "array", items: { type: "integer" } } },
          required: ["documents"],
        },
      });
      expect(open.status, open.text).toBe(201);
      const wrapped = await api.post(`/api/v1/schemas/${open.body.id}/validate`, {
        documents: [{ documents: [1, 2] }],
      });
      expect(wrapped.body).toEqual({ valid: true, results: [{ valid: true, errors: [] }] });
      // Unwrapped, 1 and 2 are the documents, and neither is an object.
      const unwrapped = await api.post(`/api/v1/schemas/${open.body.id}/validate`, { documents: [1, 2] });
      expect(unwrapped.body.valid).toBe(false);
      expect(unwrapped.body.results).toHaveLength(2);
    });

    test("by version and as latest", async () => {
      const byVersion = await api.post("/api/v1/subjects/val.chat/versions/1.0.0/validate", { prompt: "x" });
      expect(byVersion.status, byVersion.text).toBe(200);
      expect(byVersion.body).toEqual({ valid: true, errors: [] });

      // 1.1.0 adds an optional temperature; only latest knows it.
      const next = await api.post("/api/v1/schemas", {
        subject: "val.chat",
        schema_type: "json",
        content: {
          ...CHAT_REQUEST,
          properties: { ...CHAT_REQUEST.properties, temperature: { type: "number", maximum: 2 } },
        },
      });
      expect(next.status, next.text).toBe(201);
      expect(next.body.version).toBe("1.1.0");
      const document = { prompt: "x", temperature: 0.7 };
      const latest = await api.post("/api/v1/subjects/val.chat/versions/latest/validate", document);
      expect(latest.body).toEqual({ valid: true, errors: [] });
      const old = await api.post("/api/v1/subjects/val.chat/versions/1.0.0/validate", document);
      expect(old.body.valid).toBe(false);
      expect(old.body.errors).toHaveLength(1);
    });
  });

  test("Avro: documents in Avro's JSON form", async () => {
    const res = await api.post("/api/v1/schemas", {
      subject: "val.avro",
      schema_type: "avro",
      content: USER_AVRO,
    });
    expect(res.status, res.text).toBe(201);
    const valid = await api.post(`/api/v1/schemas/${res.body.id}/validate`, {
      documents: [
        { name: "Ada", age: 36, email: null },
        { name: "Ada", age: 36, email: { string: "ada@example.com" } },
      ],
    });
    expect(valid.status, valid.text).toBe(200);
    expect(valid.body.valid).toBe(true);
    const invalid = await api.post("/api/v1/subjects/val.avro/versions/latest/validate", {
      name: 7,
      age: "old",
      email: null,
    });
    expect(invalid.body.valid).toBe(false);
    expect(paths(invalid.body)).toEqual(["/age", "/name"]);
  });

  describe("Protobuf", () => {
    let proto: JsonBody;

    beforeAll(async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "val.proto",
        schema_type: "protobuf",
        content: ORDERS_PROTO,
      });
      expect(res.status, res.text).toBe(201);
      proto = res.body;
    });

    test("?message= picks the message; by default the first one declared", async () => {
      const order = { id: "o-1", quantity: 3, tags: ["gift"] };
      const asOrder = await api.post(`/api/v1/schemas/${proto.id}/validate?message=acme.Order`, order);
      expect(asOrder.status, asOrder.text).toBe(200);
      expect(asOrder.body).toEqual({ valid: true, errors: [] });
      const relative = await api.post(
        "/api/v1/subjects/val.proto/versions/latest/validate?message=Order",
        order,
      );
      expect(relative.body).toEqual({ valid: true, errors: [] });

      // As a Ping (the first message), quantity and tags are unknown fields, reported on their object.
      const asPing = await api.post(`/api/v1/schemas/${proto.id}/validate`, order);
      expect(asPing.body.valid).toBe(false);
      expect(asPing.body.errors).toEqual([
        { path: "", message: expect.stringContaining("'quantity'") },
        { path: "", message: expect.stringContaining("'tags'") },
      ]);

      const wrongType = await api.post(`/api/v1/schemas/${proto.id}/validate?message=acme.Order`, {
        id: "o-1",
        quantity: "three",
      });
      expect(wrongType.body.valid).toBe(false);
      expect(paths(wrongType.body)).toEqual(["/quantity"]);
    });

    test("a message the schema does not declare is a 400 about the message parameter", async () => {
      const res = await api.post(`/api/v1/schemas/${proto.id}/validate?message=acme.Refund`, { id: "x" });
      expectError(res, 400, "invalid_request");
      expect(res.body.error.details.field).toBe("message");
      expect(res.body.error.message).toContain("acme.Refund");
      expect(res.body.error.message).not.toContain("messageName");
      expectError(
        await api.post(`/api/v1/schemas/${proto.id}/validate?message=${encodeURIComponent("a b")}`, {}),
        400,
        "invalid_request",
      );
    });

    test("?message= on a JSON Schema or an Avro schema is a 400, not ignored", async () => {
      const json = await api.post("/api/v1/schemas", {
        subject: "val.message.json",
        schema_type: "json",
        content: { type: "object" },
      });
      const res = await api.post(`/api/v1/schemas/${json.body.id}/validate?message=acme.Order`, {});
      expectError(res, 400, "invalid_request");
      expect(res.body.error.details.field).toBe("message");
    });
  });

  describe("bounds", () => {
    test("a catastrophic pattern answers within a second", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "val.redos",
        schema_type: "json",
        content: { type: "string", pattern: "^(a+)+$" },
      });
      expect(res.status, res.text).toBe(201);
      const started = performance.now();
      const verdict = await api.post(`/api/v1/schemas/${res.body.id}/validate`, `${"a".repeat(40)}!`);
      const elapsed = performance.now() - started;
      expect(verdict.status).toBe(200);
      expect(verdict.body.valid).toBe(false);
      expect(verdict.body.errors).toEqual([expect.objectContaining({ path: "" })]);
      expect(elapsed).toBeLessThan(1000);
    });

    test("a document nested 100,000 deep answers quickly, never 500", async () => {
      const recursive = await api.post("/api/v1/schemas", {
        subject: "val.tree",
        schema_type: "json",
        content: {
          $defs: { node: { type: "array", items: { $ref: "#/$defs/node" } } },
          $ref: "#/$defs/node",
        },
      });
      expect(recursive.status, recursive.text).toBe(201);
      const depth = 100_000;
      const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
      for (const [id, raw] of [
        [recursive.body.id, arrays],
        [recursive.body.id, `{"documents":[${arrays}]}`],
        [chat.id, objects],
        [chat.id, arrays],
      ] as const) {
        const started = performance.now();
        const res = await api.request("POST", `/api/v1/schemas/${id}/validate`, {
          raw,
          headers: { "Content-Type": "application/json" },
        });
        const elapsed = performance.now() - started;
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) expect(res.body.valid ?? res.body.results[0].valid).toBe(false);
        expect(elapsed).toBeLessThan(2000);
      }
      // Past the body's own nesting bound the request is refused before it is parsed (http/request-bounds.ts);
      // below it, a document deeper than the validator follows is invalid.
      const refused = await api.request("POST", `/api/v1/schemas/${recursive.body.id}/validate`, {
        raw: arrays,
        headers: { "Content-Type": "application/json" },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.max_depth).toBe(MAX_BODY_DEPTH);
      const tooDeep = await api.request("POST", `/api/v1/schemas/${recursive.body.id}/validate`, {
        raw: `${"[".repeat(MAX_BODY_DEPTH)}${"]".repeat(MAX_BODY_DEPTH)}`,
        headers: { "Content-Type": "application/json" },
      });
      expect(tooDeep.body.errors[0].message).toContain("nested more than");
    });

    test(`a batch of more than ${MAX_VALIDATION_DOCUMENTS} documents is a 400`, async () => {
      const documents = Array.from({ length: MAX_VALIDATION_DOCUMENTS + 1 }, () => ({ prompt: "x" }));
      const res = await api.post(`/api/v1/schemas/${chat.id}/validate`, { documents });
      expectError(res, 400, "invalid_request");
      expect(res.body.error.details).toMatchObject({ field: "documents", limit: MAX_VALIDATION_DOCUMENTS });
      const limit = await api.post(`/api/v1/schemas/${chat.id}/validate`, { documents: documents.slice(1) });
      expect(limit.status).toBe(200);
      expect(limit.body.results).toHaveLength(MAX_VALIDATION_DOCUMENTS);
    });
  });

  describe("errors", () => {
    test("a schema, subject or version that does not exist is a 404", async () => {
      expectError(
        await api.post("/api/v1/schemas/6f9619ff-8b86-4d01-b42d-00cf4fc964ff/validate", {}),
        404,
        "not_found",
      );
      expectError(await api.post("/api/v1/schemas/999999/validate", {}), 404, "not_found");
      expectError(await api.post("/api/v1/subjects/val.chat/versions/9.9.9/validate", {}), 404, "not_found");
      expectError(
        await api.post("/api/v1/subjects/val.nobody/versions/latest/validate", {}),
        404,
        "not_found",
      );
    });

    test("a soft-deleted schema is a 404", async () => {
      const res = await api.post("/api/v1/schemas", {
        subject: "val.deleted",
        schema_type: "json",
        content: { type: "string" },
      });
      expect((await api.request("DELETE", `/api/v1/schemas/${res.body.id}`)).status).toBe(204);
      expectError(await api.post(`/api/v1/schemas/${res.body.id}/validate`, "x"), 404, "not_found");
    });

    test("a malformed id, version or body is a 400; a body that is not JSON a 415", async () => {
      expectError(await api.post("/api/v1/schemas/not-an-id/validate", {}), 400, "invalid_request");
      expectError(
        await api.post("/api/v1/subjects/val.chat/versions/newest/validate", {}),
        400,
        "invalid_request",
      );
      expectError(
        await api.request("POST", `/api/v1/schemas/${chat.id}/validate`, {
          raw: "{not json",
          headers: { "Content-Type": "application/json" },
        }),
        400,
        "invalid_request",
      );
      expectError(
        await api.request("POST", `/api/v1/schemas/${chat.id}/validate`, {
          raw: "prompt=x",
          headers: { "Content-Type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      const get = await api.get(`/api/v1/schemas/${chat.id}/validate`);
      expectError(get, 405, "method_not_allowed");
    });
  });

  describe("content keeps the key order it was registered with", () => {
    test("register, by id (also through the fast path), by version, latest, list and search give the same bytes", async () => {
      const content = {
        type: "object",
        properties: { zeta: { type: "string" }, alpha: { type: "integer" }, mid: { type: "boolean" } },
        required: ["zeta"],
      };
      const res = await api.post("/api/v1/schemas", { subject: "val.order", schema_type: "json", content });
      expect(res.status, res.text).toBe(201);
      const expected = JSON.stringify(content);
      expect(JSON.stringify(res.body.content)).toBe(expected);

      const single = [
        `/api/v1/schemas/${res.body.id}`,
        `/api/v1/schemas/${res.body.global_id}`,
        `/api/v1/schemas/${res.body.id}?include=content`,
        "/api/v1/subjects/val.order/versions/1.0.0",
        "/api/v1/subjects/val.order/versions/latest",
      ];
      for (const path of single) {
        const read = await api.get(path);
        expect(read.status, path).toBe(200);
        expect(JSON.stringify(read.body.content), path).toBe(expected);
      }
      const fast = await api.registry.fetch(new Request(`http://registry/api/v1/schemas/${res.body.id}`));
      expect(JSON.stringify(((await fast.json()) as JsonBody).content)).toBe(expected);
      // The content route serves the canonical text instead: the bytes the content_hash is the SHA-256 of.
      const contentRoute = await api.get(`/api/v1/schemas/${res.body.id}/content`);
      expect(contentRoute.text).toBe(canonical(content));
      expect(res.body.content_hash).toBe(await sha256(contentRoute.text));

      const list = await api.get("/api/v1/subjects/val.order/versions?include=content");
      expect(JSON.stringify(list.body.items[0].content)).toBe(expected);
      const search = await api.get("/api/v1/search?subject=val.order&include=content");
      expect(search.status, search.text).toBe(200);
      expect(JSON.stringify(search.body.items[0].content)).toBe(expected);

      // A second instance has nothing cached: its reads come from PostgreSQL.
      const other = await startRegistryInstance(api.registry.database.url, {}, undefined);
      try {
        for (const path of single) {
          const read = await other.call("GET", path);
          expect(read.status, path).toBe(200);
          expect(JSON.stringify(read.body.content), `${path} from PostgreSQL`).toBe(expected);
        }
      } finally {
        await other.registry.close();
      }

      // A repeated register with another key order answers the schema as first registered.
      const reordered = {
        required: ["zeta"],
        properties: { alpha: { type: "integer" }, mid: { type: "boolean" }, zeta: { type: "string" } },
        type: "object",
      };
      const again = await api.post("/api/v1/schemas", {
        subject: "val.order",
        schema_type: "json",
        content: reordered,
      });
      expect(again.status).toBe(200);
      expect(JSON.stringify(again.body.content)).toBe(expected);
    });
  });

  test("the OpenAPI document lists the new routes, tags and the validation limit", async () => {
    const doc = (await api.get("/openapi.json")).body;
    const routes: [string, string, string[]][] = [
      ["get", "/api/v1/config", ["400", "500", "503"]],
      ["put", "/api/v1/config", ["400", "413", "415"]],
      ["get", "/api/v1/subjects/{subject}/config", ["400", "404"]],
      ["put", "/api/v1/subjects/{subject}/config", ["400", "413", "415"]],
      ["delete", "/api/v1/subjects/{subject}/config", ["400", "404"]],
      ["post", "/api/v1/subjects/{subject}/compatibility", ["400", "404", "409", "413", "415", "422"]],
      ["post", "/api/v1/schemas/{id}/validate", ["400", "404", "413", "415", "422"]],
      ["post", "/api/v1/subjects/{subject}/versions/{version}/validate", ["400", "404", "413", "415", "422"]],
    ];
    for (const [method, path, statuses] of routes) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", ...statuses, "500"]));
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const declared = (operation.parameters ?? []).some(
          (p: JsonBody) => p.in === "path" && `{${p.name}}` === name,
        );
        expect(declared, `${method} ${path} ${name}`).toBe(true);
      }
    }
    const tags = doc.tags.map((tag: JsonBody) => tag.name);
    expect(tags).toEqual(expect.arrayContaining(["compatibility", "validation"]));
    expect(doc.info.description).toContain(`at most ${MAX_VALIDATION_DOCUMENTS} documents`);
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(["incompatible_schema", "version_policy"]),
    );
    expect(doc.components.schemas.CompatibilityLevel.enum).toContain("FULL_TRANSITIVE");
    const register = doc.paths["/api/v1/schemas"].post;
    expect(Object.keys(register.responses["409"].content["application/json"].examples).sort()).toEqual([
      "incompatible_schema",
      "version_exists",
      "version_policy",
    ]);
    expect(register.description).toContain("patch");
  });
});

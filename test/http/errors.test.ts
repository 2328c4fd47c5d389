/**
 * Every error of the HTTP API (docs/api.md) through the HTTP app against the real
 * PostgreSQL backend: the status, the code, the one envelope, and the stored
 * data left exactly as it was after each bad request.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import {
  type ApiResponse,
  type DatabaseSnapshot,
  jsonSchema,
  startTestRegistry,
  type TestRegistry,
} from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

/** Small, so the size limits are cheap to cross. */
const MAX_SCHEMA_BYTES = 4096;

function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toContain("application/json");
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(typeof res.body.error.details).toBe("object");
  expect(res.body.error.request_id).toBe(res.headers.get("X-Request-Id"));
}

describe.skipIf(!available)("HTTP errors on PostgreSQL", () => {
  let api: TestRegistry;
  let existing: { id: string; global_id: number };
  let archived: { id: string };
  let before: DatabaseSnapshot;

  beforeAll(async () => {
    api = await startTestRegistry({
      database: "postgres",
      env: { MAX_SCHEMA_BYTES: String(MAX_SCHEMA_BYTES) },
    });
    const res = await api.post("/api/v1/schemas", {
      subject: "errors.Existing",
      schema_type: "json",
      content: jsonSchema(1),
      version: "1.0.0",
    });
    existing = res.body;
    const other = await api.post("/api/v1/schemas", {
      subject: "errors.Archived",
      schema_type: "json",
      content: jsonSchema(2),
      state: "draft",
    });
    archived = other.body;
    const archiving = await api.request("PATCH", `/api/v1/schemas/${archived.id}/state`, {
      body: { state: "archived" },
    });
    expect(archiving.body.state).toBe("archived");
  });
  afterAll(async () => {
    await api?.close();
  });

  // Every test here is a bad request: none may change what is stored.
  beforeEach(async () => {
    before = await api.snapshot();
  });
  afterEach(async () => {
    expect(await api.snapshot()).toEqual(before);
  });

  const register = (body: unknown) => api.post("/api/v1/schemas", body);
  const valid = { subject: "errors.New", schema_type: "json", content: jsonSchema(3) };

  describe("400 invalid_request", () => {
    test("malformed JSON", async () => {
      const res = await api.request("POST", "/api/v1/schemas", {
        raw: '{"subject": "a", ',
        headers: { "Content-Type": "application/json" },
      });
      expectError(res, 400, "invalid_request");
      expect(res.body.error.message).toContain("JSON");
    });

    test("a field of the wrong type names the field", async () => {
      const res = await register({ ...valid, subject: 42 });
      expectError(res, 400, "invalid_request");
      expect(res.body.error.details.issues[0]).toMatchObject({ location: "body", path: "subject" });
      expect(res.body.error.message).toContain("subject");

      const nested = await register({ ...valid, metadata: { tags: ["ok", 7] } });
      expectError(nested, 400, "invalid_request");
      expect(nested.body.error.details.issues[0].path).toBe("metadata.tags.1");
    });

    test("missing fields, unknown fields and values outside the rules", async () => {
      const cases: [string, unknown][] = [
        ["no content", { subject: "errors.New", schema_type: "json" }],
        ["no subject", { schema_type: "json", content: jsonSchema(3) }],
        ["a body that is not an object", [1, 2, 3]],
        ["an unknown field", { ...valid, schemaType: "json" }],
        ["an unknown schema_type", { ...valid, schema_type: "xml" }],
        ["a subject with a control character", { ...valid, subject: "tab\there" }],
        ["a subject of whitespace alone", { ...valid, subject: "   " }],
        ["a subject over the length limit", { ...valid, subject: "a".repeat(256) }],
        ["a version that is not semver", { ...valid, version: "1.0" }],
        ["a version with a leading zero", { ...valid, version: "01.0.0" }],
        ["an initial state other than draft or active", { ...valid, state: "deprecated" }],
        ["a tag outside the pattern", { ...valid, metadata: { tags: ["has space"] } }],
        ["too many tags", { ...valid, metadata: { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) } }],
        ["an unknown metadata key", { ...valid, metadata: { colour: "blue" } }],
        ["a description over its limit", { ...valid, metadata: { description: "d".repeat(4097) } }],
        ["metadata over its byte limit", { ...valid, metadata: { custom: { blob: "x".repeat(17 * 1024) } } }],
        ["protobuf content that is not a string", { ...valid, schema_type: "protobuf", content: { a: 1 } }],
      ];
      for (const [what, body] of cases) {
        const res = await register(body);
        expect(res.status, what).toBe(400);
        expect(res.body.error.code, what).toBe("invalid_request");
      }
    });

    test("an unknown query value", async () => {
      const paths = [
        "/api/v1/subjects/errors.Existing/versions?state=bogus",
        "/api/v1/subjects/errors.Existing/versions?state=active,retired",
        "/api/v1/subjects/errors.Existing/versions?include_deleted=yes",
        "/api/v1/subjects/errors.Existing/versions?include=everything",
        "/api/v1/subjects?limit=1001",
        "/api/v1/subjects?limit=-1",
        "/api/v1/subjects?limit=ten",
        "/api/v1/subjects?offset=1.5",
        "/api/v1/subjects?limit=1&limit=2",
        "/api/v1/search?sort=popularity",
        "/api/v1/search?metadata=not-json",
        "/api/v1/search?metadata=%5B1%2C2%5D",
        "/api/v1/search?schema_type=xml",
        "/api/v1/search?tags=ok,bad%20tag",
        "/api/v1/search?subject=no%09tabs",
        `/api/v1/schemas/${existing.id}?include=all`,
        `/api/v1/schemas/${existing.id}/content?redirect=maybe`,
      ];
      for (const path of paths) {
        const res = await api.get(path);
        expect(res.status, path).toBe(400);
        expect(res.body.error.code, path).toBe("invalid_request");
        expect(res.body.error.details.issues[0].location, path).toBe("query");
      }
      const message = (await api.get("/api/v1/subjects/errors.Existing/versions?state=bogus")).body.error
        .message;
      expect(message).toContain('unknown state "bogus"');
    });

    test("a schema id that is neither a UUID nor a global_id", async () => {
      for (const id of ["abc", "0", "-1", "1.5", "9007199254740992", "123456789012345678901234567890"]) {
        const res = await api.get(`/api/v1/schemas/${id}`);
        expect(res.status, id).toBe(400);
        expect(res.body.error.code, id).toBe("invalid_request");
      }
      expectError(await api.request("DELETE", "/api/v1/schemas/not-an-id"), 400, "invalid_request");
    });

    test("a bad state change body", async () => {
      const path = `/api/v1/schemas/${existing.id}/state`;
      expectError(await api.request("PATCH", path, { body: { state: "retired" } }), 400, "invalid_request");
      expectError(await api.request("PATCH", path, { body: { reason: "no state" } }), 400, "invalid_request");
      expectError(
        await api.request("PATCH", path, { body: { state: "deprecated", reason: "r".repeat(1025) } }),
        400,
        "invalid_request",
      );
    });

    test("a bad version or subject in the path", async () => {
      expectError(await api.get("/api/v1/subjects/errors.Existing/versions/1.0"), 400, "invalid_request");
      expectError(await api.get("/api/v1/subjects/bad%01subject/versions"), 400, "invalid_request");
      expectError(await api.get("/api/v1/subjects/%20%20/versions"), 400, "invalid_request");
    });
  });

  describe("404 not_found", () => {
    test("no such schema, by UUID and by global_id", async () => {
      const missing = "00000000-0000-4000-8000-000000000000";
      for (const path of [
        `/api/v1/schemas/${missing}`,
        "/api/v1/schemas/999999",
        `/api/v1/schemas/${missing}/content`,
        `/api/v1/schemas/${missing}/history`,
      ]) {
        expectError(await api.get(path), 404, "not_found");
      }
      expectError(
        await api.request("PATCH", "/api/v1/schemas/999999/state", { body: { state: "deprecated" } }),
        404,
        "not_found",
      );
      expectError(await api.request("DELETE", `/api/v1/schemas/${missing}`), 404, "not_found");
      const res = await api.get(`/api/v1/schemas/${missing}`);
      expect(res.body.error.message).toContain(missing);
    });

    test("no such subject or version", async () => {
      expectError(await api.get("/api/v1/subjects/errors.Nobody/versions"), 404, "not_found");
      expectError(await api.get("/api/v1/subjects/errors.Nobody/versions/latest"), 404, "not_found");
      expectError(await api.get("/api/v1/subjects/errors.Existing/versions/9.9.9"), 404, "not_found");
    });

    test("no such route, in the same envelope; a known path with another method is 405", async () => {
      expectError(await api.get("/api/v1/nothing-here"), 404, "not_found");
      expectError(await api.get("/elsewhere"), 404, "not_found");
      const wrong = await api.request("PUT", `/api/v1/schemas/${existing.id}`, { body: {} });
      expectError(wrong, 405, "method_not_allowed");
      expect(wrong.headers.get("Allow")).toBe("DELETE, GET, HEAD");
    });
  });

  describe("409", () => {
    test("version_exists: another schema holds the subject and version", async () => {
      const res = await register({
        subject: "errors.Existing",
        schema_type: "json",
        content: jsonSchema(9),
        version: "1.0.0+other",
      });
      expectError(res, 409, "version_exists");
      expect(res.body.error.details).toMatchObject({
        subject: "errors.Existing",
        version: "1.0.0",
        existing_id: existing.id,
      });
    });

    test("invalid_transition: a move the lifecycle does not allow", async () => {
      const back = await api.request("PATCH", `/api/v1/schemas/${existing.id}/state`, {
        body: { state: "draft" },
      });
      expectError(back, 409, "invalid_transition");
      expect(back.body.error.details).toMatchObject({ from: "active", to: "draft" });
      const final = await api.request("PATCH", `/api/v1/schemas/${archived.id}/state`, {
        body: { state: "active" },
      });
      expectError(final, 409, "invalid_transition");
      expect(final.body.error.message).toContain("final");
    });

    test("conflict: permanent delete of a schema that is not soft-deleted", async () => {
      const res = await api.request("DELETE", `/api/v1/schemas/${existing.global_id}?permanent=true`);
      expectError(res, 409, "conflict");
    });
  });

  describe("413 payload_too_large", () => {
    test("a body over the limit, by its Content-Length", async () => {
      const body = JSON.stringify({ ...valid, content: { description: "x".repeat(200_000) } });
      const res = await api.request("POST", "/api/v1/schemas", {
        raw: body,
        headers: { "Content-Type": "application/json" },
      });
      expectError(res, 413, "payload_too_large");
    });

    test("a streamed body over the limit, without a Content-Length", async () => {
      const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0)
            controller.enqueue(
              new TextEncoder().encode('{"subject":"errors.New","schema_type":"json","content":"'),
            );
          if (sent >= 4) controller.close();
          else controller.enqueue(chunk);
          sent++;
        },
      });
      const request = new Request("http://registry.test/api/v1/schemas", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: stream,
        // @ts-expect-error: required by fetch for a stream body, not yet in the DOM types
        duplex: "half",
      });
      expect(request.headers.get("Content-Length")).toBeNull();
      const res = await api.registry.app.request(request);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    });

    test("content over MAX_SCHEMA_BYTES in a body under the limit", async () => {
      const properties = Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`field_${i}`, { type: "string" }]),
      );
      const res = await register({ ...valid, content: { type: "object", properties } });
      expectError(res, 413, "payload_too_large");
      expect(res.body.error.details).toMatchObject({ limit_bytes: MAX_SCHEMA_BYTES });
    });
  });

  describe("415 unsupported_media_type", () => {
    test("a body that is not JSON", async () => {
      const res = await api.request("POST", "/api/v1/schemas", {
        raw: "subject=a",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      expectError(res, 415, "unsupported_media_type");
      const text = await api.request("PATCH", `/api/v1/schemas/${existing.id}/state`, {
        raw: "deprecated",
        headers: { "Content-Type": "text/plain" },
      });
      expectError(text, 415, "unsupported_media_type");
    });

    test("a body with no Content-Type", async () => {
      const res = await api.registry.app.request("/api/v1/schemas", {
        method: "POST",
        body: JSON.stringify(valid),
      });
      expect(res.status).toBe(415);
    });
  });

  describe("422 invalid_schema, with the parser's message", () => {
    test("JSON Schema that does not match its meta-schema", async () => {
      const res = await register({ ...valid, content: { type: "object", properties: { a: { type: 5 } } } });
      expectError(res, 422, "invalid_schema");
      expect(res.body.error.message).toContain("/properties/a/type");
    });

    test("JSON text that does not parse", async () => {
      const res = await register({ ...valid, content: '{"type": "object",' });
      expectError(res, 422, "invalid_schema");
      expect(res.body.error.message.toLowerCase()).toContain("json");
    });

    test("Avro that avsc rejects", async () => {
      const res = await register({
        ...valid,
        schema_type: "avro",
        content: { type: "record", name: "R", fields: [{ name: "a", type: "nosuchtype" }] },
      });
      expectError(res, 422, "invalid_schema");
      expect(res.body.error.message).toContain("nosuchtype");
    });

    test("Protobuf that protobufjs cannot parse, with its line", async () => {
      const res = await register({
        ...valid,
        schema_type: "protobuf",
        content: 'syntax = "proto3";\nmessage A {\n  string a = ;\n}\n',
      });
      expectError(res, 422, "invalid_schema");
      expect(JSON.stringify(res.body.error)).toContain("line 3");
    });
  });
});

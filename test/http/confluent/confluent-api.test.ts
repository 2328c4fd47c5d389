/**
 * Confluent's REST API at the root of the server, through `app.request()`:
 * every route's happy path and every Confluent error code, bodies compared
 * whole (Confluent's clients parse strictly), the media types, and that a
 * refused request changes nothing and bad input never answers a 500.
 *
 * The same suite runs against two backends of the ConfluentRegistry port:
 * the real registry on PostgreSQL, built by the composition root (the one
 * that counts), and an in-memory test double of the port, which pins the
 * HTTP layer's own behaviour apart from any storage.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../../src/domain/limits.ts";
import { createApp } from "../../../src/http/app.ts";
import type { RegistryApp } from "../../../src/http/app-env.ts";
import { silentLogger } from "../../../src/observability/logger.ts";
import { RegistryMetrics } from "../../../src/observability/registry-metrics.ts";
import type { ConfluentRegistry } from "../../../src/registry/confluent-registry.ts";
import type { RegistryService } from "../../../src/registry/registry-service.ts";
import { type JsonBody, startTestRegistry, type TestRegistry } from "../../support/app.ts";
import { postgresAvailable } from "../../support/database.ts";
import { InMemoryConfluentRegistry } from "./in-memory-confluent-registry.ts";

const MEDIA = "application/vnd.schemaregistry.v1+json";

interface Answer {
  status: number;
  headers: Headers;
  body: JsonBody;
  text: string;
}

interface Harness {
  app: RegistryApp;
  port: ConfluentRegistry;
  /** Every stored row, where the backend has rows: what a refused request must leave as it was. */
  rows(): Promise<unknown>;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  start(): Promise<Harness | null>;
}

function doubleApp(port: ConfluentRegistry): RegistryApp {
  const service = { limits: DEFAULT_LIMITS } as unknown as RegistryService;
  return createApp({
    service,
    health: [],
    logger: silentLogger,
    metrics: new RegistryMetrics(),
    confluent: port,
  });
}

const BACKENDS: Backend[] = [
  {
    name: "PostgreSQL",
    async start() {
      if (!(await postgresAvailable())) {
        if (process.env.CI === "true") throw new Error("PostgreSQL is not available");
        console.warn("SKIPPED: the Confluent API on PostgreSQL (no PostgreSQL on 127.0.0.1:5432)");
        return null;
      }
      const registry: TestRegistry = await startTestRegistry({ database: "postgres" });
      return {
        app: registry.registry.app,
        port: registry.registry.confluent,
        rows: () => registry.snapshot(),
        close: () => registry.close(),
      };
    },
  },
  {
    name: "in-memory double of the port",
    async start() {
      const port = new InMemoryConfluentRegistry();
      return { app: doubleApp(port), port, rows: async () => null, close: async () => {} };
    },
  },
];

// ---- schemas used throughout ------------------------------------------------

const ORDER_V1 = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "com.acme",
  fields: [{ name: "id", type: "string" }],
});
/** Adds an optional field: BACKWARD compatible with ORDER_V1. */
const ORDER_V2 = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "com.acme",
  fields: [
    { name: "id", type: "string" },
    { name: "note", type: ["null", "string"], default: null },
  ],
});
/** Adds a required field without a default: not BACKWARD compatible (the double reads the BREAKING in its doc). */
const ORDER_BREAKING = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "com.acme",
  doc: "BREAKING",
  fields: [
    { name: "id", type: "string" },
    { name: "quantity", type: "int" },
  ],
});
const PROMPT_JSON = JSON.stringify({
  type: "object",
  properties: { prompt: { type: "string" } },
  required: ["prompt"],
});
const ORDER_PROTO = 'syntax = "proto3";\npackage acme;\n\nmessage Order {\n  string id = 1;\n}\n';
const ADDRESS = JSON.stringify({
  type: "record",
  name: "Address",
  namespace: "com.acme",
  fields: [{ name: "street", type: "string" }],
});
const CUSTOMER = JSON.stringify({
  type: "record",
  name: "Customer",
  namespace: "com.acme",
  fields: [{ name: "address", type: "com.acme.Address" }],
});

// Started here rather than in a hook so a backend that cannot run is a visible skip, not a silent pass.
const harnesses = await Promise.all(
  BACKENDS.map(async (backend) => ({ backend, harness: await backend.start() })),
);

for (const { backend, harness: started } of harnesses) {
  describe.skipIf(started === null)(`Confluent API (${backend.name})`, () => {
    const harness = started as Harness;
    let counter = 0;

    afterAll(async () => {
      await harness?.close();
    });

    /** A subject no other test uses. */
    const subject = (name: string) => `${name}-${++counter}-value`;

    async function call(
      method: string,
      path: string,
      options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> {
      const headers: Record<string, string> = { ...options.headers };
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers["Content-Type"] ??= MEDIA;
      }
      const response = await harness.app.request(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: response.status, headers: response.headers, body: parsed, text };
    }

    const enc = encodeURIComponent;

    async function register(s: string, schema: string, extra: Record<string, unknown> = {}): Promise<number> {
      const answer = await call("POST", `/subjects/${enc(s)}/versions`, { body: { schema, ...extra } });
      expect(answer.status).toBe(200);
      return answer.body.id;
    }

    function expectError(answer: Answer, status: number, errorCode: number): void {
      expect({ status: answer.status, error_code: answer.body?.error_code }).toEqual({
        status,
        error_code: errorCode,
      });
      expect(Object.keys(answer.body).sort()).toEqual(["error_code", "message"]);
      expect(typeof answer.body.message).toBe("string");
      expect(answer.headers.get("Content-Type")).toBe(MEDIA);
    }

    /** Everything the API shows of the registry's state, deleted versions included, and the stored rows. */
    async function state(): Promise<unknown> {
      const subjects: string[] = (await call("GET", "/subjects?deleted=true")).body;
      const versions: Record<string, unknown> = {};
      for (const s of subjects) {
        const list: number[] = (await call("GET", `/subjects/${enc(s)}/versions?deleted=true`)).body;
        versions[s] = await Promise.all(
          list.map(async (v) => (await call("GET", `/subjects/${enc(s)}/versions/${v}?deleted=true`)).body),
        );
      }
      return {
        subjects,
        versions,
        config: (await call("GET", "/config")).body,
        mode: (await call("GET", "/mode")).body,
        rows: await harness.rows(),
      };
    }

    /** Runs `refused`, expects its error, and that the state is as it was. */
    async function expectRefusedUnchanged(refused: () => Promise<Answer>, status: number, errorCode: number) {
      const before = await state();
      expectError(await refused(), status, errorCode);
      expect(await state()).toEqual(before);
    }

    test("GET / answers an empty object and GET /schemas/types the three types", async () => {
      const root = await call("GET", "/");
      expect(root.status).toBe(200);
      expect(root.body).toEqual({});
      expect(root.headers.get("Content-Type")).toBe(MEDIA);
      const types = await call("GET", "/schemas/types");
      expect(types.body).toEqual(["JSON", "PROTOBUF", "AVRO"]);
    });

    test("register answers {id}; the same content answers the same id, under any subject", async () => {
      const s = subject("orders");
      const register1 = await call("POST", `/subjects/${s}/versions`, { body: { schema: ORDER_V1 } });
      expect(register1.status).toBe(200);
      expect(Object.keys(register1.body)).toEqual(["id"]);
      expect(Number.isInteger(register1.body.id)).toBe(true);
      expect(await register(s, ORDER_V1)).toBe(register1.body.id);
      expect(await register(subject("other"), ORDER_V1)).toBe(register1.body.id);
      expect(await register(s, ORDER_V2)).not.toBe(register1.body.id);
      expect((await call("GET", `/subjects/${s}/versions`)).body).toEqual([1, 2]);
    });

    test("GET /schemas/ids/{id}: schemaType left out for AVRO, given for JSON and PROTOBUF; no references key without references", async () => {
      const avro = await register(subject("avro"), ORDER_V1);
      const json = await register(subject("json"), PROMPT_JSON, { schemaType: "JSON" });
      const proto = await register(subject("proto"), ORDER_PROTO, { schemaType: "PROTOBUF" });
      const avroAnswer = await call("GET", `/schemas/ids/${avro}`);
      expect(avroAnswer.status).toBe(200);
      expect(avroAnswer.headers.get("Content-Type")).toBe(MEDIA);
      expect(avroAnswer.body).toEqual({ schema: ORDER_V1 });
      expect((await call("GET", `/schemas/ids/${json}`)).body).toEqual({
        schemaType: "JSON",
        schema: PROMPT_JSON,
      });
      expect((await call("GET", `/schemas/ids/${proto}`)).body).toEqual({
        schemaType: "PROTOBUF",
        schema: ORDER_PROTO,
      });
      // Twice: the second answer comes from the memoised body and must be the same bytes.
      expect((await call("GET", `/schemas/ids/${avro}`)).text).toBe(avroAnswer.text);
      // Unknown query parameters are ignored.
      expect((await call("GET", `/schemas/ids/${avro}?fetchMaxId=true&whatever=1`)).body).toEqual({
        schema: ORDER_V1,
      });
    });

    test("GET /schemas/ids/{id} with ?subject=, its bare text, its subjects and its versions", async () => {
      const a = subject("ids-a");
      const b = subject("ids-b");
      // Content of this test alone, so no other test's subjects hold its id.
      const order = JSON.stringify({ ...JSON.parse(ORDER_V1), doc: a });
      const id = await register(a, order);
      await register(b, order);
      expect((await call("GET", `/schemas/ids/${id}?subject=${a}`)).body).toEqual({ schema: order });
      const bare = await call("GET", `/schemas/ids/${id}/schema`);
      expect(bare.status).toBe(200);
      expect(bare.text).toBe(order);
      expect((await call("GET", `/schemas/ids/${id}/subjects`)).body).toEqual([a, b].sort());
      expect((await call("GET", `/schemas/ids/${id}/versions`)).body).toEqual(
        [a, b].sort().map((s) => ({ subject: s, version: 1 })),
      );
    });

    // The format is the port's to render; the double keeps every schema as it was sent, so only the
    // PostgreSQL port has this test.
    if (backend.name === "PostgreSQL") {
      test("?format=serialized answers a Protobuf schema as a base64 FileDescriptorProto, by id and by version", async () => {
        const s = subject("serialized");
        const id = await register(s, ORDER_PROTO, { schemaType: "PROTOBUF" });
        const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
        const byId = await call("GET", `/schemas/ids/${id}?subject=${s}&format=serialized`);
        expect(Object.keys(byId.body)).toEqual(["schemaType", "schema"]);
        expect(byId.body.schemaType).toBe("PROTOBUF");
        expect(byId.body.schema).toMatch(BASE64);
        const byVersion = await call("GET", `/subjects/${s}/versions/1?deleted=true&format=serialized`);
        expect(byVersion.body).toEqual({
          subject: s,
          version: 1,
          id,
          schemaType: "PROTOBUF",
          schema: byId.body.schema,
        });
        // Without the format, the source as registered, from the memoised body.
        expect((await call("GET", `/schemas/ids/${id}`)).body).toEqual({
          schemaType: "PROTOBUF",
          schema: ORDER_PROTO,
        });
      });
    }

    test("a schema id that does not exist, or is not an id, is 40403", async () => {
      expectError(await call("GET", "/schemas/ids/987654"), 404, 40403);
      expectError(await call("GET", "/schemas/ids/abc"), 404, 40403);
      expectError(await call("GET", "/schemas/ids/0"), 404, 40403);
      expectError(await call("GET", "/schemas/ids/987654/schema"), 404, 40403);
      expectError(await call("GET", "/schemas/ids/987654/subjects"), 404, 40403);
      expectError(await call("GET", "/schemas/ids/987654/versions"), 404, 40403);
      expectError(await call("GET", "/schemas/guids/00000000-0000-0000-0000-000000000000"), 404, 40403);
    });

    test("GET /schemas/guids/{guid} answers the schema of that guid", async () => {
      const id = await register(subject("guid"), PROMPT_JSON, { schemaType: "JSON" });
      const { guid } = await harness.port.schemaById(id);
      const answer = await call("GET", `/schemas/guids/${guid}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ schemaType: "JSON", schema: PROMPT_JSON });
    });

    test("GET /schemas lists subject versions, filtered by prefix, latest only, deleted, and paged", async () => {
      const prefix = `list${++counter}`;
      const s1 = `${prefix}-a`;
      const s2 = `${prefix}-b`;
      const id1 = await register(s1, ORDER_V1);
      const id2 = await register(s1, ORDER_V2);
      const id3 = await register(s2, PROMPT_JSON, { schemaType: "JSON" });
      const all = await call("GET", `/schemas?subjectPrefix=${prefix}`);
      expect(all.body).toEqual([
        { subject: s1, version: 1, id: id1, schema: ORDER_V1 },
        { subject: s1, version: 2, id: id2, schema: ORDER_V2 },
        { subject: s2, version: 1, id: id3, schemaType: "JSON", schema: PROMPT_JSON },
      ]);
      expect((await call("GET", `/schemas?subjectPrefix=${prefix}&latestOnly=true`)).body).toEqual([
        { subject: s1, version: 2, id: id2, schema: ORDER_V2 },
        { subject: s2, version: 1, id: id3, schemaType: "JSON", schema: PROMPT_JSON },
      ]);
      expect((await call("GET", `/schemas?subjectPrefix=${prefix}&offset=1&limit=1`)).body).toEqual([
        { subject: s1, version: 2, id: id2, schema: ORDER_V2 },
      ]);
      await call("DELETE", `/subjects/${s1}/versions/1`);
      expect((await call("GET", `/schemas?subjectPrefix=${prefix}`)).body).toHaveLength(2);
      expect((await call("GET", `/schemas?subjectPrefix=${prefix}&deleted=true`)).body[0]).toEqual({
        subject: s1,
        version: 1,
        id: id1,
        schema: ORDER_V1,
        deleted: true,
      });
    });

    test("GET /subjects with subjectPrefix, deleted and deletedOnly", async () => {
      const prefix = `subjects${++counter}`;
      const live = `${prefix}-live`;
      const gone = `${prefix}-gone`;
      await register(live, ORDER_V1);
      await register(gone, ORDER_V1);
      expect((await call("DELETE", `/subjects/${gone}`)).body).toEqual([1]);
      expect((await call("GET", `/subjects?subjectPrefix=${prefix}`)).body).toEqual([live]);
      expect((await call("GET", `/subjects?subjectPrefix=${prefix}&deleted=true`)).body).toEqual([
        gone,
        live,
      ]);
      expect((await call("GET", `/subjects?subjectPrefix=${prefix}&deletedOnly=true`)).body).toEqual([gone]);
      expect((await call("GET", "/subjects")).body).toContain(live);
    });

    test("POST /subjects/{s} looks a schema up: the subject version, 40401 and 40403", async () => {
      const s = subject("lookup");
      const id = await register(s, PROMPT_JSON, { schemaType: "JSON" });
      const found = await call("POST", `/subjects/${s}?normalize=false`, {
        body: { schema: PROMPT_JSON, schemaType: "JSON" },
      });
      expect(found.status).toBe(200);
      expect(found.body).toEqual({ subject: s, version: 1, id, schemaType: "JSON", schema: PROMPT_JSON });
      expectError(
        await call("POST", `/subjects/${subject("nobody")}`, { body: { schema: ORDER_V1 } }),
        404,
        40401,
      );
      expectError(await call("POST", `/subjects/${s}`, { body: { schema: ORDER_V2 } }), 404, 40403);
    });

    test("versions: by number, latest and -1, the bare schema, 40401, 40402 and 42202", async () => {
      const s = subject("versions");
      const id1 = await register(s, ORDER_V1);
      const id2 = await register(s, ORDER_V2);
      expect((await call("GET", `/subjects/${s}/versions/1`)).body).toEqual({
        subject: s,
        version: 1,
        id: id1,
        schema: ORDER_V1,
      });
      const latest = { subject: s, version: 2, id: id2, schema: ORDER_V2 };
      expect((await call("GET", `/subjects/${s}/versions/latest`)).body).toEqual(latest);
      expect((await call("GET", `/subjects/${s}/versions/-1`)).body).toEqual(latest);
      const bare = await call("GET", `/subjects/${s}/versions/1/schema`);
      expect(bare.text).toBe(ORDER_V1);
      expectError(await call("GET", `/subjects/${subject("nobody")}/versions/1`), 404, 40401);
      expectError(await call("GET", `/subjects/${subject("nobody")}/versions`), 404, 40401);
      expectError(await call("GET", `/subjects/${s}/versions/99`), 404, 40402);
      for (const bad of ["0", "-2", "abc", "1.5", "99999999999"]) {
        expectError(await call("GET", `/subjects/${s}/versions/${bad}`), 422, 42202);
        expectError(await call("DELETE", `/subjects/${s}/versions/${bad}`), 422, 42202);
        expectError(await call("GET", `/subjects/${s}/versions/${bad}/schema`), 422, 42202);
        expectError(await call("GET", `/subjects/${s}/versions/${bad}/referencedby`), 422, 42202);
        expectError(
          await call("POST", `/compatibility/subjects/${s}/versions/${bad}`, { body: { schema: ORDER_V2 } }),
          422,
          42202,
        );
      }
    });

    test("GET /subjects/{s}/metadata answers the latest version; a key/value filter matches none (40403)", async () => {
      const s = subject("metadata");
      await register(s, ORDER_V1);
      const id2 = await register(s, ORDER_V2);
      expect((await call("GET", `/subjects/${s}/metadata`)).body).toEqual({
        subject: s,
        version: 2,
        id: id2,
        schema: ORDER_V2,
      });
      expectError(await call("GET", `/subjects/${s}/metadata?key=owner&value=bob`), 404, 40403);
      expectError(await call("GET", `/subjects/${subject("nobody")}/metadata`), 404, 40401);
    });

    test("references: a schema naming another subject's version, referencedby, and 42206 on deleting what is referenced", async () => {
      const address = subject("address");
      const customer = subject("customer");
      await register(address, ADDRESS);
      const references = [{ name: "com.acme.Address", subject: address, version: 1 }];
      const id = await register(customer, CUSTOMER, { references });
      expect((await call("GET", `/schemas/ids/${id}`)).body).toEqual({ schema: CUSTOMER, references });
      expect((await call("GET", `/subjects/${customer}/versions/1`)).body).toEqual({
        subject: customer,
        version: 1,
        id,
        references,
        schema: CUSTOMER,
      });
      expect((await call("GET", `/subjects/${address}/versions/1/referencedby`)).body).toEqual([id]);
      await expectRefusedUnchanged(() => call("DELETE", `/subjects/${address}/versions/1`), 422, 42206);
      await expectRefusedUnchanged(() => call("DELETE", `/subjects/${address}`), 422, 42206);
      // A reference to a version that does not exist makes the schema invalid.
      await expectRefusedUnchanged(
        () =>
          call("POST", `/subjects/${subject("customer")}/versions`, {
            body: {
              schema: CUSTOMER,
              references: [{ name: "com.acme.Address", subject: address, version: 9 }],
            },
          }),
        422,
        42201,
      );
    });

    test("deleting a version: the bare number, 40406 when already soft-deleted, 40407 for a permanent delete first", async () => {
      const s = subject("delete-version");
      await register(s, ORDER_V1);
      await register(s, ORDER_V2);
      await expectRefusedUnchanged(
        () => call("DELETE", `/subjects/${s}/versions/1?permanent=true`),
        404,
        40407,
      );
      const soft = await call("DELETE", `/subjects/${s}/versions/1`);
      expect(soft.status).toBe(200);
      expect(soft.text).toBe("1");
      expect((await call("GET", `/subjects/${s}/versions`)).body).toEqual([2]);
      expect((await call("GET", `/subjects/${s}/versions?deleted=true`)).body).toEqual([1, 2]);
      expectError(await call("GET", `/subjects/${s}/versions/1`), 404, 40402);
      expect((await call("GET", `/subjects/${s}/versions/1?deleted=true`)).body).toEqual({
        subject: s,
        version: 1,
        id: expect.any(Number),
        schema: ORDER_V1,
        deleted: true,
      });
      await expectRefusedUnchanged(() => call("DELETE", `/subjects/${s}/versions/1`), 404, 40406);
      expect((await call("DELETE", `/subjects/${s}/versions/1?permanent=true`)).body).toBe(1);
      expect((await call("GET", `/subjects/${s}/versions?deleted=true`)).body).toEqual([2]);
      expect((await call("DELETE", `/subjects/${s}/versions/latest`)).body).toBe(2);
    });

    test("deleting a subject: its versions, 40404 when already soft-deleted, 40405 for a permanent delete first, 40401", async () => {
      const s = subject("delete-subject");
      await register(s, ORDER_V1);
      await register(s, ORDER_V2);
      await expectRefusedUnchanged(() => call("DELETE", `/subjects/${s}?permanent=true`), 404, 40405);
      expect((await call("DELETE", `/subjects/${s}`)).body).toEqual([1, 2]);
      await expectRefusedUnchanged(() => call("DELETE", `/subjects/${s}`), 404, 40404);
      expect((await call("DELETE", `/subjects/${s}?permanent=true`)).body).toEqual([1, 2]);
      expectError(await call("DELETE", `/subjects/${s}`), 404, 40401);
      expectError(await call("DELETE", `/subjects/${subject("nobody")}`), 404, 40401);
    });

    test("compatibility: 200 with the verdict, messages only with verbose, nothing written", async () => {
      const s = subject("compat");
      await register(s, ORDER_V1);
      const before = await state();
      const ok = await call("POST", `/compatibility/subjects/${s}/versions/latest`, {
        body: { schema: ORDER_V2 },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ is_compatible: true });
      expect(
        (await call("POST", `/compatibility/subjects/${s}/versions/1`, { body: { schema: ORDER_V2 } })).body,
      ).toEqual({
        is_compatible: true,
      });
      const no = await call("POST", `/compatibility/subjects/${s}/versions/latest`, {
        body: { schema: ORDER_BREAKING },
      });
      expect(no.status).toBe(200);
      expect(no.body).toEqual({ is_compatible: false });
      const verbose = await call("POST", `/compatibility/subjects/${s}/versions?verbose=true`, {
        body: { schema: ORDER_BREAKING },
      });
      expect(Object.keys(verbose.body)).toEqual(["is_compatible", "messages"]);
      expect(verbose.body.is_compatible).toBe(false);
      expect(verbose.body.messages.length).toBeGreaterThan(0);
      expect(verbose.body.messages.every((m: unknown) => typeof m === "string")).toBe(true);
      expect(
        (
          await call("POST", `/compatibility/subjects/${s}/versions?verbose=true`, {
            body: { schema: ORDER_V2 },
          })
        ).body,
      ).toEqual({
        is_compatible: true,
        messages: [],
      });
      expect(await state()).toEqual(before);
      expectError(
        await call("POST", `/compatibility/subjects/${s}/versions/7`, { body: { schema: ORDER_V2 } }),
        404,
        40402,
      );
    });

    test("an incompatible register is 409 with error_code 409 and stores nothing", async () => {
      const s = subject("incompatible");
      await register(s, ORDER_V1);
      await expectRefusedUnchanged(
        () => call("POST", `/subjects/${s}/versions`, { body: { schema: ORDER_BREAKING } }),
        409,
        409,
      );
    });

    test("invalid schemas and bodies: 42201, 400 (error_code 400) and 415, nothing stored", async () => {
      const s = subject("invalid");
      await register(s, ORDER_V1);
      const path = `/subjects/${s}/versions`;
      await expectRefusedUnchanged(() => call("POST", path, { body: { schema: "{not json" } }), 422, 42201);
      await expectRefusedUnchanged(
        () => call("POST", path, { body: { schema: "message {", schemaType: "PROTOBUF" } }),
        422,
        42201,
      );
      await expectRefusedUnchanged(
        () => call("POST", path, { body: { schema: ORDER_V1, schemaType: "XML" } }),
        422,
        42201,
      );
      await expectRefusedUnchanged(() => call("POST", path, { body: {} }), 422, 42201);
      await expectRefusedUnchanged(
        () => call("POST", path, { body: { schema: ORDER_V2, metadata: { properties: { owner: "bob" } } } }),
        422,
        42201,
      );
      await expectRefusedUnchanged(
        () => call("POST", path, { raw: "{", headers: { "Content-Type": MEDIA } }),
        400,
        400,
      );
      await expectRefusedUnchanged(() => call("POST", path, { body: [ORDER_V2] }), 400, 400);
      await expectRefusedUnchanged(
        () => call("POST", path, { body: { schema: ORDER_V2, references: "x" } }),
        400,
        400,
      );
      await expectRefusedUnchanged(
        () =>
          call("POST", path, {
            raw: JSON.stringify({ schema: ORDER_V2 }),
            headers: { "Content-Type": "text/plain" },
          }),
        415,
        415,
      );
      expectError(
        await call("POST", `/subjects/${s}`, { raw: "nope", headers: { "Content-Type": MEDIA } }),
        400,
        400,
      );
      expectError(
        await call("PUT", "/config", { raw: "nope", headers: { "Content-Type": MEDIA } }),
        400,
        400,
      );
    });

    test("media types: every Confluent type and plain JSON are read; answers are vnd.schemaregistry.v1+json; Authorization is ignored", async () => {
      const s = subject("media");
      for (const type of [
        MEDIA,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/json; charset=utf-8",
      ]) {
        const answer = await call("POST", `/subjects/${s}/versions`, {
          body: { schema: ORDER_V1 },
          headers: {
            "Content-Type": type,
            Accept:
              "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json",
            Authorization: "Basic dXNlcjpwYXNz",
          },
        });
        expect(answer.status).toBe(200);
        expect(answer.headers.get("Content-Type")).toBe(MEDIA);
      }
      expect(
        (await call("GET", `/subjects/${s}/versions`, { headers: { Authorization: "Bearer x" } })).body,
      ).toEqual([1]);
    });

    test("subjects with Unicode, spaces, / sent as %2F, and 255 characters", async () => {
      const names = [
        `Ünïcødé ✓ ${++counter}`,
        `with space ${++counter}`,
        `a/b/${++counter}`,
        `${++counter}-`.padEnd(255, "x"),
      ];
      for (const name of names) {
        const id = await register(name, ORDER_V1);
        const answer = await call("GET", `/subjects/${enc(name)}/versions/1`);
        expect(answer.body).toEqual({ subject: name, version: 1, id, schema: ORDER_V1 });
        expect((await call("GET", "/subjects")).body).toContain(name);
        expect(
          (await call("POST", `/subjects/${enc(name)}`, { body: { schema: ORDER_V1 } })).body.subject,
        ).toBe(name);
      }
    });

    test("an invalid subject (over 255 characters, control characters) is 42208, nothing stored", async () => {
      await expectRefusedUnchanged(
        () => call("POST", `/subjects/${"x".repeat(256)}/versions`, { body: { schema: ORDER_V1 } }),
        422,
        42208,
      );
      await expectRefusedUnchanged(
        () => call("POST", `/subjects/${enc("bell\u0007")}/versions`, { body: { schema: ORDER_V1 } }),
        422,
        42208,
      );
    });

    test("/config: global and per subject, {compatibility} on PUT, {compatibilityLevel} on GET and DELETE, 40408, 42203", async () => {
      const s = subject("config");
      const global = (await call("GET", "/config")).body;
      expect(Object.keys(global)).toEqual(["compatibilityLevel"]);
      expect((await call("PUT", "/config", { body: { compatibility: "FULL" } })).body).toEqual({
        compatibility: "FULL",
      });
      expect((await call("GET", "/config")).body).toEqual({ compatibilityLevel: "FULL" });
      expect((await call("DELETE", "/config")).body).toEqual({ compatibilityLevel: "FULL" });
      expect((await call("GET", "/config")).body).toEqual(global);
      await expectRefusedUnchanged(
        () => call("PUT", "/config", { body: { compatibility: "SIDEWAYS" } }),
        422,
        42203,
      );
      await expectRefusedUnchanged(() => call("PUT", "/config", { body: {} }), 422, 42203);

      expectError(await call("GET", `/config/${s}`), 404, 40408);
      expect((await call("GET", `/config/${s}?defaultToGlobal=true`)).body).toEqual(global);
      expect((await call("PUT", `/config/${s}`, { body: { compatibility: "NONE" } })).body).toEqual({
        compatibility: "NONE",
      });
      expect((await call("GET", `/config/${s}`)).body).toEqual({ compatibilityLevel: "NONE" });
      await expectRefusedUnchanged(
        () => call("PUT", `/config/${s}`, { body: { compatibility: 3 } }),
        422,
        42203,
      );
      expect((await call("DELETE", `/config/${s}`)).body).toEqual({ compatibilityLevel: "NONE" });
      expectError(await call("DELETE", `/config/${s}`), 404, 40408);
    });

    test("a subject's NONE level lets an incompatible schema register", async () => {
      const s = subject("level-none");
      await register(s, ORDER_V1);
      await call("PUT", `/config/${s}`, { body: { compatibility: "NONE" } });
      await register(s, ORDER_BREAKING);
      expect((await call("GET", `/subjects/${s}/versions`)).body).toEqual([1, 2]);
    });

    test("/mode: global and per subject, 40409, 42204, READONLY refuses writes with 42205, IMPORT needs force", async () => {
      const s = subject("mode");
      await register(s, ORDER_V1);
      expect((await call("GET", "/mode")).body).toEqual({ mode: "READWRITE" });
      await expectRefusedUnchanged(() => call("PUT", "/mode", { body: { mode: "SIDEWAYS" } }), 422, 42204);
      expectError(await call("GET", `/mode/${s}`), 404, 40409);
      expect((await call("GET", `/mode/${s}?defaultToGlobal=true`)).body).toEqual({ mode: "READWRITE" });
      expect((await call("PUT", `/mode/${s}`, { body: { mode: "READONLY" } })).body).toEqual({
        mode: "READONLY",
      });
      expect((await call("GET", `/mode/${s}`)).body).toEqual({ mode: "READONLY" });
      await expectRefusedUnchanged(
        () => call("POST", `/subjects/${s}/versions`, { body: { schema: ORDER_V2 } }),
        422,
        42205,
      );
      expect((await call("DELETE", `/mode/${s}`)).body).toEqual({ mode: "READONLY" });
      expectError(await call("DELETE", `/mode/${s}`), 404, 40409);
      await register(s, ORDER_V2);

      await expectRefusedUnchanged(() => call("PUT", "/mode", { body: { mode: "IMPORT" } }), 422, 42205);
      expect((await call("PUT", "/mode?force=true", { body: { mode: "IMPORT" } })).body).toEqual({
        mode: "IMPORT",
      });
      expect((await call("DELETE", "/mode")).body).toEqual({ mode: "IMPORT" });
      expect((await call("GET", "/mode")).body).toEqual({ mode: "READWRITE" });
      expect((await call("PUT", "/mode", { body: { mode: "READONLY_OVERRIDE" } })).body).toEqual({
        mode: "READONLY_OVERRIDE",
      });
      expect((await call("PUT", "/mode", { body: { mode: "READWRITE" } })).body).toEqual({
        mode: "READWRITE",
      });
    });

    test("unknown paths and methods under Confluent's prefixes answer Confluent's 404 and 405", async () => {
      expectError(await call("GET", "/subjects/x/versions/1/nothing"), 404, 404);
      expectError(await call("GET", "/schemas/ids"), 404, 404);
      const wrong = await call("PATCH", "/config");
      expectError(wrong, 405, 405);
      expect(wrong.headers.get("Allow")).toBe("DELETE, GET, HEAD, PUT");
      expectError(await call("PUT", "/subjects/x/versions"), 405, 405);
      // A trailing slash is the same path, as Confluent serves it.
      expect((await call("GET", "/schemas/types/")).body).toEqual(["JSON", "PROTOBUF", "AVRO"]);
      expect((await call("HEAD", "/schemas/types")).status).toBe(200);
    });

    test("bad input never answers a 500", async () => {
      const s = subject("fuzz");
      await register(s, ORDER_V1);
      const bodies: (string | undefined)[] = [
        undefined,
        "",
        "null",
        "1",
        '"x"',
        "[]",
        "{}",
        '{"schema":null}',
        '{"schema":1}',
        '{"schema":"x","references":[{}]}',
        '{"schema":"x","references":[{"name":"a","subject":"b","version":"1"}]}',
        '{"compatibility":null}',
        '{"mode":[]}',
        "\u0000",
      ];
      const paths = [
        `/subjects/${s}`,
        `/subjects/${s}/versions`,
        `/compatibility/subjects/${s}/versions/latest`,
        `/compatibility/subjects/${s}/versions`,
        "/config",
        `/config/${s}`,
        "/mode",
        `/mode/${s}`,
        `/subjects/%E0%A4%A/versions`,
        `/schemas/ids/%ZZ`,
      ];
      for (const path of paths) {
        for (const raw of bodies) {
          for (const method of ["POST", "PUT"]) {
            const answer = await call(method, path, {
              ...(raw === undefined ? {} : { raw }),
              headers: { "Content-Type": MEDIA },
            });
            expect({ path, raw, method, status: answer.status < 500 }).toEqual({
              path,
              raw,
              method,
              status: true,
            });
          }
        }
        for (const method of ["GET", "DELETE"]) {
          const answer = await call(method, `${path}?deleted=maybe&permanent=1&offset=-3&limit=x`);
          expect({ path, method, status: answer.status < 500 }).toEqual({ path, method, status: true });
        }
      }
    });
  });
}

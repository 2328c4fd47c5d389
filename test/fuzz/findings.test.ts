/**
 * What fuzzing found, kept as plain tests so each stays fixed without a fuzz
 * run: every input below was once answered 5xx, answered with the
 * database's own refusal, or changed stored data while being refused. Also
 * the exposure settings: the interface the server listens on (HOST) and the
 * bounds every request meets before anything parses it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenHost } from "../../src/app/config/config-schema.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { MAX_METADATA_DEPTH, validateMetadata } from "../../src/domain/limits.ts";
import {
  headerBytes,
  MAX_BODY_DEPTH,
  MAX_HEADER_BYTES,
  nestsDeeperThan,
} from "../../src/http/request-bounds.ts";
import { startRegistryProcess } from "../clients/registry-process.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();
const utf8 = (text: string) => new TextEncoder().encode(text);
const deepObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const deepArrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const CONFLUENT = { "Content-Type": "application/vnd.schemaregistry.v1+json" };

describe("the depth scan over raw bytes", () => {
  test("counts arrays and objects, never brackets inside strings or after escapes", () => {
    expect(nestsDeeperThan(utf8(deepArrays(3)), 3)).toBe(false);
    expect(nestsDeeperThan(utf8(deepArrays(4)), 3)).toBe(true);
    expect(nestsDeeperThan(utf8(deepObjects(4)), 3)).toBe(true);
    expect(nestsDeeperThan(utf8(JSON.stringify({ a: "[[[[[[[[", b: '\\"[[[[[[' })), 2)).toBe(false);
    // Stray closing brackets do not buy depth for what follows.
    expect(nestsDeeperThan(utf8(`]]]]]${deepArrays(4)}`), 3)).toBe(true);
    // Bytes that are not UTF-8 are scanned as they are.
    expect(nestsDeeperThan(new Uint8Array([0xff, 0x5b, 0xc0, 0x5b, 0x5b]), 2)).toBe(true);
  });

  test("a 100,000-level body is measured in milliseconds", () => {
    const bytes = utf8(deepArrays(100_000));
    const started = performance.now();
    expect(nestsDeeperThan(bytes, MAX_BODY_DEPTH)).toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("header bytes count the target and every header", () => {
    const request = new Request("http://registry/a?b=c", { headers: { "x-one": "12345" } });
    expect(headerBytes(request)).toBe("/a?b=c".length + "x-one".length + 5 + 4);
  });
});

describe("metadata that cannot be stored", () => {
  test("custom nested 100,000 levels deep is refused without a stack overflow", () => {
    const custom = JSON.parse(deepObjects(100_000));
    expect(() => validateMetadata({ custom })).toThrow(
      `metadata.custom is nested more than ${MAX_METADATA_DEPTH} levels deep`,
    );
  });

  test("U+0000 in description, owner and custom keys or strings is refused by name", () => {
    for (const [metadata, field] of [
      [{ description: "a\u0000b" }, "metadata.description"],
      [{ owner: "\u0000" }, "metadata.owner"],
      [{ custom: { "\u0000": 1 } }, "metadata.custom"],
      [{ custom: { a: ["x", "y\u0000"] } }, "metadata.custom"],
    ] as const) {
      expect(() => validateMetadata(metadata)).toThrow(`${field} holds the character U+0000`);
    }
  });
});

describe("exposure: HOST", () => {
  const configOf = async (env: Record<string, string>) =>
    loadConfig({ env, argv: [], readFile: async () => "" });

  test("loopback for the embedded database, every interface with DATABASE_URL, HOST wins", async () => {
    expect(listenHost(await configOf({}))).toBe("127.0.0.1");
    expect(listenHost(await configOf({ DATABASE_URL: "pglite://memory" }))).toBe("127.0.0.1");
    expect(listenHost(await configOf({ DATABASE_URL: "postgres://db/registry" }))).toBe("0.0.0.0");
    expect(listenHost(await configOf({ HOST: "0.0.0.0" }))).toBe("0.0.0.0");
    expect(listenHost(await configOf({ HOST: "::1", DATABASE_URL: "postgres://db/r" }))).toBe("::1");
  });

  test("a HOST that is no host name or address stops start-up with the setting's name", async () => {
    await expect(configOf({ HOST: "http://0.0.0.0" })).rejects.toThrow("HOST");
    await expect(configOf({ HOST: "a b" })).rejects.toThrow("HOST");
  });

  test.skipIf(!available)(
    "HOST=127.0.0.1 is reachable on loopback and not on another interface",
    async () => {
      const other = Object.values((await import("node:os")).networkInterfaces())
        .flat()
        .find((address) => address && address.family === "IPv4" && !address.internal)?.address;
      const server = await startRegistryProcess({
        HOST: "127.0.0.1",
        AUTH_REQUIRED: "false",
        LOG_LEVEL: "info",
      });
      try {
        // The line may follow the first answer to /health/live by a moment.
        for (let i = 0; i < 40 && !server.output().includes("listening on"); i++) await Bun.sleep(50);
        expect(server.output()).toContain("listening on http://127.0.0.1:");
        if (other) {
          const port = new URL(server.url).port;
          const outside = await fetch(`http://${other}:${port}/health/live`, {
            signal: AbortSignal.timeout(2000),
          }).catch((error: unknown) => error);
          expect(outside).toBeInstanceOf(Error);
        }
      } finally {
        await server.stop();
      }
    },
  );
});

describe.skipIf(!available)("fuzzing's findings through the app", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres", env: { AUTH_REQUIRED: "false" } });
  });
  afterAll(async () => {
    await api?.close();
  });

  const register = (body: string) =>
    api.request("POST", "/api/v1/schemas", { raw: body, headers: { "Content-Type": "application/json" } });

  test("metadata nested 100,000 levels deep answers 400, not 500", async () => {
    const res = await register(
      `{"subject":"f.deep","schema_type":"json","content":{"type":"object"},"metadata":{"custom":${deepObjects(100_000)}}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details.max_depth).toBe(MAX_BODY_DEPTH);
  });

  test("metadata nested past its own bound inside the body bound answers 400 naming metadata.custom", async () => {
    const res = await register(
      `{"subject":"f.deep","schema_type":"json","content":{"type":"object"},"metadata":{"custom":${deepObjects(40)}}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe("metadata.custom");
  });

  test("a JSON Schema with a U+0000 key answers 422 in both APIs, before the database, and stores nothing", async () => {
    const before = await api.snapshot();
    const native = await register(
      '{"subject":"f.nul","schema_type":"json","content":{"type":"object","properties":{"\\u0000":{}}}}',
    );
    expect(native.status).toBe(422);
    expect(native.body.error.code).toBe("invalid_schema");
    expect(native.body.error.message).toContain("U+0000");
    expect(native.body.error.details.path).toBe("/properties/\u0000");
    const confluent = await api.request("POST", "/subjects/f.nul/versions", {
      raw: JSON.stringify({
        schemaType: "JSON",
        schema: JSON.stringify({ type: "object", description: "a\u0000b" }),
      }),
      headers: CONFLUENT,
    });
    expect(confluent.status).toBe(422);
    expect(confluent.body.error_code).toBe(42201);
    expect(confluent.body.message).toContain("U+0000");
    expect(await api.snapshot()).toEqual(before);
  });

  test("a subject or parameter with %00 answers 400 in each API's body, never the database's refusal", async () => {
    const confluent = await api.get("/subjects/%00/versions");
    expect(confluent.status).toBe(400);
    expect(confluent.body.error_code).toBe(400);
    const native = await api.get("/api/v1/search?q=%00");
    expect(native.status).toBe(400);
    expect(native.body.error.code).toBe("invalid_request");
    expect(native.body.error.message).toContain("%00");
  });

  test("a state change whose reason holds U+0000 answers 400 naming the field", async () => {
    const created = await register('{"subject":"f.state","schema_type":"json","content":{"type":"string"}}');
    const res = await api.request("PATCH", `/api/v1/schemas/${created.body.id}/state`, {
      body: { state: "deprecated", reason: "a\u0000b" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("reason");
    expect(res.body.error.message).toContain("U+0000");
  });

  test("a schema of another type under a subject: a new major at NONE, 409 at BACKWARD, never 500", async () => {
    const json = await register('{"subject":"f.types","schema_type":"json","content":{"type":"object"}}');
    expect(json.status).toBe(201);
    const refused = await api.post("/api/v1/schemas", {
      subject: "f.types",
      schema_type: "protobuf",
      content: 'syntax = "proto3"; enum E { A = 1; }',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("incompatible_schema");
    expect(refused.body.error.details.violations[0].rule).toBe("schema_type_changed");
    await api.request("PUT", "/api/v1/subjects/f.types/config", { body: { compatibility: "NONE" } });
    const changed = await api.post("/api/v1/schemas", {
      subject: "f.types",
      schema_type: "protobuf",
      content: 'syntax = "proto3"; enum E { A = 1; }',
    });
    expect(changed.status).toBe(201);
    expect(changed.body.version).toBe("2.0.0");
  });

  test("bodies nested past the bound answer 400 in each API's body", async () => {
    const native = await api.request("POST", "/api/v1/subjects/f/compatibility", {
      raw: deepArrays(MAX_BODY_DEPTH + 1),
      headers: { "Content-Type": "application/json" },
    });
    expect(native.status).toBe(400);
    expect(native.body.error.details.max_depth).toBe(MAX_BODY_DEPTH);
    const confluent = await api.request("POST", "/subjects/f/versions", {
      raw: `{"schema":"{}","x":${deepArrays(100_000)}}`,
      headers: CONFLUENT,
    });
    expect(confluent.status).toBe(400);
    expect(confluent.body.error_code).toBe(400);
  });

  test("headers over the bound answer 431 in each API's body", async () => {
    const big = { "x-big": "b".repeat(MAX_HEADER_BYTES) };
    const native = await api.get("/api/v1/subjects", big);
    expect(native.status).toBe(431);
    expect(native.body.error.code).toBe("headers_too_large");
    const confluent = await api.get("/subjects", big);
    expect(confluent.status).toBe(431);
    expect(confluent.body.error_code).toBe(431);
  });

  test("deleting a mode or a level a subject does not have is refused and touches no row", async () => {
    await api.request("PUT", "/config/f.settings", { body: { compatibility: "NONE" }, headers: CONFLUENT });
    await api.request("PUT", "/mode/f.other", { body: { mode: "READWRITE" }, headers: CONFLUENT });
    const before = await api.registry.storage.settings.getSubject("f.settings");
    const rowBefore = await settingsRows(api);
    const mode = await api.request("DELETE", "/mode/f.settings");
    expect(mode.status).toBe(404);
    expect(mode.body.error_code).toBe(40409);
    const config = await api.request("DELETE", "/config/f.other");
    expect(config.status).toBe(404);
    expect(await settingsRows(api)).toEqual(rowBefore);
    expect(await api.registry.storage.settings.getSubject("f.settings")).toEqual(before);
  });
});

/** subject_config with its timestamps, which a refused delete once moved. */
async function settingsRows(api: TestRegistry): Promise<unknown[]> {
  const postgres = (await import("postgres")).default;
  const sql = postgres(api.registry.database.url, { max: 1, onnotice: () => {} });
  try {
    return [...(await sql`SELECT * FROM subject_config ORDER BY subject`)];
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * The embedded default: the same app on PGlite persisted in a directory. A
 * smaller smoke set than the PostgreSQL suites, plus what only the embedded
 * database shows: what was registered survives a restart, and a database
 * stopped under a running registry answers 503.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonBody, jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";

/** A PGlite start takes seconds, more on a busy machine; hooks get the same budget as tests. */
const START_TIMEOUT_MS = 60_000;

describe("HTTP API on the embedded PGlite", () => {
  let dir: string;
  let url: `pglite://${string}`;
  let api: TestRegistry;
  let created: JsonBody;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-pglite-"));
    url = `pglite://${dir}`;
    api = await startTestRegistry({ database: url });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  }, START_TIMEOUT_MS);

  test("registers and reads back by id, global_id, subject and version, and latest", async () => {
    const res = await api.post("/api/v1/schemas", {
      subject: "embedded.Smoke",
      schema_type: "json",
      content: jsonSchema(1),
    });
    expect(res.status).toBe(201);
    created = res.body;
    for (const path of [
      `/api/v1/schemas/${created.id}`,
      `/api/v1/schemas/${created.global_id}`,
      "/api/v1/subjects/embedded.Smoke/versions/1.0.0",
      "/api/v1/subjects/embedded.Smoke/versions/latest",
    ]) {
      expect((await api.get(path)).body, path).toEqual(created);
    }
    const again = await api.post("/api/v1/schemas", {
      subject: "embedded.Smoke",
      schema_type: "json",
      content: jsonSchema(1),
      version: "7.0.0",
    });
    expect(again.status).toBe(200);
    expect((await api.get(`/api/v1/schemas/${created.id}/content`)).headers.get("ETag")).toBe(
      `"${created.content_hash}"`,
    );
    expect((await api.get("/api/v1/search?q=smoke")).body.items[0].id).toBe(created.id);
    expect((await api.get("/health/ready")).body.status).toBe("ready");
  });

  test("bad requests answer 400, 404 and 422 and change nothing", async () => {
    const before = await api.snapshot();
    const malformed = await api.request("POST", "/api/v1/schemas", {
      raw: "{",
      headers: { "Content-Type": "application/json" },
    });
    expect(malformed.body.error.code).toBe("invalid_request");
    expect((await api.get("/api/v1/schemas/424242")).body.error.code).toBe("not_found");
    const invalid = await api.post("/api/v1/schemas", {
      subject: "embedded.Smoke",
      schema_type: "avro",
      content: { type: "enum", name: "E" },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.code).toBe("invalid_schema");
    expect(await api.snapshot()).toEqual(before);
  });

  test(
    "what was registered survives a restart",
    async () => {
      await api.close();
      api = await startTestRegistry({ database: url });
      const res = await api.get(`/api/v1/schemas/${created.global_id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(created);
    },
    START_TIMEOUT_MS,
  );

  test("a database stopped under the registry answers 503, and readiness says so", async () => {
    await api.registry.database.stop();
    const res = await api.get(`/api/v1/schemas/${created.id}`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("unavailable");
    const ready = await api.get("/health/ready");
    expect(ready.status).toBe(503);
  });
});

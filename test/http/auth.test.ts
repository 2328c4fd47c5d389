/**
 * Authentication and authorization through the real app on a fresh
 * PostgreSQL database, auth on: the bootstrap key only while no key exists,
 * keys created, listed and revoked, each role against each class of route of
 * both APIs (reads, writes, deletes and settings, keys), subject prefixes
 * (paths, ids, the body of a register, lists and searches, the fast path),
 * expiry, Basic auth as Confluent's clients send it, 401 and 403 bodies and
 * headers, the open routes, and a revocation seen by a second instance at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type JsonBody,
  jsonSchema,
  type RegistryInstance,
  requestWithKey,
  startRegistryInstance,
  startTestRegistry,
  type TestRegistry,
  until,
} from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

const BOOTSTRAP = "bootstrap-admin-key-for-the-auth-tests-0123456789";
const WWW = 'Bearer realm="schema-registry", Basic realm="schema-registry", charset="UTF-8"';

interface CreatedKey {
  id: string;
  key: string;
  role: string;
  subjects: string[] | null;
  expires_at: string | null;
  created_at: string;
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
/** A request to one of several instances, with `key` as Bearer credentials. */
const ask = (instance: RegistryInstance, method: string, path: string, key: string, body?: unknown) =>
  requestWithKey(instance.registry, method, path, key, body);
const basic = (user: string, password: string) => ({ Authorization: `Basic ${btoa(`${user}:${password}`)}` });
const CONFLUENT_JSON = { "Content-Type": "application/vnd.schemaregistry.v1+json" };

describe.skipIf(!available)("auth on: keys, roles and subject prefixes", () => {
  let api: TestRegistry;
  let admin: CreatedKey;
  let writer: CreatedKey;
  let reader: CreatedKey;
  let teamWriter: CreatedKey;
  let teamAdmin: CreatedKey;
  let teamSchemaId: string;
  let otherSchemaId: string;
  let otherContentId: number;

  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    api.request(method, path, { headers, ...(body !== undefined ? { body } : {}) });

  const createKey = async (by: string, body: Record<string, unknown>): Promise<CreatedKey> => {
    const created = await call("POST", "/api/v1/keys", bearer(by), body);
    expect(created.status).toBe(201);
    return created.body;
  };

  const register = (key: string, subject: string, n: number) =>
    call("POST", "/api/v1/schemas", bearer(key), { subject, schema_type: "json", content: jsonSchema(n) });

  beforeAll(async () => {
    api = await startTestRegistry({
      database: "postgres",
      env: { AUTH_REQUIRED: "true", AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("without credentials: 401 with WWW-Authenticate, in each API's own body", async () => {
    const native = await api.get("/api/v1/subjects");
    expect(native.status).toBe(401);
    expect(native.headers.get("WWW-Authenticate")).toBe(WWW);
    expect(native.body.error).toMatchObject({ code: "unauthorized" });
    expect(native.body.error.request_id).toBe(native.headers.get("X-Request-Id"));

    const confluent = await api.get("/subjects");
    expect(confluent.status).toBe(401);
    expect(confluent.headers.get("WWW-Authenticate")).toBe(WWW);
    expect(confluent.body).toEqual({ error_code: 40101, message: expect.any(String) });

    const wrong = await api.get(
      "/api/v1/subjects",
      bearer("srk_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("WWW-Authenticate")).toBe(WWW);
  });

  test("the health probes, the OpenAPI document, the docs and (by default) /metrics are open", async () => {
    for (const path of ["/health/live", "/health/ready", "/openapi.json", "/docs", "/metrics"]) {
      expect([path, (await api.get(path)).status]).toEqual([path, 200]);
    }
  });

  test("the OpenAPI document names the schemes and what each operation needs", async () => {
    const document = (await api.get("/openapi.json")).body;
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["basic", "bearer"]);
    const createKey = document.paths["/api/v1/keys"].post;
    expect(createKey["x-required-role"]).toBe("admin");
    expect(createKey.security).toEqual([{ bearer: [] }, { basic: [] }]);
    expect(createKey.description).toContain("Needs the `admin` role");
    expect(document.paths["/api/v1/schemas/{id}"].get["x-required-role"]).toBe("reader");
    expect(document.paths["/health/ready"].get.security).toEqual([]);
    expect(document.paths["/metrics"].get["x-required-role"]).toBe("none");
  });

  test("the bootstrap key works while no key exists, and the first key ends it", async () => {
    expect((await api.get("/api/v1/keys", bearer(BOOTSTRAP))).body).toEqual({ items: [] });
    admin = await createKey(BOOTSTRAP, { role: "admin", description: "first admin" });
    expect(admin).toMatchObject({ role: "admin", subjects: null, expires_at: null });
    expect(admin.key.startsWith(`${admin.id}.`)).toBe(true);

    const refused = await api.get("/api/v1/keys", bearer(BOOTSTRAP));
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain("bootstrap key");
    expect((await api.get("/api/v1/keys", bearer(admin.key))).status).toBe(200);
  });

  test("keys are listed without their secrets, and only the hash is stored", async () => {
    writer = await createKey(admin.key, { role: "writer" });
    reader = await createKey(admin.key, { role: "reader" });
    teamWriter = await createKey(admin.key, { role: "writer", subjects: ["team-a."] });
    teamAdmin = await createKey(admin.key, { role: "admin", subjects: ["team-a."] });
    const listed = await api.get("/api/v1/keys", bearer(admin.key));
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((key: JsonBody) => key.id)).toEqual(
      [admin, writer, reader, teamWriter, teamAdmin].map((key) => key.id),
    );
    expect(listed.text).not.toContain(writer.key.split(".")[1]!);
    for (const item of listed.body.items) expect(item.key).toBeUndefined();
  });

  test("a NUL in a key's prefixes or description is refused with 400, and no key is made", async () => {
    const before = await api.get("/api/v1/keys", bearer(admin.key));
    for (const body of [
      { role: "reader", subjects: ["team-\u0000a."] },
      { role: "reader", description: "on\u0000call" },
    ]) {
      const refused = await call("POST", "/api/v1/keys", bearer(admin.key), body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe("invalid_request");
      expect(refused.text).toContain("NUL");
    }
    const after = await api.get("/api/v1/keys", bearer(admin.key));
    expect(after.body.items.length).toBe(before.body.items.length);
  });

  test("reader: reads, lists, search, validation and dry runs; no register, delete or settings", async () => {
    expect((await register(writer.key, "open.orders", 1)).status).toBe(201);
    const k = reader.key;
    expect((await api.get("/api/v1/subjects", bearer(k))).status).toBe(200);
    expect((await api.get("/api/v1/subjects/open.orders/versions/latest", bearer(k))).status).toBe(200);
    expect((await api.get("/api/v1/search?q=orders", bearer(k))).status).toBe(200);
    expect((await api.get("/api/v1/config", bearer(k))).status).toBe(200);
    const dryRun = await call("POST", "/api/v1/subjects/open.orders/compatibility", bearer(k), {
      schema_type: "json",
      content: jsonSchema(2),
    });
    expect(dryRun.status).toBe(200);
    const validated = await call("POST", "/api/v1/subjects/open.orders/versions/latest/validate", bearer(k), {
      prompt: "hi",
    });
    expect(validated.status).toBe(200);

    const refused = await register(k, "open.orders", 3);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("WWW-Authenticate")).toBeNull();
    expect(refused.body.error).toMatchObject({
      code: "forbidden",
      details: { required_role: "writer", role: "reader" },
    });
    expect((await call("PUT", "/api/v1/config", bearer(k), { compatibility: "NONE" })).status).toBe(403);
    expect((await api.get("/api/v1/keys", bearer(k))).status).toBe(403);
  });

  test("writer: registers and state changes; no deletes, settings or keys", async () => {
    const created = await register(writer.key, "open.events", 1);
    expect(created.status).toBe(201);
    const id = created.body.id;
    const state = await call("PATCH", `/api/v1/schemas/${id}/state`, bearer(writer.key), {
      state: "deprecated",
    });
    expect(state.status).toBe(200);
    expect((await call("DELETE", `/api/v1/schemas/${id}`, bearer(writer.key), undefined)).status).toBe(403);
    expect(
      (
        await call("PUT", "/api/v1/subjects/open.events/config", bearer(writer.key), {
          compatibility: "NONE",
        })
      ).status,
    ).toBe(403);
    expect((await call("POST", "/api/v1/keys", bearer(writer.key), { role: "reader" })).status).toBe(403);

    expect((await call("DELETE", `/api/v1/schemas/${id}`, bearer(admin.key), undefined)).status).toBe(204);
    expect(
      (await call("PUT", "/api/v1/config", bearer(admin.key), { compatibility: "BACKWARD" })).status,
    ).toBe(200);
  });

  test("the Confluent API obeys the same roles, with 40101 and 40301", async () => {
    const schema = JSON.stringify({
      type: "record",
      name: "Order",
      fields: [{ name: "id", type: "string" }],
    });
    const asReader = await call(
      "POST",
      "/subjects/conf.orders/versions",
      { ...bearer(reader.key), ...CONFLUENT_JSON },
      { schema },
    );
    expect(asReader.status).toBe(403);
    expect(asReader.body).toEqual({ error_code: 40301, message: expect.any(String) });

    const asWriter = await call(
      "POST",
      "/subjects/conf.orders/versions",
      { ...bearer(writer.key), ...CONFLUENT_JSON },
      { schema },
    );
    expect(asWriter.status).toBe(200);
    expect((await api.get("/subjects/conf.orders/versions", bearer(reader.key))).body).toEqual([1]);
    expect((await api.get(`/schemas/ids/${asWriter.body.id}`, bearer(reader.key))).status).toBe(200);
    const check = await call(
      "POST",
      "/compatibility/subjects/conf.orders/versions/latest",
      { ...bearer(reader.key), ...CONFLUENT_JSON },
      { schema },
    );
    expect(check.body).toEqual({ is_compatible: true });

    expect(
      (await call("PUT", "/config", { ...bearer(writer.key), ...CONFLUENT_JSON }, { compatibility: "NONE" }))
        .body,
    ).toMatchObject({ error_code: 40301 });
    expect(
      (
        await call(
          "PUT",
          "/mode/conf.orders",
          { ...bearer(writer.key), ...CONFLUENT_JSON },
          { mode: "READONLY" },
        )
      ).status,
    ).toBe(403);
    expect((await call("DELETE", "/subjects/conf.orders", bearer(writer.key))).body).toMatchObject({
      error_code: 40301,
    });
    expect((await call("DELETE", "/subjects/conf.orders", bearer(admin.key))).body).toEqual([1]);
  });

  test("HTTP Basic with the key id as user and the secret as password, as Confluent's clients send it", async () => {
    const [id, secret] = reader.key.split(".") as [string, string];
    expect((await api.get("/subjects", basic(id, secret))).status).toBe(200);
    // The whole key as the password works too; a wrong secret does not.
    expect((await api.get("/subjects", basic(id, reader.key))).status).toBe(200);
    const wrong = await api.get(
      "/subjects",
      basic(id, `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error_code).toBe(40101);
  });

  test("subject prefixes: paths, ids, register bodies, lists and searches", async () => {
    const mine = await register(teamWriter.key, "team-a.orders", 1);
    expect(mine.status).toBe(201);
    teamSchemaId = mine.body.id;
    const outside = await register(teamWriter.key, "team-b.orders", 1);
    expect(outside.status).toBe(403);
    expect(outside.body.error.message).toContain("team-b.orders");
    // Other content than team-a's: one content id held by both subjects would be team-a's to read too.
    const other = await register(writer.key, "team-b.orders", 7);
    otherSchemaId = other.body.id;
    otherContentId = other.body.content_id;

    const k = teamWriter.key;
    expect((await api.get(`/api/v1/schemas/${teamSchemaId}`, bearer(k))).status).toBe(200);
    expect((await api.get(`/api/v1/schemas/${otherSchemaId}?include_deleted=false`, bearer(k))).status).toBe(
      403,
    );
    expect((await api.get(`/api/v1/schemas/${otherSchemaId}/content`, bearer(k))).status).toBe(403);
    expect(
      (await call("PATCH", `/api/v1/schemas/${otherSchemaId}/state`, bearer(k), { state: "deprecated" }))
        .status,
    ).toBe(403);
    expect((await api.get("/api/v1/subjects/team-b.orders/versions", bearer(k))).status).toBe(403);

    const subjects = await api.get("/api/v1/subjects", bearer(k));
    expect(subjects.body.items.map((item: JsonBody) => item.subject)).toEqual(["team-a.orders"]);
    expect(subjects.body.total).toBe(1);
    const found = await api.get("/api/v1/search?q=orders", bearer(k));
    expect(found.body.items.map((item: JsonBody) => item.subject)).toEqual(["team-a.orders"]);

    expect((await api.get("/subjects", bearer(k))).body).toEqual(["team-a.orders"]);
    expect((await api.get(`/schemas/ids/${otherContentId}`, bearer(k))).body).toMatchObject({
      error_code: 40301,
    });
    const shared = await register(writer.key, "team-b.shared", 1);
    const versions = await api.get(`/schemas/ids/${shared.body.content_id}/versions`, bearer(k));
    expect(versions.body).toEqual([{ subject: "team-a.orders", version: 1 }]);
    expect((await api.get("/subjects/team-b.orders/versions", bearer(k))).body).toMatchObject({
      error_code: 40301,
    });
    // A content id both teams hold, read as the other team's version: refused.
    const asOther = await api.get(`/schemas/ids/${shared.body.content_id}?subject=team-b.shared`, bearer(k));
    expect(asOther.body).toMatchObject({ error_code: 40301 });
    const asMine = await api.get(`/schemas/ids/${shared.body.content_id}?subject=team-a.orders`, bearer(k));
    expect(asMine.status).toBe(200);
  });

  test("a caller limited to prefixes may not change the whole registry, whatever its role", async () => {
    const k = teamAdmin.key;
    expect((await call("PUT", "/api/v1/config", bearer(k), { compatibility: "NONE" })).status).toBe(403);
    expect(
      (await call("PUT", "/config", { ...bearer(k), ...CONFLUENT_JSON }, { compatibility: "NONE" })).status,
    ).toBe(403);
    expect((await call("POST", "/api/v1/keys", bearer(k), { role: "admin" })).status).toBe(403);
    expect(
      (await call("PUT", "/api/v1/subjects/team-a.orders/config", bearer(k), { compatibility: "NONE" }))
        .status,
    ).toBe(200);
  });

  test("the fast path of GET by id authenticates and holds callers to their prefixes", async () => {
    const get = (path: string, headers: Record<string, string>) =>
      api.registry.fetch(new Request(`http://registry${path}`, { headers }));
    // Twice each: the second is an L1 hit with a remembered key, the path with no await.
    for (let i = 0; i < 2; i++) {
      expect((await get(`/api/v1/schemas/${teamSchemaId}`, bearer(teamWriter.key))).status).toBe(200);
      expect((await get(`/api/v1/schemas/${otherSchemaId}`, bearer(teamWriter.key))).status).toBe(403);
      expect((await get(`/schemas/ids/${otherContentId}`, bearer(teamWriter.key))).status).toBe(403);
      expect((await get(`/schemas/ids/${otherContentId}`, bearer(reader.key))).status).toBe(200);
    }
    const anonymous = await get(`/api/v1/schemas/${teamSchemaId}`, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("WWW-Authenticate")).toBe(WWW);
    const confluent = await get(`/schemas/ids/${otherContentId}`, {});
    expect(await confluent.json()).toMatchObject({ error_code: 40101 });
  });

  test("an expired key is refused", async () => {
    const soon = await createKey(admin.key, {
      role: "reader",
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await api.get("/api/v1/subjects", bearer(soon.key))).status).toBe(200);
    await Bun.sleep(1600);
    const expired = await api.get("/api/v1/subjects", bearer(soon.key));
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain("expired");
    const past = await call("POST", "/api/v1/keys", bearer(admin.key), {
      role: "reader",
      expires_at: "2020-01-01T00:00:00Z",
    });
    expect(past.status).toBe(400);
  });

  test("a revoked key is refused at once; an unknown key id is 404", async () => {
    const doomed = await createKey(admin.key, { role: "reader" });
    expect((await api.get("/api/v1/subjects", bearer(doomed.key))).status).toBe(200);
    const revoked = await call("DELETE", `/api/v1/keys/${doomed.id}`, bearer(admin.key));
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: doomed.id, role: "reader" });
    expect((await api.get("/api/v1/subjects", bearer(doomed.key))).status).toBe(401);
    expect((await call("DELETE", `/api/v1/keys/${doomed.id}`, bearer(admin.key))).status).toBe(404);
  });
});

describe.skipIf(!available)("auth across instances", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  test("a key revoked on one instance is refused by the other within the bus's delivery", async () => {
    const env = {
      AUTH_REQUIRED: "true",
      AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP,
      AUTH_KEY_CACHE_SECONDS: "3600",
    };
    const channel = `auth_test_${crypto.randomUUID().slice(0, 8)}`;
    const a = await startRegistryInstance(database.url, env, { channel });
    const b = await startRegistryInstance(database.url, env, { channel });
    try {
      const created = (await (
        await ask(a, "POST", "/api/v1/keys", BOOTSTRAP, { role: "admin" })
      ).json()) as CreatedKey;
      // The first key ends the bootstrap key on the other instance too.
      await until(
        async () => (await ask(b, "GET", "/api/v1/keys", BOOTSTRAP)).status,
        (status) => status === 401,
      );
      const reader = (await (
        await ask(a, "POST", "/api/v1/keys", created.key, { role: "reader" })
      ).json()) as CreatedKey;
      // B remembers the key (for an hour, by its setting) …
      expect((await ask(b, "GET", "/api/v1/subjects", reader.key)).status).toBe(200);
      expect((await ask(b, "GET", "/api/v1/subjects", reader.key)).status).toBe(200);
      expect((await ask(a, "DELETE", `/api/v1/keys/${reader.id}`, created.key)).status).toBe(200);
      // … and forgets it as soon as A's revocation arrives.
      const ms = await until(
        async () => (await ask(b, "GET", "/api/v1/subjects", reader.key)).status,
        (status) => status === 401,
        2000,
      );
      expect(ms).toBeLessThan(2000);
    } finally {
      await a.registry.close();
      await b.registry.close();
    }
  });

  test("with both cache tiers off, key changes ride a bus of their own", async () => {
    const env = {
      AUTH_REQUIRED: "true",
      AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP,
      CACHE_L1_MAX_ENTRIES: "0",
      AUTH_KEY_CACHE_SECONDS: "3600",
    };
    const fresh = await createTestDatabase();
    const a = await startRegistryInstance(fresh.url, env, undefined);
    const b = await startRegistryInstance(fresh.url, env, undefined);
    try {
      const admin = (await (
        await ask(a, "POST", "/api/v1/keys", BOOTSTRAP, { role: "admin" })
      ).json()) as CreatedKey;
      expect((await ask(b, "GET", "/api/v1/keys", admin.key)).status).toBe(200);
      expect((await ask(a, "DELETE", `/api/v1/keys/${admin.id}`, admin.key)).status).toBe(200);
      await until(
        async () => (await ask(b, "GET", "/api/v1/keys", admin.key)).status,
        (status) => status === 401,
        2000,
      );
    } finally {
      await a.registry.close();
      await b.registry.close();
      await fresh.drop();
    }
  });

  test("METRICS_PUBLIC=false asks /metrics for a key", async () => {
    const instance = await startRegistryInstance(
      database.url,
      { AUTH_REQUIRED: "true", METRICS_PUBLIC: "false" },
      undefined,
    );
    try {
      const response = await instance.registry.app.request("/metrics");
      expect(response.status).toBe(401);
      expect((await instance.registry.app.request("/health/ready")).status).toBe(200);
    } finally {
      await instance.registry.close();
    }
  });

  test("auth is on by default with a PostgreSQL DATABASE_URL", async () => {
    const { loadConfig } = await import("../../src/app/config/load-config.ts");
    const { authRequired } = await import("../../src/app/config/config-schema.ts");
    expect(authRequired(await loadConfig({ env: { DATABASE_URL: database.url } }))).toBe(true);
    expect(authRequired(await loadConfig({ env: {} }))).toBe(false);
    expect(authRequired(await loadConfig({ env: { DATABASE_URL: "pglite://memory" } }))).toBe(false);
    expect(
      authRequired(await loadConfig({ env: { AUTH_REQUIRED: "false", DATABASE_URL: database.url } })),
    ).toBe(false);
  });
});

describe("auth settings", () => {
  const configError = async (env: Record<string, string>) => {
    const { loadConfig } = await import("../../src/app/config/load-config.ts");
    return loadConfig({ env }).then(
      () => null,
      (error: Error) => error.message,
    );
  };

  test("a short bootstrap key is refused at start-up, naming the setting and hiding the value", async () => {
    const message = await configError({ AUTH_BOOTSTRAP_ADMIN_KEY: "hunter2" });
    expect(message).toContain("AUTH_BOOTSTRAP_ADMIN_KEY: expected a key of 32 characters or more");
    expect(message).not.toContain("hunter2");
  });

  test("a JWKS URL needs an issuer and an audience", async () => {
    const url = "https://id.example.test/jwks.json";
    expect(await configError({ AUTH_JWT_JWKS_URL: url, AUTH_JWT_AUDIENCE: "r" })).toContain(
      "AUTH_JWT_ISSUER",
    );
    expect(await configError({ AUTH_JWT_JWKS_URL: url, AUTH_JWT_ISSUER: "i" })).toContain(
      "AUTH_JWT_AUDIENCE",
    );
    expect(
      await configError({ AUTH_JWT_JWKS_URL: url, AUTH_JWT_ISSUER: "i", AUTH_JWT_AUDIENCE: "r" }),
    ).toBeNull();
    expect(await configError({ AUTH_REQUIRED: "maybe" })).toContain("AUTH_REQUIRED: expected true or false");
  });

  test("the embedded database runs open and says so loudly at start-up", async () => {
    const { loadConfig } = await import("../../src/app/config/load-config.ts");
    const { createRegistry } = await import("../../src/app/create-registry.ts");
    const { createLogger } = await import("../../src/observability/logger.ts");
    const lines: { level: string; message: string }[] = [];
    const registry = await createRegistry(await loadConfig({ env: { DATABASE_URL: "pglite://memory" } }), {
      logger: createLogger("info", (line) => lines.push(JSON.parse(line))),
    });
    try {
      expect(
        lines.some((line) => line.level === "warn" && line.message.includes("AUTHENTICATION IS OFF")),
      ).toBe(true);
      expect((await registry.app.request("/api/v1/subjects")).status).toBe(200);
    } finally {
      await registry.close();
    }
  }, 60_000);
});

/**
 * scripts/keys.ts from a shell against a real PostgreSQL database that a
 * running registry (auth on) uses: a key created by the script works at once,
 * with its role and prefixes; `list` shows it without its secret; `revoke`
 * ends it on the running instance through the invalidation bus; bad usage
 * exits 2 with the usage text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  jsonSchema,
  type RegistryInstance,
  requestWithKey,
  startRegistryInstance,
  until,
} from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { runScript } from "../support/run-script.ts";

const available = await postgresAvailable();

describe.skipIf(!available)("scripts/keys.ts", () => {
  let database: TestDatabase;
  let instance: RegistryInstance;

  const run = (...args: string[]) =>
    runScript("scripts/keys.ts", args, {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: database.url,
      LOG_LEVEL: "silent",
    });

  const ask = (method: string, path: string, key: string, body?: unknown) =>
    requestWithKey(instance.registry, method, path, key, body);

  beforeAll(async () => {
    database = await createTestDatabase();
    // The instance applies the migrations; AUTH_REQUIRED follows from the PostgreSQL URL, set to be plain.
    instance = await startRegistryInstance(database.url, { AUTH_REQUIRED: "true" }, undefined);
  });
  afterAll(async () => {
    await instance?.registry.close();
    await database?.drop();
  });

  test("create, use, list and revoke a key from a shell", async () => {
    const created = await run(
      "create",
      "--role",
      "writer",
      "--subjects",
      "team-s.",
      "--description",
      "CI",
      "--json",
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ role: "writer", subjects: ["team-s."], description: "CI", expires_at: null });
    expect(key.key.startsWith(`${key.id}.`)).toBe(true);

    const mine = await ask("POST", "/api/v1/schemas", key.key, {
      subject: "team-s.a",
      schema_type: "json",
      content: jsonSchema(1),
    });
    expect(mine.status).toBe(201);
    const outside = await ask("POST", "/api/v1/schemas", key.key, {
      subject: "team-t.a",
      schema_type: "json",
      content: jsonSchema(1),
    });
    expect(outside.status).toBe(403);

    const listed = await run("list");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).toContain("writer");
    expect(listed.stdout).not.toContain(key.key.split(".")[1]);

    const revoked = await run("revoke", key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${key.id}`);
    await until(
      async () => (await ask("GET", "/api/v1/subjects", key.key)).status,
      (status) => status === 401,
      3000,
    );
    expect((await run("revoke", key.id)).code).toBe(1);
  });

  test("an expiry as a lifetime; bad usage exits 2", async () => {
    const created = await run("create", "--role", "reader", "--expires", "30d", "--json");
    const key = JSON.parse(created.stdout);
    const days = (Date.parse(key.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    const badRole = await run("create", "--role", "root");
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain("--role: expected one of reader, writer, admin");
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("create", "--role", "reader", "--expires", "2001-01-01T00:00:00Z")).code).toBe(2);
  });
});

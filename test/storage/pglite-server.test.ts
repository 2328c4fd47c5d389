/**
 * The embedded default: how DATABASE_URL picks the database, and a PGlite
 * persisted on disk that keeps what was registered across a restart and takes
 * the same migrations back and forth.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMBEDDED_MAX_CONNECTIONS } from "../../src/storage/embedded/pglite-server.ts";
import { parseDatabaseUrl, resolveDatabase } from "../../src/storage/embedded/resolve-database.ts";
import { MIGRATION_SOURCES } from "../../src/storage/postgres/migrations.ts";
import { createMigrator } from "../../src/storage/postgres/migrator.ts";
import { openStorage } from "./open-storage.ts";

describe("DATABASE_URL", () => {
  test("unset or blank means PGlite in the data directory", () => {
    expect(parseDatabaseUrl(undefined, "./data")).toEqual({ kind: "embedded", dataDir: "./data" });
    expect(parseDatabaseUrl("  ", "./data")).toEqual({ kind: "embedded", dataDir: "./data" });
  });

  test("pglite:// picks memory or a directory", () => {
    expect(parseDatabaseUrl("pglite://memory", "./data")).toEqual({ kind: "embedded", dataDir: null });
    expect(parseDatabaseUrl("pglite:///var/lib/registry", "./data")).toEqual({
      kind: "embedded",
      dataDir: "/var/lib/registry",
    });
    expect(parseDatabaseUrl("pglite://relative/dir", "./data")).toEqual({
      kind: "embedded",
      dataDir: "relative/dir",
    });
    expect(() => parseDatabaseUrl("pglite://", "./data")).toThrow(/needs a path or `memory`/);
  });

  test("a server URL is used as it is, and anything else is refused", async () => {
    const url = "postgresql://user:secret@db.internal:5433/registry?sslmode=require";
    const resolved = await resolveDatabase(url, "./data");
    expect(resolved).toMatchObject({ url, embedded: false });
    expect(resolved.maxConnections).toBeUndefined();
    await resolved.stop();
    expect(parseDatabaseUrl("postgres://localhost/x", "./data")).toEqual({
      kind: "server",
      url: "postgres://localhost/x",
    });
    expect(() => parseDatabaseUrl("mysql://localhost/x", "./data")).toThrow(/must start with postgres:\/\//);
  });
});

describe("embedded PGlite on disk", () => {
  const root = join(tmpdir(), `registry-pglite-${crypto.randomUUID()}`);
  const dataDir = join(root, "nested", "data");

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test(
    "keeps registered schemas across a restart, and takes the migrations back and forth",
    async () => {
      const first = await resolveDatabase(undefined, dataDir);
      expect(first.embedded).toBe(true);
      expect(first.maxConnections).toBe(EMBEDDED_MAX_CONNECTIONS);
      expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const storage = await openStorage(first.url, { pool: { maxConnections: first.maxConnections } });
      const { schema } = await storage.schemas.register({
        subject: "com.acme.Persisted",
        version: "1.0.0+build.1",
        schemaType: "json",
        state: "active",
        content: { type: "object" },
        contentText: '{"type":"object"}',
        contentHash: `sha256:${"c".repeat(64)}`,
        contentSize: 17,
        contentLocation: "inline",
        contentKey: null,
        metadata: { description: "survives restarts" },
      });
      await storage.close();
      await first.stop();

      const second = await resolveDatabase(`pglite://${dataDir}`, "./unused");
      const reopened = await openStorage(second.url, { pool: { maxConnections: 1 } });
      try {
        expect(await reopened.schemas.getById({ id: schema.id })).toEqual(schema);
        expect((await reopened.schemas.getLatest("com.acme.Persisted"))?.version).toBe("1.0.0+build.1");
        expect(
          (
            await reopened.search.search({
              q: "restarts",
              limit: 5,
              offset: 0,
              sort: { field: "relevance", descending: true },
            })
          ).total,
        ).toBe(1);
      } finally {
        await reopened.close();
      }

      // Revert everything and apply it again, on the embedded database.
      const postgres = (await import("postgres")).default;
      const sql = postgres(second.url, { max: 1, onnotice: () => {} });
      try {
        const migrator = await createMigrator(sql);
        // Every migration of this build, whatever their number: each down file runs on PGlite too.
        const versions = MIGRATION_SOURCES.map((m) => m.version);
        expect((await migrator.revert(0)).map((m) => m.version)).toEqual([...versions].reverse());
        expect((await migrator.run()).map((m) => m.version)).toEqual(versions);
        expect((await migrator.info()).every((s) => s.applied && s.problem === null)).toBe(true);
      } finally {
        await sql.end();
      }
      const fresh = await openStorage(second.url, { pool: { maxConnections: 1 } });
      try {
        expect(await fresh.schemas.getById({ id: schema.id })).toBeNull();
        const again = await fresh.schemas.register({
          subject: "com.acme.Persisted",
          version: "1.0.0",
          schemaType: "json",
          state: "active",
          content: { type: "object" },
          contentText: '{"type":"object"}',
          contentHash: `sha256:${"c".repeat(64)}`,
          contentSize: 17,
          contentLocation: "inline",
          contentKey: null,
          metadata: {},
        });
        expect(again).toMatchObject({ created: true, schema: { version: "1.0.0" } });
      } finally {
        await fresh.close();
        await second.stop();
      }
    },
    { timeout: 90_000 },
  );
});

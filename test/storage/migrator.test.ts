/**
 * Migrations on the machine's PostgreSQL: apply, revert and apply again;
 * refuse a database whose recorded history this build does not match; apply
 * each migration once when instances start together; leave nothing of a
 * migration that fails; and the command-line script doing the same.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import postgres from "postgres";
import { sha256Hex } from "../../src/domain/canonical.ts";
import { isRegistryError } from "../../src/domain/errors.ts";
import {
  loadMigrations,
  MIGRATION_SOURCES,
  type Migration,
  migrationId,
} from "../../src/storage/postgres/migrations.ts";
import { Migrator } from "../../src/storage/postgres/migrator.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { openStorage } from "./open-storage.ts";

const available = await postgresAvailable();
const migrations = await loadMigrations();

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const resource of opened.reverse()) await resource.close();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  opened.push({ close: () => db.drop() });
  return db;
}

function client(url: string): postgres.Sql {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  opened.push({ close: () => sql.end({ timeout: 1 }) });
  return sql;
}

async function tables(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm') ORDER BY 1`;
  return rows.map((row) => row.name);
}

async function recorded(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
  return rows.map((row) => row.version);
}

test("every migration in migrations/ is embedded, with both its up and down file", () => {
  const files = readdirSync(new URL("../../migrations/", import.meta.url)).filter((f) => f.endsWith(".sql"));
  const expected = MIGRATION_SOURCES.flatMap((m) => [
    `${migrationId(m)}.down.sql`,
    `${migrationId(m)}.up.sql`,
  ]);
  expect(files.sort()).toEqual(expected.sort());
  expect(migrations.map((m) => m.version)).toEqual(MIGRATION_SOURCES.map((_, i) => i + 1));
});

describe.skipIf(!available)("Migrator on PostgreSQL", () => {
  test("runs, reverts one, reverts all, runs again, and the storage works on the result", async () => {
    const db = await database();
    const sql = client(db.url);
    const migrator = new Migrator(sql, migrations);

    expect((await migrator.run()).map((m) => m.version)).toEqual([1, 2]);
    expect(await recorded(sql)).toEqual([1, 2]);
    expect(await tables(sql)).toEqual(
      expect.arrayContaining(["popular_schemas", "schema_access_log", "schemas", "subject_versions"]),
    );
    expect(await migrator.run()).toEqual([]);
    const [first] = await sql<
      { checksum: string }[]
    >`SELECT checksum FROM schema_migrations WHERE version = 1`;
    expect(first?.checksum).toBe(await sha256Hex(MIGRATION_SOURCES[0]!.up));

    expect((await migrator.revert()).map((m) => m.version)).toEqual([2]);
    expect(await tables(sql)).toEqual(["schema_migrations", "schema_state_history", "schemas"]);
    expect((await migrator.info()).map((s) => [s.version, s.applied])).toEqual([
      [1, true],
      [2, false],
    ]);

    expect((await migrator.revert(0)).map((m) => m.version)).toEqual([1]);
    expect(await tables(sql)).toEqual(["schema_migrations"]);
    expect(await migrator.revert(0)).toEqual([]);

    expect((await migrator.run()).map((m) => m.version)).toEqual([1, 2]);
    const storage = await openStorage(db.url, { pool: { maxConnections: 2 } });
    try {
      const { schema } = await storage.schemas.register({
        subject: "after.revert",
        schemaType: "json",
        state: "active",
        content: { ok: true },
        contentHash: `sha256:${"b".repeat(64)}`,
        contentSize: 11,
        contentLocation: "inline",
        contentKey: null,
        metadata: { tags: ["x"] },
      });
      expect((await storage.schemas.getLatest("after.revert"))?.id).toBe(schema.id);
      expect(
        (
          await storage.search.search({
            q: "revert",
            limit: 5,
            offset: 0,
            sort: { field: "relevance", descending: true },
          })
        ).total,
      ).toBe(1);
    } finally {
      await storage.close();
    }
  });

  test("refuses to run or revert when an applied migration's file changed, and says which", async () => {
    const db = await database();
    const sql = client(db.url);
    await new Migrator(sql, migrations).run();

    const tampered: Migration[] = [
      migrations[0]!,
      {
        ...migrations[1]!,
        up: `${migrations[1]!.up}\n-- an edit`,
        checksum: await sha256Hex(`${migrations[1]!.up}\n-- an edit`),
      },
    ];
    const migrator = new Migrator(sql, tampered);
    for (const attempt of [() => migrator.run(), () => migrator.revert()]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isRegistryError(error) && error.message).toMatch(
        /002_indexes_optimization was changed after it was applied/,
      );
    }
    const info = await migrator.info();
    expect(info.map((s) => s.problem)).toEqual([null, "checksum_mismatch"]);
    // Nothing was reverted.
    expect(await recorded(sql)).toEqual([1, 2]);
  });

  test("refuses a database with a migration this build does not know", async () => {
    const db = await database();
    const sql = client(db.url);
    await new Migrator(sql, migrations).run();
    const older = new Migrator(sql, migrations.slice(0, 1));
    const error = await older.run().catch((e: unknown) => e);
    expect(isRegistryError(error) && error.message).toMatch(
      /002_indexes_optimization applied, which this build does not contain/,
    );
    expect((await older.info()).map((s) => [s.version, s.problem])).toEqual([
      [1, null],
      [2, "unknown"],
    ]);
  });

  test("two migrators starting at once apply each migration exactly once", async () => {
    const db = await database();
    const a = new Migrator(client(db.url), migrations);
    const b = new Migrator(client(db.url), migrations);
    const [fromA, fromB] = await Promise.all([a.run(), b.run()]);
    const applied = [...fromA, ...fromB].map((m) => m.version).sort();
    expect(applied).toEqual([1, 2]);
    // One of them did all the work while the other waited for the lock.
    expect([fromA.length, fromB.length].sort()).toEqual([0, 2]);
    expect(await recorded(client(db.url))).toEqual([1, 2]);
  });

  test("a failing migration leaves nothing of itself behind and is not recorded", async () => {
    const db = await database();
    const sql = client(db.url);
    const broken: Migration = {
      version: 3,
      name: "broken",
      up: "CREATE TABLE half_done (id integer);\nSELECT no_such_function();",
      down: "DROP TABLE half_done;",
      checksum: "x",
    };
    const error = await new Migrator(sql, [...migrations, broken]).run().catch((e: unknown) => e);
    expect(isRegistryError(error) && error.message).toMatch(
      /could not apply migration 003_broken: .*no_such_function/,
    );
    expect(await recorded(sql)).toEqual([1, 2]);
    expect(await tables(sql)).not.toContain("half_done");
  });

  test("scripts/migrate.ts runs, reverts and reports against DATABASE_URL", async () => {
    const db = await database();
    const cli = async (...args: string[]) => {
      const child = Bun.spawn([process.execPath, "scripts/migrate.ts", ...args], {
        cwd: new URL("../../", import.meta.url).pathname,
        env: { ...process.env, DATABASE_URL: db.url },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      return { out: out + err, code };
    };
    expect(await cli("run")).toMatchObject({
      code: 0,
      out: expect.stringContaining("applied migration 002"),
    });
    expect(await cli("revert", "0")).toMatchObject({
      code: 0,
      out: expect.stringContaining("reverted migration 001"),
    });
    const pending = await cli("info");
    expect(pending.out).toMatch(/001_initial_schema {2}pending\n002_indexes_optimization {2}pending/);
    expect((await cli("run")).code).toBe(0);
    expect((await cli("info")).out).toMatch(/002_indexes_optimization {2}applied \d{4}-/);
    expect((await cli("revert", "sideways")).code).toBe(2);
    expect(await recorded(client(db.url))).toEqual([1, 2]);
  });
});

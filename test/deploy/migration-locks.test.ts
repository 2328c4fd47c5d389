/**
 * Migrations that would keep a large table locked say so: every table a
 * migration's statements hold for a time growing with its rows is named by a
 * `-- locks:` note in its header (new migrations need none unless they lock
 * like that), `bun scripts/migrate.ts info` prints the notes of pending
 * migrations, and a note added to an applied migration changes no checksum,
 * so a database migrated before the notes keeps starting.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sha256Hex } from "../../src/domain/canonical.ts";
import {
  detectLongLocks,
  lockNotes,
  lockReport,
  withoutLockNotes,
} from "../../src/storage/postgres/migration-locks.ts";
import { loadMigrations, MIGRATION_SOURCES, migrationId } from "../../src/storage/postgres/migrations.ts";
import { createMigrator, Migrator } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../../src/storage/postgres/pool.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { runScript } from "../support/run-script.ts";

describe("lock notes of the migrations", () => {
  test("every table a migration holds locked for a time growing with its rows is named by a note", () => {
    const missing = MIGRATION_SOURCES.flatMap((m) => {
      const noted = new Set(lockNotes(m.up).flatMap((note) => note.tables));
      return [...detectLongLocks(m.up)]
        .filter(([table]) => !noted.has(table))
        .map(
          ([table, causes]) =>
            `${migrationId(m)}: ${table} (${causes.join("; ")}): add "-- locks: ${table} (…)"`,
        );
    });
    expect(missing).toEqual([]);
  });

  test("every note names a table an earlier migration created", () => {
    const created = (up: string) =>
      [...up.matchAll(/CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)].map((match) => match[1]!);
    for (const [index, m] of MIGRATION_SOURCES.entries()) {
      const earlier = new Set(MIGRATION_SOURCES.slice(0, index).flatMap((prior) => created(prior.up)));
      for (const note of lockNotes(m.up)) {
        for (const table of note.tables)
          expect({ migration: migrationId(m), table, known: earlier.has(table) }).toEqual({
            migration: migrationId(m),
            table,
            known: true,
          });
        expect(note.reason.length).toBeGreaterThan(20);
      }
    }
  });

  test("the migrations that build indexes on, backfill or rewrite `schemas` are the ones noted", () => {
    const noted = MIGRATION_SOURCES.filter((m) => lockNotes(m.up).length > 0).map((m) => m.version);
    expect(noted).toEqual(expect.arrayContaining([2, 4, 5]));
    expect(noted).not.toContain(1);
    expect(noted).not.toContain(3);
  });
});

describe("what the statement reader counts as a long lock", () => {
  const found = (sql: string) => Object.fromEntries(detectLongLocks(sql));

  test("an index built without CONCURRENTLY on an existing table; not with it, nor on a table made here", () => {
    expect(found("CREATE INDEX a_idx ON schemas (subject);")).toEqual({
      schemas: ["CREATE INDEX without CONCURRENTLY"],
    });
    expect(found("CREATE INDEX CONCURRENTLY a_idx ON schemas (subject);")).toEqual({});
    expect(found("CREATE TABLE t (id int); CREATE UNIQUE INDEX t_idx ON t (id);")).toEqual({});
  });

  test("validated constraints, SET NOT NULL, retyping and volatile defaults; not NOT VALID or a constant default", () => {
    expect(found("ALTER TABLE schemas ADD CONSTRAINT c CHECK (x > 0);").schemas).toBeDefined();
    expect(found("ALTER TABLE schemas ADD CONSTRAINT c CHECK (x > 0) NOT VALID;")).toEqual({});
    expect(found("ALTER TABLE schemas ALTER COLUMN x SET NOT NULL;").schemas).toBeDefined();
    expect(found("ALTER TABLE schemas ALTER COLUMN x TYPE bigint;").schemas).toBeDefined();
    expect(found("ALTER TABLE schemas ADD COLUMN at timestamptz DEFAULT now();").schemas).toBeDefined();
    expect(found("ALTER TABLE schemas ADD COLUMN tags jsonb NOT NULL DEFAULT '[]'::jsonb;")).toEqual({});
    expect(found("ALTER TABLE schemas ADD COLUMN note text;")).toEqual({});
  });

  test("a trigger followed by a backfill reading the table; statements inside a function body do not count", () => {
    expect(
      found(
        "CREATE TRIGGER t AFTER INSERT ON schemas FOR EACH ROW EXECUTE FUNCTION f(); INSERT INTO s SELECT id FROM schemas;",
      ).schemas,
    ).toBeDefined();
    expect(found("CREATE TRIGGER t AFTER INSERT ON schemas FOR EACH ROW EXECUTE FUNCTION f();")).toEqual({});
    expect(
      found(
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE schemas SET x = 1; END $$;",
      ),
    ).toEqual({});
    expect(found("-- UPDATE schemas SET x = 1;\nSELECT 1;")).toEqual({});
  });

  test("a table found but not noted is reported as such", () => {
    expect(lockReport("CREATE INDEX a ON schemas (x);")).toEqual([
      "locks schemas (not noted in the file): CREATE INDEX without CONCURRENTLY",
    ]);
    expect(lockReport("-- locks: schemas (index build)\nCREATE INDEX a ON schemas (x);")).toEqual([
      "locks schemas: index build",
    ]);
  });
});

describe("checksums leave the notes out", () => {
  test("each migration's checksum is the file's without its notes", async () => {
    for (const m of await loadMigrations()) {
      expect(m.checksum).toBe(await sha256Hex(withoutLockNotes(m.up)));
    }
    const noted = MIGRATION_SOURCES.find((m) => lockNotes(m.up).length > 0)!;
    expect(withoutLockNotes(noted.up)).not.toContain("-- locks:");
    expect(withoutLockNotes(noted.up).length).toBeLessThan(noted.up.length);
  });
});

const available = await postgresAvailable();

describe.skipIf(!available)("on the machine's PostgreSQL", () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of databases) await db.drop();
  }, 30_000);

  test("a database migrated from the files before their notes were added starts with this build", async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const sql = createPool(db.url, { maxConnections: 1 });
    try {
      // The files as they were before the notes: what a deployed database recorded.
      const before = await loadMigrations(
        MIGRATION_SOURCES.map((m) => ({ ...m, up: withoutLockNotes(m.up) })),
      );
      await new Migrator(sql, before).run();
      const migrator = await createMigrator(sql);
      expect(await migrator.run()).toEqual([]);
      expect((await migrator.info()).filter((status) => status.problem !== null)).toEqual([]);
    } finally {
      await closePool(sql);
    }
  });

  test("`migrate.ts info` names the locks of pending migrations, and none once they are applied", async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const info = async () => {
      const { code, stdout, stderr } = await runScript("scripts/migrate.ts", ["info"], {
        ...process.env,
        DATABASE_URL: db.url,
        LOG_LEVEL: "silent",
      });
      expect({ code, err: stderr }).toEqual({ code: 0, err: "" });
      return stdout.split("\n");
    };
    const pending = await info();
    const after = (id: string) => pending[pending.findIndex((line) => line.startsWith(id)) + 1] ?? "";
    expect(after("002_indexes_optimization")).toMatch(/^ {4}locks schemas: SHARE/);
    expect(after("004_confluent_identity")).toMatch(/^ {4}locks schemas: ACCESS EXCLUSIVE/);
    expect(after("005_search_at_scale")).toMatch(/^ {4}locks schemas: SHARE ROW EXCLUSIVE/);
    expect(after("001_initial_schema")).not.toContain("locks");
    expect(after("003_schema_evolution")).not.toContain("locks");
    expect(pending.some((line) => /pending migration\(s\) lock a table/.test(line))).toBe(true);

    const sql = createPool(db.url, { maxConnections: 1 });
    try {
      await (await createMigrator(sql)).run();
    } finally {
      await closePool(sql);
    }
    const applied = await info();
    expect(applied.filter((line) => line.includes("locks"))).toEqual([]);
  });
});

/**
 * Databases for the tests: a fresh, uniquely named database on the machine's
 * PostgreSQL for each test file that asks (dropped afterwards), and an
 * in-memory PGlite for the embedded runs.
 *
 * PostgreSQL is found at TEST_DATABASE_URL, or at postgres://postgres@127.0.0.1:5432/postgres.
 * When it cannot be reached, CI (CI=true) fails the run: the suites against
 * the real server must run there. On a developer's machine the suites are
 * skipped with a loud warning instead (use `describe.skipIf(!available)`).
 */
import postgres from "postgres";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../src/storage/embedded/pglite-server.ts";

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const PREFIX = "registry_test_";
/** Databases left behind by a crashed run are dropped once they are this old. */
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

function admin(): postgres.Sql {
  return postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
}

let availability: Promise<boolean> | undefined;

/**
 * Whether the machine's PostgreSQL answers. Throws in CI when it does not;
 * elsewhere prints why the PostgreSQL suites are skipped.
 */
export function postgresAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const sql = admin();
    try {
      await sql`SELECT 1`;
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (process.env.CI === "true") {
        throw new Error(
          `PostgreSQL at ${redacted(ADMIN_URL)} is unreachable (${reason}); ` +
            "in CI the suites against the real server must run. Start PostgreSQL or set TEST_DATABASE_URL.",
        );
      }
      console.warn(
        [
          "",
          "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
          `!! PostgreSQL at ${redacted(ADMIN_URL)} is unreachable: ${reason}`,
          "!! SKIPPING every test suite that needs the real PostgreSQL server.",
          "!! Start it, or point TEST_DATABASE_URL at one, to run them (CI never skips).",
          "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
          "",
        ].join("\n"),
      );
      return false;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  return availability;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates `registry_test_<time>_<random>` on the machine's PostgreSQL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const created = Date.now();
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  const name = `${PREFIX}${created.toString(36)}_${random}`;
  const sql = admin();
  try {
    await dropStale(sql, created);
    // The name is ours (letters, digits and underscores), never user input.
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = admin();
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}

async function dropStale(sql: postgres.Sql, now: number): Promise<void> {
  const rows = await sql<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE datname LIKE ${`${PREFIX}%`}`;
  for (const { datname } of rows) {
    const stamp = /^registry_test_([0-9a-z]+)_[0-9a-z]+$/.exec(datname)?.[1];
    if (stamp === undefined || now - Number.parseInt(stamp, 36) < STALE_AFTER_MS) continue;
    await sql.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
  }
}

/** An in-memory PGlite behind its socket server; `stop()` it in afterAll. */
export function startMemoryPglite(): Promise<EmbeddedDatabase> {
  return startEmbeddedPostgres(null);
}

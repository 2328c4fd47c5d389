/**
 * The backend contract against the machine's PostgreSQL, in a database of its
 * own, plus what only a real server can show: a database that does not answer
 * is `unavailable`, and a statement stuck past the timeout gives up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { isRegistryError } from "../../src/domain/errors.ts";
import { createPostgresBackend, type PostgresBackend } from "../../src/storage/postgres/postgres-backend.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { backendContract } from "./backend-contract.ts";

const available = await postgresAvailable();
const quiet = { info() {}, error() {} };

backendContract(
  "PostgresBackend on PostgreSQL",
  async () => {
    const database = await createTestDatabase();
    const backend = await createPostgresBackend({ url: database.url, maxConnections: 20, log: quiet });
    return {
      backend,
      async teardown() {
        await backend.close();
        await database.drop();
      },
    };
  },
  { skip: !available, concurrency: 50 },
);

describe("PostgresBackend failures", () => {
  test("a server that does not answer is unavailable, for reads, writes and ping", async () => {
    // Port 1 on loopback refuses connections; nothing is started there.
    await expect(
      createPostgresBackend({ url: "postgres://postgres@127.0.0.1:1/x", log: quiet }),
    ).rejects.toMatchObject({ code: "unavailable", status: 503 });
    const backend = await createPostgresBackend({
      url: "postgres://postgres@127.0.0.1:1/x",
      migrateOnStart: false,
      log: quiet,
    });
    try {
      for (const attempt of [
        () => backend.ping(),
        () => backend.getById({ id: crypto.randomUUID() }),
        () => backend.listSubjects({ limit: 1, offset: 0 }),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(isRegistryError(error) && error.code).toBe("unavailable");
        expect(String((error as Error).message)).not.toMatch(/select|from|where/i);
      }
      backend.recordRead(crypto.randomUUID());
      await backend.flushAccessLog();
      expect(backend.accessLogFailures).toBe(1);
    } finally {
      await backend.close();
    }
  });

  describe.skipIf(!available)("on a live server", () => {
    let database: TestDatabase;
    let backend: PostgresBackend;
    let raw: postgres.Sql;

    beforeAll(async () => {
      database = await createTestDatabase();
      backend = await createPostgresBackend({
        url: database.url,
        maxConnections: 4,
        statementTimeoutMs: 300,
        log: quiet,
      });
      raw = postgres(database.url, { max: 1, onnotice: () => {} });
    });

    afterAll(async () => {
      await raw?.end();
      await backend?.close();
      await database?.drop();
    });

    test("a statement held past the statement timeout is unavailable and leaves nothing behind", async () => {
      const subject = "held.subject";
      const released = raw.begin(async (tx) => {
        // Another writer holds the subject's registration lock for longer than the timeout.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${subject}, 0))`;
        await tx`SELECT pg_sleep(0.8)`;
      });
      await Bun.sleep(100);
      const error = await backend
        .register({
          subject,
          schemaType: "json",
          state: "active",
          content: { a: 1 },
          contentHash: `sha256:${"a".repeat(64)}`,
          contentSize: 7,
          contentLocation: "inline",
          contentKey: null,
          metadata: {},
        })
        .catch((e: unknown) => e);
      expect(isRegistryError(error) && error.code).toBe("unavailable");
      await released;
      expect(await backend.getLatest(subject)).toBeNull();
    });
  });
});

/**
 * The storage contract against the machine's PostgreSQL, in a database of its
 * own, plus what only a real server can show: a database that does not answer
 * is `unavailable`, and a statement stuck past the timeout gives up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { isRegistryError } from "../../src/domain/errors.ts";
import type { PostgresStorage } from "../../src/storage/postgres/postgres-storage.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { openStorage } from "./open-storage.ts";
import { storageContract } from "./repository-contract.ts";

const available = await postgresAvailable();

storageContract(
  "PostgreSQL storage on PostgreSQL",
  async () => {
    const database = await createTestDatabase();
    const storage = await openStorage(database.url, { pool: { maxConnections: 20 } });
    return {
      storage,
      async teardown() {
        await storage.close();
        await database.drop();
      },
    };
  },
  { skip: !available, concurrency: 50 },
);

describe("PostgreSQL storage failures", () => {
  test("a server that does not answer is unavailable, for migrations, reads, writes and ping", async () => {
    // Port 1 on loopback refuses connections; nothing is started there.
    await expect(openStorage("postgres://postgres@127.0.0.1:1/x")).rejects.toMatchObject({
      code: "unavailable",
      status: 503,
    });
    const storage = await openStorage("postgres://postgres@127.0.0.1:1/x", { migrate: false });
    try {
      for (const attempt of [
        () => storage.ping(),
        () => storage.schemas.getById({ id: crypto.randomUUID() }),
        () => storage.schemas.listSubjects({ limit: 1, offset: 0 }),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(isRegistryError(error) && error.code).toBe("unavailable");
        expect(String((error as Error).message)).not.toMatch(/select|from|where/i);
      }
      storage.reads.recordRead(crypto.randomUUID());
      await storage.reads.flush();
      expect(storage.reads.failures).toBe(1);
    } finally {
      await storage.close();
    }
  });

  describe.skipIf(!available)("on a live server", () => {
    let database: TestDatabase;
    let storage: PostgresStorage;
    let raw: postgres.Sql;

    beforeAll(async () => {
      database = await createTestDatabase();
      storage = await openStorage(database.url, { pool: { maxConnections: 4, statementTimeoutMs: 300 } });
      raw = postgres(database.url, { max: 1, onnotice: () => {} });
    });

    afterAll(async () => {
      await raw?.end();
      await storage?.close();
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
      const error = await storage.schemas
        .register({
          subject,
          version: "1.0.0",
          schemaType: "json",
          state: "active",
          content: { a: 1 },
          contentText: '{"a":1}',
          contentHash: `sha256:${"a".repeat(64)}`,
          contentSize: 7,
          contentLocation: "inline",
          contentKey: null,
          metadata: {},
        })
        .catch((e: unknown) => e);
      expect(isRegistryError(error) && error.code).toBe("unavailable");
      await released;
      expect(await storage.schemas.getLatest(subject)).toBeNull();
    });

    test("a soft delete that waited for a register referencing the version sees it and is refused", async () => {
      const stored = async (subject: string, text: string, hash: string) =>
        (
          await storage.schemas.register({
            subject,
            version: "1.0.0",
            schemaType: "json",
            state: "active",
            content: JSON.parse(text),
            contentText: text,
            contentHash: `sha256:${hash.repeat(64)}`,
            contentSize: text.length,
            contentLocation: "inline",
            contentKey: null,
            metadata: {},
          })
        ).schema;
      const base = await stored("race.base", '{"title":"base"}', "b");
      const user = await stored("race.user", '{"title":"user"}', "c");
      // As registry_register does for a version it references: the version held FOR SHARE, then a
      // live row that references it, committed only after the delete has started waiting.
      const reference = [{ name: "base.json", subject: base.subject, version: base.subjectVersion }];
      const registered = raw.begin(async (tx) => {
        await tx`SELECT 1 FROM schemas WHERE id = ${base.id} FOR SHARE`;
        await tx`UPDATE schemas SET "references" = ${tx.json(reference)} WHERE id = ${user.id}`;
        await tx`SELECT pg_sleep(0.15)`;
      });
      await Bun.sleep(50);
      const error = await storage.schemas.softDelete({ id: base.id }).catch((e: unknown) => e);
      await registered;
      expect(isRegistryError(error) && [error.code, error.details.resource]).toEqual([
        "conflict",
        "reference",
      ]);
      expect((await storage.schemas.getById({ id: base.id }))?.deletedAt).toBeNull();
    });
  });
});

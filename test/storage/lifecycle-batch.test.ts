/**
 * Group commit of state changes and soft deletes (lifecycle-batch.ts and the
 * registry's lifecycle-batcher.ts) against the machine's PostgreSQL and the
 * embedded PGlite: one statement answers each request on its own
 * (changed, not found, invalid transition, referenced, read-only), writes
 * history and audit rows for the changed ones only, and a statement that
 * fails as a whole leaves every row as it was; the batcher groups requests
 * that arrive together, keeps two requests for one row apart, and turns a
 * failed batch into a failure of its culprit alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { WriteContext } from "../../src/domain/audit.ts";
import { isRegistryError, RegistryError } from "../../src/domain/errors.ts";
import type { SchemaRecord, SchemaState } from "../../src/domain/types.ts";
import { LifecycleBatcher } from "../../src/registry/lifecycle-batcher.ts";
import { runLifecycleBatch } from "../../src/storage/postgres/lifecycle-batch.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool, type Pool } from "../../src/storage/postgres/pool.ts";
import { createPostgresStorage, type PostgresStorage } from "../../src/storage/postgres/postgres-storage.ts";
import { columnsOf } from "../../src/storage/postgres/schema-rows.ts";
import type { LifecycleOutcome, LifecycleRequest } from "../../src/storage/schema-repository.ts";
import {
  createTestDatabase,
  postgresAvailable,
  startMemoryPglite,
  type TestDatabase,
} from "../support/database.ts";
import { quiet } from "./open-storage.ts";

const available = await postgresAvailable();

function context(requestId: string): WriteContext {
  return { actor: { id: "tester", kind: "key" }, requestId };
}

/** A database for the suite: its URL, its pool size, and how to be rid of it. */
interface SuiteDatabase {
  url: string;
  maxConnections: number;
  stop(): Promise<void>;
}

lifecycleContract(
  "lifecycle group commit on PostgreSQL",
  async () => {
    const database: TestDatabase = await createTestDatabase();
    return { url: database.url, maxConnections: 8, stop: () => database.drop() };
  },
  { skip: !available, sessions: true },
);

// The embedded database serves one session at a time: a lock held by another session cannot be shown there.
lifecycleContract(
  "lifecycle group commit on PGlite",
  async () => {
    const database = await startMemoryPglite();
    return { url: database.url, maxConnections: database.maxConnections, stop: () => database.stop() };
  },
  { skip: false, sessions: false },
);

function lifecycleContract(
  name: string,
  start: () => Promise<SuiteDatabase>,
  options: { skip: boolean; sessions: boolean },
): void {
  describe.skipIf(options.skip)(name, () => {
    let database: SuiteDatabase;
    let pool: Pool;
    let storage: PostgresStorage;
    let counter = 0;

    beforeAll(async () => {
      database = await start();
      pool = createPool(database.url, { maxConnections: database.maxConnections });
      await migrate(pool);
      storage = createPostgresStorage(pool, { log: quiet });
    });

    afterAll(async () => {
      await storage?.close();
      await closePool(pool, 1);
      await database?.stop();
    });

    /** A new schema in a subject of its own (or `subject`), in `state`. */
    async function registered(state: SchemaState = "active", subject?: string): Promise<SchemaRecord> {
      const n = ++counter;
      const content = { type: "object", title: `batch-${n}` };
      const text = JSON.stringify(content);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
      const outcome = await storage.schemas.register({
        subject: subject ?? `batch.s${n}`,
        version: `1.0.${n}`,
        schemaType: "json",
        state: state === "draft" ? "draft" : "active",
        content,
        contentText: text,
        contentHash: `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`,
        contentSize: text.length,
        contentLocation: "inline",
        contentKey: null,
        metadata: {},
      });
      if (state === "deprecated" || state === "archived") {
        await pool`UPDATE schemas SET state = ${state} WHERE id = ${outcome.schema.id}`;
      }
      return outcome.schema;
    }

    async function row(id: string) {
      const [found] = await pool<{ state: SchemaState; deleted: boolean }[]>`
      SELECT state, deleted_at IS NOT NULL AS deleted FROM schemas WHERE id = ${id}`;
      return found;
    }

    async function written(requestIds: string[]) {
      const audit = await pool<{ request_id: string; operation: string; details: Record<string, unknown> }[]>`
      SELECT request_id, operation, details FROM audit_log WHERE request_id = ANY(${requestIds}) ORDER BY id`;
      return [...audit];
    }

    function codeOf(outcome: LifecycleOutcome | undefined): string {
      if (outcome instanceof RegistryError) return outcome.code;
      return outcome === "again" ? "again" : "changed";
    }

    test("one statement answers each request on its own and writes history and audit only for the changed ones", async () => {
      const toDeprecate = await registered("active");
      const toDelete = await registered("active");
      const archived = await registered("archived");
      const alreadyDeleted = await registered("active");
      await pool`UPDATE schemas SET deleted_at = now() WHERE id = ${alreadyDeleted.id}`;
      const base = await registered("active");
      await storage.schemas.register({
        ...(await (async () => {
          const content = { type: "object", title: `batch-user-${++counter}` };
          const text = JSON.stringify(content);
          const digest = new Uint8Array(
            await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
          );
          return {
            subject: `batch.user${counter}`,
            version: "1.0.0",
            schemaType: "json" as const,
            state: "active" as const,
            content,
            contentText: text,
            contentHash: `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`,
            contentSize: text.length,
            contentLocation: "inline" as const,
            contentKey: null,
            metadata: {},
          };
        })()),
        references: [{ name: "base.json", subject: base.subject, version: base.subjectVersion }],
      });
      const readOnlySubject = await registered("active");
      await pool`INSERT INTO subject_config (subject, mode) VALUES (${readOnlySubject.subject}, 'READONLY')`;

      const ids = [
        "r-ok-state",
        "r-ok-delete",
        "r-final",
        "r-gone",
        "r-missing",
        "r-referenced",
        "r-readonly",
      ];
      const requests: LifecycleRequest[] = [
        {
          kind: "state",
          ref: { id: toDeprecate.id },
          to: "deprecated",
          reason: "superseded",
          audit: context(ids[0]!),
          checkMode: true,
        },
        { kind: "delete", ref: { globalId: toDelete.globalId }, audit: context(ids[1]!), checkMode: true },
        {
          kind: "state",
          ref: { id: archived.id },
          to: "active",
          reason: null,
          audit: context(ids[2]!),
          checkMode: true,
        },
        { kind: "delete", ref: { id: alreadyDeleted.id }, audit: context(ids[3]!), checkMode: true },
        {
          kind: "state",
          ref: { id: crypto.randomUUID() },
          to: "deprecated",
          reason: null,
          audit: context(ids[4]!),
          checkMode: true,
        },
        { kind: "delete", ref: { id: base.id }, audit: context(ids[5]!), checkMode: true },
        { kind: "delete", ref: { id: readOnlySubject.id }, audit: context(ids[6]!), checkMode: true },
      ];
      const outcomes = await runLifecycleBatch(pool, columnsOf(pool), requests);

      expect(outcomes.map(codeOf)).toEqual([
        "changed",
        "changed",
        "invalid_transition",
        "not_found",
        "not_found",
        "conflict",
        "read_only",
      ]);
      expect((outcomes[0] as SchemaRecord).state).toBe("deprecated");
      expect((outcomes[1] as SchemaRecord).deletedAt).toBeInstanceOf(Date);
      expect((outcomes[2] as RegistryError).details).toMatchObject({ from: "archived", to: "active" });
      expect((outcomes[5] as RegistryError).details).toMatchObject({
        resource: "reference",
        subject: base.subject,
      });
      expect((outcomes[6] as RegistryError).details).toMatchObject({
        mode: "READONLY",
        subject: readOnlySubject.subject,
      });

      expect(await row(toDeprecate.id)).toEqual({ state: "deprecated", deleted: false });
      expect(await row(toDelete.id)).toEqual({ state: "active", deleted: true });
      expect(await row(archived.id)).toEqual({ state: "archived", deleted: false });
      expect(await row(base.id)).toEqual({ state: "active", deleted: false });
      expect(await row(readOnlySubject.id)).toEqual({ state: "active", deleted: false });
      // Each change its own audit entry, under its own request id; nothing for the refused ones.
      expect(await written(ids)).toEqual([
        {
          request_id: "r-ok-state",
          operation: "schema.state_change",
          details: { from: "active", to: "deprecated", reason: "superseded" },
        },
        { request_id: "r-ok-delete", operation: "schema.delete", details: {} },
      ]);
      const history = await pool<
        { schema_id: string; from_state: string; to_state: string; reason: string }[]
      >`
      SELECT schema_id, from_state, to_state, reason FROM schema_state_history
      WHERE schema_id IN (${toDeprecate.id}, ${toDelete.id}, ${archived.id}) AND from_state IS NOT NULL`;
      expect([...history]).toEqual([
        { schema_id: toDeprecate.id, from_state: "active", to_state: "deprecated", reason: "superseded" },
      ]);
    });

    test("two requests for one row in one statement: the first changes it, the other is told to go again", async () => {
      const target = await registered("active");
      const outcomes = await runLifecycleBatch(pool, columnsOf(pool), [
        { kind: "state", ref: { id: target.id }, to: "deprecated", reason: null, checkMode: false },
        { kind: "delete", ref: { globalId: target.globalId }, checkMode: false },
      ]);
      expect(outcomes.map(codeOf)).toEqual(["changed", "again"]);
      expect(await row(target.id)).toEqual({ state: "deprecated", deleted: false });
    });

    describe("a statement that fails as a whole", () => {
      beforeAll(async () => {
        // A history row with this reason makes the statement fail, as a database error would.
        await pool.unsafe(`
        CREATE FUNCTION test_refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.reason = 'refuse me' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_refuse_history BEFORE INSERT ON schema_state_history
          FOR EACH ROW EXECUTE FUNCTION test_refuse_history();`);
      });

      afterAll(async () => {
        await pool.unsafe(`
        DROP TRIGGER test_refuse_history ON schema_state_history;
        DROP FUNCTION test_refuse_history();`);
      });

      test("leaves every row of it as it was, with no audit entry", async () => {
        const a = await registered("active");
        const b = await registered("active");
        const c = await registered("deprecated");
        const ids = ["f-a", "f-b", "f-c"];
        const error = await runLifecycleBatch(pool, columnsOf(pool), [
          { kind: "delete", ref: { id: a.id }, audit: context(ids[0]!), checkMode: true },
          {
            kind: "state",
            ref: { id: b.id },
            to: "deprecated",
            reason: "refuse me",
            audit: context(ids[1]!),
            checkMode: true,
          },
          {
            kind: "state",
            ref: { id: c.id },
            to: "active",
            reason: "fine",
            audit: context(ids[2]!),
            checkMode: true,
          },
        ]).catch((e: unknown) => e);
        expect(String(error)).toContain("refused by the test trigger");
        expect(await row(a.id)).toEqual({ state: "active", deleted: false });
        expect(await row(b.id)).toEqual({ state: "active", deleted: false });
        expect(await row(c.id)).toEqual({ state: "deprecated", deleted: false });
        expect(await written(ids)).toEqual([]);
      });

      test("through the batcher fails its culprit alone: the others are sent again and succeed", async () => {
        const a = await registered("active");
        const b = await registered("active");
        const c = await registered("deprecated");
        // One batch in flight at a time, holding the three requests that arrive together.
        const batcher = new LifecycleBatcher((requests) => storage.schemas.applyLifecycle(requests), {
          maxInFlight: 1,
        });
        const blocker = await registered("active");
        const results = await Promise.allSettled([
          batcher.submit({ kind: "delete", ref: { id: blocker.id }, checkMode: false }),
          batcher.submit({ kind: "delete", ref: { id: a.id }, audit: context("g-a"), checkMode: false }),
          batcher.submit({
            kind: "state",
            ref: { id: b.id },
            to: "deprecated",
            reason: "refuse me",
            checkMode: false,
          }),
          batcher.submit({ kind: "state", ref: { id: c.id }, to: "active", reason: null, checkMode: false }),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
        const failure = (results[2] as PromiseRejectedResult).reason;
        expect(isRegistryError(failure)).toBe(true);
        expect(await row(a.id)).toEqual({ state: "active", deleted: true });
        expect(await row(b.id)).toEqual({ state: "active", deleted: false });
        expect(await row(c.id)).toEqual({ state: "active", deleted: false });
        expect((await written(["g-a"])).map((entry) => entry.operation)).toEqual(["schema.delete"]);
      });
    });

    test("the batcher sends requests that arrive while a batch is in flight together, each with its own outcome", async () => {
      const targets = await Promise.all(Array.from({ length: 40 }, () => registered("active")));
      const batcher = new LifecycleBatcher((requests) => storage.schemas.applyLifecycle(requests), {
        maxInFlight: 1,
        maxBatch: 16,
      });
      const missing = crypto.randomUUID();
      const results = await Promise.allSettled([
        ...targets.map((target, i) =>
          i % 2 === 0
            ? batcher.submit({
                kind: "state",
                ref: { id: target.id },
                to: "deprecated",
                reason: `n${i}`,
                checkMode: true,
              })
            : batcher.submit({ kind: "delete", ref: { id: target.id }, checkMode: true }),
        ),
        batcher.submit({ kind: "delete", ref: { id: missing }, checkMode: true }),
        // No row can have this id: answered without failing the batch it shares.
        batcher.submit({ kind: "delete", ref: { id: "not-a-uuid" }, checkMode: true }),
      ]);
      // The first goes alone; the rest wait for it, then go at most 16 at a time.
      expect(batcher.figures.requests).toBe(42);
      expect(batcher.figures.batches).toBeLessThanOrEqual(5);
      expect(batcher.figures.batches).toBeGreaterThanOrEqual(4);
      results.slice(0, 40).forEach((result, i) => {
        expect(result.status).toBe("fulfilled");
        const record = (result as PromiseFulfilledResult<SchemaRecord>).value;
        expect(record.id).toBe(targets[i]!.id);
        if (i % 2 === 0) expect(record.state).toBe("deprecated");
        else expect(record.deletedAt).toBeInstanceOf(Date);
      });
      const last = results[40] as PromiseRejectedResult;
      expect(last.status).toBe("rejected");
      expect(last.reason).toMatchObject({ code: "not_found", details: { id: missing } });
      expect(results[41]).toMatchObject({ status: "rejected", reason: { code: "not_found" } });
    });

    // One-session PGlite has no second session to hold a row: the case exists on PostgreSQL only.
    if (options.sessions)
      test("a row another transaction holds does not hold up the rest of its batch: its request waits alone", async () => {
        const held = await registered("active");
        const others = await Promise.all([registered("active"), registered("active")]);
        const blocker = await registered("active");
        // A session of the test's own holds the row, as a register referencing it would.
        const holder = await pool.reserve();
        await holder`BEGIN`;
        await holder`SELECT id FROM schemas WHERE id = ${held.id} FOR SHARE`;
        const batcher = new LifecycleBatcher((requests) => storage.schemas.applyLifecycle(requests), {
          maxInFlight: 1,
        });
        let heldDone = false;
        try {
          const first = batcher.submit({ kind: "delete", ref: { id: blocker.id }, checkMode: false });
          const waiting = batcher
            .submit({ kind: "state", ref: { id: held.id }, to: "deprecated", reason: null, checkMode: false })
            .finally(() => {
              heldDone = true;
            });
          const rest = others.map((other) =>
            batcher.submit({ kind: "delete", ref: { id: other.id }, checkMode: false }),
          );
          await first;
          // The held row's batch companions are answered while the lock is still held.
          for (const record of await Promise.all(rest)) expect(record.deletedAt).toBeInstanceOf(Date);
          expect(heldDone).toBe(false);
          await holder`COMMIT`;
          expect((await waiting).state).toBe("deprecated");
        } finally {
          await holder`ROLLBACK`.catch(() => {});
          holder.release();
        }
      });

    test("two requests for one row submitted together run one after the other, in order", async () => {
      const target = await registered("active");
      const batcher = new LifecycleBatcher((requests) => storage.schemas.applyLifecycle(requests), {
        maxInFlight: 1,
      });
      const other = await registered("active");
      const [first, second, third] = await Promise.allSettled([
        batcher.submit({ kind: "delete", ref: { id: other.id }, checkMode: false }),
        batcher.submit({
          kind: "state",
          ref: { id: target.id },
          to: "deprecated",
          reason: null,
          checkMode: false,
        }),
        batcher.submit({ kind: "delete", ref: { globalId: target.globalId }, checkMode: false }),
      ]);
      expect(first.status).toBe("fulfilled");
      expect(second.status === "fulfilled" && second.value.state).toBe("deprecated");
      expect(third.status === "fulfilled" && third.value.deletedAt).toBeInstanceOf(Date);
      expect(await row(target.id)).toEqual({ state: "deprecated", deleted: true });
    });
  });
}

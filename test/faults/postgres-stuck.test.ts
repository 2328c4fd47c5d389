/**
 * PostgreSQL answering nothing: another session holds an exclusive lock on
 * the schemas table, so every statement the registry sends waits, the pool's
 * few connections are all taken, and more requests queue for them. The
 * statement timeout (3 s) is longer than the request deadline (1.5 s) here,
 * so only the deadline can answer in time. What a user must see:
 *
 * - every request gets 503 `unavailable` (reason `timeout`, or the admission
 *   bound's `queue_timeout` for writes that waited for a slot; Retry-After)
 *   within the deadline, in the native envelope or Confluent's body (50002);
 * - the registry's statements are cancelled on the server at the deadline,
 *   not left waiting for the statement timeout;
 * - a register answered 503 is never applied, not even once the lock goes;
 * - once the lock is released, the pool serves again at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type PrivatePostgres,
  privatePostgresAvailable,
  startPrivatePostgres,
} from "../support/private-postgres.ts";
import { holdTableLock, type TableLock } from "../support/table-lock.ts";
import { type FaultRegistry, registerBody, startFaultRegistry, type Timed } from "./harness.ts";

const REQUEST_TIMEOUT_MS = 1500;
const POOL = 4;

const available = privatePostgresAvailable();

describe.skipIf(!available)("PostgreSQL stuck: a lock held by another session, the pool exhausted", () => {
  let pg: PrivatePostgres;
  let app: FaultRegistry;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    app = await startFaultRegistry({
      DATABASE_URL: pg.url,
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      DATABASE_MAX_CONNECTIONS: String(POOL),
    });
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });

  test("requests get 503 within the deadline, their statements are cancelled, nothing is applied, the pool recovers", async () => {
    expect((await app.call("POST", "/api/v1/schemas", registerBody("stuck.before", 0))).status).toBe(201);

    const holder = pg.client({ max: 1 });
    const admin = pg.client({ max: 1 });
    let lock: TableLock | undefined;
    try {
      lock = await holdTableLock(holder, "schemas");
      const calls: Promise<Timed & { kind: string; subject?: string }>[] = [];
      for (let i = 0; i < 8; i++) {
        const subject = `stuck.w${i}`;
        calls.push(
          app
            .call("POST", "/api/v1/schemas", registerBody(subject, i))
            .then((r) => ({ ...r, kind: "register", subject })),
        );
      }
      for (let i = 0; i < 6; i++) {
        calls.push(
          app
            .call("GET", `/api/v1/subjects/stuck.r${i}/versions`)
            .then((r) => ({ ...r, kind: "native read" })),
        );
      }
      for (let i = 0; i < 2; i++) {
        calls.push(
          app.call("GET", `/subjects/stuck.c${i}/versions`).then((r) => ({ ...r, kind: "confluent read" })),
        );
      }
      const answers = await Promise.all(calls);
      const answeredAt = performance.now();

      for (const answer of answers) {
        expect({ kind: answer.kind, status: answer.status }).toEqual({ kind: answer.kind, status: 503 });
        expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 300);
        expect(answer.headers.get("Retry-After")).toBe("1");
        if (answer.kind === "confluent read") expect(answer.body.error_code).toBe(50002);
        // The deadline's, or the admission bound's own refusal when writes waited for a slot (both 503, Retry-After).
        else expect(["timeout", "queue_timeout", "queue_full"]).toContain(answer.body.error.details.reason);
      }

      // Cancelled at the deadline: none of the registry's statements still waits for the lock, though the
      // statement timeout (3 s) has not come yet.
      const waiting = async () =>
        (
          await admin<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name LIKE 'schema-registry%' AND wait_event_type = 'Lock'`
        )[0]!.n;
      let stillWaiting = await waiting();
      while (stillWaiting > 0 && performance.now() - answeredAt < 500) {
        await Bun.sleep(20);
        stillWaiting = await waiting();
      }
      expect(stillWaiting).toBe(0);

      await lock.release();
      // The pool serves again at once.
      const after = await app.call("POST", "/api/v1/schemas", registerBody("stuck.after", 100));
      expect(after.status).toBe(201);
      expect(after.ms).toBeLessThan(1000);
      const read = await app.call("GET", "/api/v1/subjects/stuck.after/versions");
      expect(read.status).toBe(200);

      // Past the statement timeout too: a register answered 503 was never applied.
      await Bun.sleep(3200 - (performance.now() - answeredAt));
      const rows = await admin<
        { subject: string }[]
      >`SELECT subject FROM schemas WHERE subject LIKE 'stuck.w%'`;
      expect([...rows]).toEqual([]);
      console.log(
        `stuck PostgreSQL: ${answers.length} requests on a pool of ${POOL}, all 503 within ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms (deadline ${REQUEST_TIMEOUT_MS} ms); a register after the lock went: ${after.ms.toFixed(0)} ms`,
      );
    } finally {
      await lock?.release().catch(() => {});
      await holder.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
  }, 20_000);
});

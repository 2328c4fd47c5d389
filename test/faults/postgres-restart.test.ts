/**
 * PostgreSQL restarted in the middle of a load, through the real HTTP app:
 * readers of cached schemas and writers registering new ones run
 * concurrently while the test's own PostgreSQL server (never the shared one)
 * is stopped and started again. What a user must see:
 *
 * - cached reads answer throughout, at cache speed;
 * - registers sent while the database is down fail fast with 503, well within
 *   the request deadline, and succeed again by themselves soon after it is back;
 * - every acknowledged register is in the database afterwards, exactly once;
 *   a register answered 503 was not applied, and sending it again registers it once;
 * - the invalidation bus says so once when the database goes and once when it
 *   is back, not a line per reconnection attempt.
 *
 * FAULT_PROFILE=long: three outages (one of them a crash, `-m immediate`),
 * longer downtimes and twice the clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type PrivatePostgres,
  privatePostgresAvailable,
  startPrivatePostgres,
} from "../support/private-postgres.ts";
import { type FaultRegistry, LONG_PROFILE, registerBody, startFaultRegistry, type Timed } from "./harness.ts";

const REQUEST_TIMEOUT_MS = 3000;
const READERS = LONG_PROFILE ? 8 : 4;
const WRITERS = LONG_PROFILE ? 8 : 4;
const OUTAGES: { downMs: number; mode: "fast" | "immediate" }[] = LONG_PROFILE
  ? [
      { downMs: 5000, mode: "fast" },
      { downMs: 8000, mode: "immediate" },
      { downMs: 3000, mode: "fast" },
    ]
  : [{ downMs: 2000, mode: "fast" }];
/** How long after PostgreSQL is back the writes must succeed again. */
const RECOVERY_BOUND_MS = 3000;

const available = privatePostgresAvailable();

interface Write extends Timed {
  subject: string;
  n: number;
}

describe.skipIf(!available)("PostgreSQL restarted under load", () => {
  let pg: PrivatePostgres;
  let app: FaultRegistry;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    app = await startFaultRegistry({ DATABASE_URL: pg.url, REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });

  test(
    "cached reads answer throughout; writes fail fast while it is down, recover, and none is lost or doubled",
    async () => {
      // Schemas every reader asks for, each read once so the cache holds it.
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await app.call("POST", "/api/v1/schemas", registerBody(`seed.s${i}`, i));
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }
      for (const id of ids) expect((await app.call("GET", `/api/v1/schemas/${id}`)).status).toBe(200);

      const reads: Timed[] = [];
      const writes: Write[] = [];
      let stop = false;
      let next = 0;
      const reader = async (c: number) => {
        for (let i = c; !stop; i++)
          reads.push(await app.call("GET", `/api/v1/schemas/${ids[i % ids.length]}`));
      };
      const writer = async (c: number) => {
        while (!stop) {
          const n = next++;
          const subject = `load.w${c}.s${n}`;
          writes.push({
            ...(await app.call("POST", "/api/v1/schemas", registerBody(subject, n))),
            subject,
            n,
          });
          await Bun.sleep(20);
        }
      };
      const clients = [
        ...Array.from({ length: READERS }, (_, c) => reader(c)),
        ...Array.from({ length: WRITERS }, (_, c) => writer(c)),
      ];

      const windows: { down: number; up: number; back: number }[] = [];
      try {
        for (const outage of OUTAGES) {
          await Bun.sleep(1000);
          await pg.stop(outage.mode);
          const down = app.now();
          await Bun.sleep(outage.downMs);
          const up = app.now();
          await pg.start();
          const back = app.now();
          windows.push({ down, up, back });
          // Until a register started after the restart succeeds, and a second more of load.
          const deadline = performance.now() + RECOVERY_BOUND_MS + 2000;
          while (performance.now() < deadline && !writes.some((w) => w.at >= back && w.status === 201)) {
            await Bun.sleep(20);
          }
          await Bun.sleep(1000);
        }
      } finally {
        stop = true;
        await Promise.all(clients);
      }

      const failedReads = reads.filter((r) => r.status !== 200);
      if (failedReads.length > 0) {
        // What the registry logged about them, to tell a cache miss from a server that was not ready yet.
        const ids = new Set(failedReads.map((r) => r.body?.error?.request_id));
        const causes = app.logs.filter((l) => ids.has(l.request_id)).map((l) => JSON.stringify(l.error));
        console.log({
          windows,
          failedAt: failedReads.map((r) => Math.round(r.at)),
          causes: [...new Set(causes)],
        });
        const bus = app.logs
          .filter((l) => /invalidation bus/.test(l.message))
          .map((l) => `${l.time} ${l.level}`);
        console.log({ bus, tail: (await pg.log()).split("\n").slice(-12).join("\n") });
      }
      // Cached reads: every one answered, at cache speed, the outage notwithstanding.
      expect(reads.filter((r) => r.status !== 200)).toEqual([]);
      const duringOutage = (t: Timed) => windows.some((w) => t.at >= w.down && t.at + t.ms <= w.up);
      const readsDown = reads.filter(duringOutage);
      expect(readsDown.length).toBeGreaterThan(100);
      expect(Math.max(...readsDown.map((r) => r.ms))).toBeLessThan(500);

      // Writes while it was down: 503 with the reason, fast.
      const writesDown = writes.filter(duringOutage);
      expect(writesDown.length).toBeGreaterThan(WRITERS);
      expect(writesDown.filter((w) => w.status !== 503)).toEqual([]);
      const slowestDown = Math.max(...writesDown.map((w) => w.ms));
      expect(slowestDown).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
      // No write anywhere in the run waited past the deadline.
      expect(Math.max(...writes.map((w) => w.ms))).toBeLessThan(REQUEST_TIMEOUT_MS + 500);

      // Recovered by itself: a register started after the restart succeeds soon, and from then on all do.
      const recoveries = windows.map((w) => {
        const first = writes.find((x) => x.at >= w.back && x.status === 201);
        expect(first).toBeDefined();
        return first!.at + first!.ms - w.back;
      });
      for (const ms of recoveries) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
      const lastBack = windows.at(-1)!.back;
      const settled = writes.filter((w) => w.at >= lastBack + recoveries.at(-1)! + 200);
      expect(settled.length).toBeGreaterThan(0);
      expect(settled.filter((w) => w.status !== 201)).toEqual([]);

      // The database against what clients were told.
      const sql = pg.client();
      try {
        const rows = await sql<{ subject: string; id: string }[]>`
          SELECT subject, id::text AS id FROM schemas WHERE subject LIKE 'load.%'`;
        const bySubject = new Map<string, string[]>();
        for (const row of rows) bySubject.set(row.subject, [...(bySubject.get(row.subject) ?? []), row.id]);
        const acknowledged = writes.filter((w) => w.status === 201);
        const refused = writes.filter((w) => w.status !== 201);
        expect(acknowledged.length).toBeGreaterThan(0);
        expect(refused.length).toBeGreaterThan(0);
        // Every acknowledged register is there, once, with the id the client was given.
        expect(acknowledged.filter((w) => bySubject.get(w.subject)?.join() !== w.body.id)).toEqual([]);
        // A register answered 503 for its deadline was not applied. One that lost its connection while its
        // statement ran may have committed before the server went (no client can know): that is told apart
        // by the reason, and the retry below settles it.
        const timedOut = refused.filter((w) => w.body?.error?.details?.reason === "timeout");
        expect(timedOut.filter((w) => bySubject.has(w.subject)).map((w) => w.subject)).toEqual([]);
        const ambiguous = refused.filter((w) => bySubject.has(w.subject));
        expect(rows.length).toBe(acknowledged.length + ambiguous.length);

        // The client's remedy for a 503: send it again. Each is registered once, the one already applied
        // answered with the schema it made.
        for (const w of refused) {
          const again = await app.call("POST", "/api/v1/schemas", registerBody(w.subject, w.n));
          expect(again.status).toBe(bySubject.has(w.subject) ? 200 : 201);
          if (bySubject.has(w.subject)) expect(again.body.id).toBe(bySubject.get(w.subject)![0]);
        }
        if (ambiguous.length > 0)
          console.log(`${ambiguous.length} register(s) committed as the server went down, answered 503`);
        const [totals] = await sql<{ count: number; distinct: number }[]>`
          SELECT count(*)::int AS count, count(DISTINCT subject)::int AS distinct
          FROM schemas WHERE subject LIKE 'load.%'`;
        expect(totals).toEqual({ count: writes.length, distinct: writes.length });
      } finally {
        await sql.end({ timeout: 1 });
      }

      // The bus: one warning per outage and one line when it is back, not a line per attempt.
      const busLines = app.logs.filter((l) => /invalidation bus/.test(l.message));
      expect(busLines.map((l) => l.level)).toEqual(OUTAGES.flatMap(() => ["warn", "info"]));

      console.log(
        `PostgreSQL restart: ${reads.length} reads (all 200, slowest while down ${Math.max(...readsDown.map((r) => r.ms)).toFixed(0)} ms), ` +
          `${writes.length} registers (${writesDown.length} while down, all 503, slowest ${slowestDown.toFixed(0)} ms); ` +
          `writes back ${recoveries.map((ms) => ms.toFixed(0)).join(", ")} ms after PostgreSQL accepted connections again`,
      );
    },
    LONG_PROFILE ? 120_000 : 20_000,
  );
});

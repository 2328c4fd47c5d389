/**
 * Fuzzing as a test: fast-check throws random and hostile requests at every
 * route of both APIs (the native one from the server's OpenAPI document,
 * Confluent's from its route table, so a new route is fuzzed without a
 * change here) through a real server: `bun src/server.ts` on the machine's
 * PostgreSQL and an s3rver object store (test/support/fuzz-*.ts).
 *
 * The properties, checked batch by batch:
 * - never a 5xx, and never a refusal that is the database's rather than the
 *   registry's own ("a value was not acceptable to the database");
 * - never a hang: every request is answered within the server's request
 *   deadline (REQUEST_TIMEOUT_MS, 10 s here) and a 2 s margin;
 * - never a partial write: the database's rows and the object store's keys
 *   are compared before and after each batch in which no write was accepted
 *   (every request a refusal, a read or a dry run); a batch in which some
 *   write was accepted may change data, so its refused writes are sent
 *   again in a batch of their own and checked there;
 * - the server still answers /health/ready at the end, and every route was hit.
 *
 * Profiles: `short` (the default, and CI's: 20,000 requests with a fixed
 * seed) and `long` (`FUZZ_PROFILE=long`, or `npm run fuzz:long`: 400,000
 * requests, a new seed each run). `FUZZ_SEED=<n>` replays a run,
 * `FUZZ_REQUESTS=<n>` changes its length, `FUZZ_SKIP_ROUTES=<regexp>` leaves
 * out routes (`POST /api/v1/keys`), `FUZZ_SHRINK=1` lets fast-check
 * shrink a failing batch to the fewest requests that still fail.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { CONFLUENT_ROUTES } from "../../src/http/confluent/confluent-api.ts";
import { postgresAvailable } from "../support/database.ts";
import { type FuzzOutcome, send } from "../support/fuzz-client.ts";
import {
  describeRequest,
  type FuzzFixtures,
  type FuzzRequest,
  fuzzRequest,
  type RouteSpec,
  routesFrom,
} from "../support/fuzz-requests.ts";
import {
  type FuzzServer,
  type Snapshot,
  snapshotDifferences,
  startFuzzServer,
} from "../support/fuzz-server.ts";

const PROFILES = {
  short: { requests: 20_000, batch: 40, concurrency: 16, seed: 20261129 },
  long: { requests: 400_000, batch: 40, concurrency: 16, seed: undefined },
} as const;
const profileName = process.env.FUZZ_PROFILE === "long" ? "long" : "short";
const profile = PROFILES[profileName];
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? profile.requests);
const SEED = Number(process.env.FUZZ_SEED ?? profile.seed ?? Math.floor(Math.random() * 2 ** 31));
/** The server's own deadline (REQUEST_TIMEOUT_MS): past it, it must have answered, 503 at worst. */
const SERVER_TIMEOUT_MS = 10_000;
/** The client's: the server's deadline and a margin for a machine this loaded. */
const REQUEST_TIMEOUT_MS = SERVER_TIMEOUT_MS + 2000;
/** Cleanup that finishes after the answer (an object removed once its register failed) gets this long. */
const SETTLE_MS = 3000;
const DATABASE_REFUSAL = "not acceptable to the database";

const available = await postgresAvailable();

interface Totals {
  requests: number;
  statuses: Map<string, number>;
  routes: Map<string, number>;
  checkedBatches: number;
  dirtyBatches: number;
  rechecked: number;
  notSent: number;
  /** Accepted writes by route: what makes a batch unfit for the partial-write check. */
  accepted: Map<string, number>;
  restores: number;
  /** Accepted native registers whose content was read back and compared. */
  readBack: number;
  /** Milliseconds spent generating, sending and snapshotting. */
  timing: { send: number; snapshot: number; generate: number };
  slowest: { ms: number; request: string };
}

describe.skipIf(!available)(`fuzzing both APIs through a real server (${profileName} profile)`, () => {
  let server: FuzzServer;
  let routes: RouteSpec[];
  let components: Record<string, unknown>;
  let fixtures: FuzzFixtures;

  beforeAll(async () => {
    // Compatibility NONE unless a fuzzed config says otherwise, so a deleted fixture can come back.
    server = await startFuzzServer({
      AUTH_REQUIRED: "false",
      COMPATIBILITY_LEVEL: "NONE",
      REQUEST_TIMEOUT_MS: String(SERVER_TIMEOUT_MS),
    });
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: Record<string, unknown>;
    };
    // FUZZ_SKIP_ROUTES (a regular expression over `METHOD /template`) leaves out routes with a known
    // finding being fixed, so a long run can look past it; the suite never sets it.
    const skip = process.env.FUZZ_SKIP_ROUTES ? new RegExp(process.env.FUZZ_SKIP_ROUTES) : null;
    routes = routesFrom(openapi, CONFLUENT_ROUTES).filter(
      (route) => !skip?.test(`${route.method} ${route.template}`),
    );
    components = openapi.components;
    fixtures = await registerFixtures(server.url);
  });
  // The server drains before it exits (connections the raw-socket sender left open included), which
  // can take longer than a hook's default 5 s.
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  test(
    `${TOTAL} hostile requests: no 5xx, no hang, no partial write; still ready`,
    async () => {
      const started = performance.now();
      const totals: Totals = {
        requests: 0,
        statuses: new Map(),
        routes: new Map(),
        checkedBatches: 0,
        dirtyBatches: 0,
        rechecked: 0,
        notSent: 0,
        accepted: new Map(),
        restores: 0,
        readBack: 0,
        timing: { send: 0, snapshot: 0, generate: 0 },
        slowest: { ms: 0, request: "" },
      };
      let baseline = await server.snapshot();

      const runBatch = async (
        batch: FuzzRequest[],
      ): Promise<{ failures: string[]; outcomes: FuzzOutcome[] }> => {
        const sending = performance.now();
        const outcomes = await sendAll(server.url, batch, profile.concurrency);
        totals.timing.send += performance.now() - sending;
        const failures: string[] = [];
        batch.forEach((request, i) => {
          const outcome = outcomes[i]!;
          totals.requests++;
          if (outcome.notSent) totals.notSent++;
          const key = outcome.status === null ? "none" : String(outcome.status);
          totals.statuses.set(key, (totals.statuses.get(key) ?? 0) + 1);
          totals.routes.set(request.route, (totals.routes.get(request.route) ?? 0) + 1);
          if (outcome.ms > totals.slowest.ms)
            totals.slowest = { ms: outcome.ms, request: describeRequest(request) };
          const problem = problemOf(request, outcome);
          if (problem)
            failures.push(
              `${problem}: ${describeRequest(request)} → ${outcome.status} ${outcome.body.slice(0, 400)}`,
            );
        });
        for (const [i, request] of batch.entries()) {
          const served = await servedAsRegistered(server.url, request, outcomes[i]!);
          if (served !== null) {
            totals.readBack++;
            if (served)
              failures.push(`content not served as registered: ${describeRequest(request)}\n  ${served}`);
          }
        }
        return { failures, outcomes };
      };

      /** Waits for cleanup after the answers, then reports what changed since `before`. */
      const changedSince = async (before: Snapshot): Promise<{ after: Snapshot; differences: string[] }> => {
        const deadline = performance.now() + SETTLE_MS;
        for (;;) {
          const snapping = performance.now();
          const after = await server.snapshot();
          totals.timing.snapshot += performance.now() - snapping;
          const differences = snapshotDifferences(before, after);
          if (differences.length === 0 || performance.now() > deadline) return { after, differences };
          await Bun.sleep(100);
        }
      };

      const property = fc.asyncProperty(
        fc.array(fuzzRequest(routes, components, fixtures), {
          minLength: profile.batch,
          maxLength: profile.batch,
        }),
        async (batch) => {
          totals.timing.generate += performance.now() - batchEnded;
          try {
            return await checkBatch(batch);
          } finally {
            batchEnded = performance.now();
          }
        },
      );

      let batchEnded = performance.now();
      const checkBatch = async (generated: FuzzRequest[]) => {
        if (totals.requests >= TOTAL) return;
        // A malformed raw write may run in the app before the runtime refuses its framing, so the client
        // never learns whether it was applied: those go after the check, in a lane of their own.
        const batch = generated.filter((request) => !(request.malformed && request.mutating));
        const unknown = generated.filter((request) => request.malformed && request.mutating);
        {
          const { failures, outcomes } = await runBatch(batch);
          const accepted = batch.filter((request, i) => request.mutating && isSuccess(outcomes[i]!));
          for (const request of accepted)
            totals.accepted.set(request.route, (totals.accepted.get(request.route) ?? 0) + 1);
          if (accepted.length === 0) {
            totals.checkedBatches++;
            const { after, differences } = await changedSince(baseline);
            if (differences.length > 0) {
              failures.push(
                `partial write: a batch of refusals, reads and dry runs changed stored data:\n  ${differences.join("\n  ")}\n  by one of:\n  ${batch
                  .flatMap((request, i) =>
                    request.mutating
                      ? [
                          `${describeRequest(request)} → ${outcomes[i]!.status} ${outcomes[i]!.body.slice(0, 200)}`,
                        ]
                      : [],
                  )
                  .join("\n  ")}`,
              );
            }
            baseline = after;
          } else {
            totals.dirtyBatches++;
            // Writes were accepted: put back what the following batches need, then send the refused writes again.
            if (await restoreFixtures(server.url, accepted)) totals.restores++;
            baseline = await server.snapshot();
            const refused = batch.filter((request, i) => request.mutating && isRefusal(outcomes[i]!));
            if (refused.length > 0) {
              const again = await runBatch(refused);
              failures.push(...again.failures);
              if (refused.every((_, i) => !isSuccess(again.outcomes[i]!))) {
                totals.rechecked++;
                const { after, differences } = await changedSince(baseline);
                if (differences.length > 0) {
                  failures.push(
                    `partial write: refused writes changed stored data:\n  ${differences.join("\n  ")}\n  by one of:\n  ${refused.map((request, i) => `${describeRequest(request)} → ${again.outcomes[i]!.status} ${again.outcomes[i]!.body.slice(0, 200)}`).join("\n  ")}`,
                  );
                }
                baseline = after;
              } else {
                await restoreFixtures(server.url, refused);
                baseline = await server.snapshot();
              }
            }
          }
          if (unknown.length > 0) {
            failures.push(...(await runBatch(unknown)).failures);
            if (await restoreFixtures(server.url, unknown)) totals.restores++;
            baseline = await server.snapshot();
          }
          if (failures.length > 0 && !(await server.alive())) {
            failures.push(
              `the server stopped answering; its output:\n${server.process.output().slice(-4000)}`,
            );
          }
          if (failures.length > 0)
            throw new Error(`${failures.length} failures (seed ${SEED}):\n${failures.join("\n")}`);
        }
      };

      let details: fc.RunDetails<[FuzzRequest[]]> | undefined;
      try {
        // fc.check, not fc.assert: the report names the failing requests, not megabytes of counterexample.
        details = await fc.check(property, {
          seed: SEED,
          numRuns: Math.ceil(TOTAL / profile.batch),
          endOnFailure: process.env.FUZZ_SHRINK !== "1",
        });
      } finally {
        const seconds = (performance.now() - started) / 1000;
        const statuses = [...totals.statuses]
          .sort()
          .map(([status, n]) => `${status}: ${n}`)
          .join(", ");
        console.log(
          [
            `fuzz (${profileName}): ${totals.requests} requests in ${seconds.toFixed(1)} s, seed ${SEED} (replay: FUZZ_SEED=${SEED}${profileName === "long" ? " FUZZ_PROFILE=long" : ""})`,
            `  statuses: ${statuses}`,
            `  batches checked for partial writes: ${totals.checkedBatches}; with accepted writes: ${totals.dirtyBatches} (their refused writes rechecked: ${totals.rechecked}); requests fetch() would not send: ${totals.notSent}`,
            `  accepted writes by route: ${[...totals.accepted]
              .sort((a, b) => b[1] - a[1])
              .map(([route, n]) => `${route}: ${n}`)
              .join(", ")}`,
            `  time sending ${(totals.timing.send / 1000).toFixed(1)} s, comparing ${(totals.timing.snapshot / 1000).toFixed(1)} s, generating ${(totals.timing.generate / 1000).toFixed(1)} s; fixtures restored ${totals.restores} times; registered content read back ${totals.readBack} times`,
            `  routes hit: ${totals.routes.size}; slowest ${totals.slowest.ms.toFixed(0)} ms: ${totals.slowest.request.slice(0, 300)}`,
          ].join("\n"),
        );
      }

      if (details?.failed) {
        const reason =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        throw new Error(
          `fuzzing failed (replay with FUZZ_SEED=${SEED}, path ${details.counterexamplePath}):\n${reason}`,
        );
      }
      expect(totals.requests).toBeGreaterThanOrEqual(TOTAL);
      const missed = routes
        .map((route) => `${route.method} ${route.template}`)
        .filter((route) => !totals.routes.has(route));
      expect(missed).toEqual([]);
      const ready = await fetch(`${server.url}/health/ready`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      expect(ready.status).toBe(200);
    },
    profileName === "long" ? 24 * 3600_000 : 600_000,
  );
});

/**
 * For an accepted native register of JSON content: reads the schema back
 * with its content and compares it with what was sent, key order and all
 * (the registry serves content exactly as registered). Null when the
 * request was no such register; "" when the content matched; else what differed.
 */
async function servedAsRegistered(
  base: string,
  request: FuzzRequest,
  outcome: FuzzOutcome,
): Promise<string | null> {
  if (request.route !== "POST /api/v1/schemas" || request.method !== "POST" || outcome.status !== 201)
    return null;
  let sent: { content?: unknown; schema_type?: unknown };
  let created: { id?: string };
  try {
    sent = JSON.parse(new TextDecoder().decode(request.body ?? new Uint8Array()));
    created = JSON.parse(outcome.body);
  } catch {
    return null;
  }
  if (typeof sent.content !== "object" || sent.content === null || typeof created.id !== "string")
    return null;
  const response = await fetch(`${base}/api/v1/schemas/${created.id}?include=content`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const read = (await response.json()) as { content?: unknown; content_location?: string };
  // Content in the object store is kept once per content hash, as canonical JSON (keys sorted), and is
  // served so (docs/api.md); inline content keeps the key order it was sent with.
  const expected =
    read.content_location === "object_store" ? canonicalJson(sent.content) : JSON.stringify(sent.content);
  const got =
    read.content_location === "object_store" ? canonicalJson(read.content) : JSON.stringify(read.content);
  return got === expected
    ? ""
    : `sent ${expected.slice(0, 300)}\n  served ${got?.slice(0, 300)} (${response.status})`;
}

function isSuccess(outcome: FuzzOutcome): boolean {
  return outcome.status !== null && outcome.status >= 200 && outcome.status < 400;
}

function isRefusal(outcome: FuzzOutcome): boolean {
  return outcome.status !== null && outcome.status >= 400 && outcome.status < 500;
}

/** What is wrong with one answer, or null. */
function problemOf(request: FuzzRequest, outcome: FuzzOutcome): string | null {
  if (outcome.timedOut) return `no answer within ${REQUEST_TIMEOUT_MS} ms`;
  // A request line that is not HTTP (a space or raw byte in the target shifts the version) gets the runtime's 505.
  if (request.malformed && outcome.status === 505) return null;
  if (outcome.status !== null && outcome.status >= 500) return `${outcome.status}`;
  if (outcome.status !== null && outcome.status >= 400 && outcome.body.includes(DATABASE_REFUSAL)) {
    return "refused by the database, not by the registry's own checks";
  }
  // A malformed raw request may be dropped without an answer; a well-formed one may not.
  if (outcome.connectionError && !request.malformed) return `connection failed (${outcome.connectionError})`;
  if (outcome.status === null && !outcome.notSent && !request.malformed && !outcome.timedOut) {
    return "the connection closed without an answer";
  }
  return null;
}

async function sendAll(base: string, batch: FuzzRequest[], concurrency: number): Promise<FuzzOutcome[]> {
  const outcomes: FuzzOutcome[] = new Array(batch.length);
  let next = 0;
  const worker = async () => {
    while (next < batch.length) {
      const i = next++;
      outcomes[i] = await send(base, batch[i]!, REQUEST_TIMEOUT_MS);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
  return outcomes;
}

// ---------------------------------------------------------------- fixtures

const LARGE_DESCRIPTION = "A schema large enough for the object store. ".repeat(200);

/** The schemas registered before fuzzing, and registered again whenever a batch deleted them. */
const FIXTURE_REGISTERS: { subject: string; schema_type: string; content: unknown; version: string }[] = [
  {
    subject: "fuzz.orders",
    schema_type: "json",
    version: "1.0.0",
    content: {
      type: "object",
      properties: { id: { type: "string", pattern: "^[a-z0-9-]+$" } },
      required: ["id"],
    },
  },
  {
    subject: "fuzz.orders",
    schema_type: "json",
    version: "1.1.0",
    content: {
      type: "object",
      properties: {
        id: { type: "string", pattern: "^[a-z0-9-]+$" },
        note: { type: "string", maxLength: 100 },
      },
      required: ["id"],
    },
  },
  {
    subject: "fuzz.large",
    schema_type: "json",
    version: "1.0.0",
    content: { type: "object", description: LARGE_DESCRIPTION, properties: { a: { type: "integer" } } },
  },
  {
    subject: "fuzz.avro",
    schema_type: "avro",
    version: "1.0.0",
    content: { type: "record", name: "Order", namespace: "fuzz", fields: [{ name: "id", type: "string" }] },
  },
  {
    subject: "fuzz.proto",
    schema_type: "protobuf",
    version: "1.0.0",
    content: 'syntax = "proto3";\npackage fuzz;\nmessage Order { string id = 1; int64 total = 2; }\n',
  },
  {
    // A catastrophic pattern for a backtracking engine: validations against it must still answer at once.
    subject: "fuzz.redos",
    schema_type: "json",
    version: "1.0.0",
    content: {
      type: "object",
      properties: { name: { type: "string", pattern: "^(a+)+$" } },
      patternProperties: { "^(x+x+)+y$": {} },
    },
  },
  {
    subject: "fuzz with spaces/and a slash",
    schema_type: "json",
    version: "1.0.0",
    content: { type: "string", maxLength: 10 },
  },
];

async function registerNative(base: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/api/v1/schemas`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`fixture register answered ${response.status}: ${JSON.stringify(json)}`);
  }
  return json;
}

async function registerFixtures(base: string): Promise<FuzzFixtures> {
  const ids: string[] = [];
  const schemaIds: number[] = [];
  for (const register of FIXTURE_REGISTERS) {
    const schema = await registerNative(base, register);
    ids.push(String(schema.global_id), String(schema.id));
    schemaIds.push(Number(schema.content_id));
  }
  // Through Confluent's API too, and one soft-deleted version.
  const confluent = await fetch(`${base}/subjects/fuzz-value/versions`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({
      schema: JSON.stringify({ type: "record", name: "V", fields: [{ name: "a", type: "int" }] }),
    }),
  });
  schemaIds.push(((await confluent.json()) as { id: number }).id);
  const doomed = await registerNative(base, {
    subject: "fuzz.deleted",
    schema_type: "json",
    content: { type: "boolean" },
  });
  await fetch(`${base}/api/v1/schemas/${doomed.id}`, { method: "DELETE" });
  ids.push(String(doomed.global_id), String(doomed.id));
  return {
    subjects: [...new Set([...FIXTURE_REGISTERS.map((r) => r.subject), "fuzz-value", "fuzz.deleted"])],
    ids,
    schemaIds,
    versions: ["1.0.0", "1.1.0", "1", "2", "latest"],
  };
}

/**
 * After a batch whose writes were accepted, puts back what later batches
 * need when those writes took it away: the registry writable (after a mode
 * change) and every fixture subject live (after a delete). True when it did.
 */
async function restoreFixtures(base: string, accepted: FuzzRequest[]): Promise<boolean> {
  const modeChanged = accepted.some((request) => request.method === "PUT" && request.route.includes("/mode"));
  const deleted = accepted.some((request) =>
    /^DELETE (\/api\/v1\/schemas\/\{id\}|\/subjects\/\{subject\}(\/versions\/\{version\})?)$/.test(
      request.route,
    ),
  );
  if (!modeChanged && !deleted) return false;
  const json = { "content-type": "application/vnd.schemaregistry.v1+json" };
  if (modeChanged) {
    await fetch(`${base}/mode?force=true`, { method: "PUT", headers: json, body: '{"mode":"READWRITE"}' });
    for (const subject of [...new Set(FIXTURE_REGISTERS.map((r) => r.subject))]) {
      await fetch(`${base}/mode/${encodeURIComponent(subject)}`, { method: "DELETE" });
    }
  }
  await Promise.all(
    FIXTURE_REGISTERS.map(async (register) => {
      const { version: _version, ...body } = register;
      await fetch(`${base}/api/v1/schemas`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    }),
  );
  return true;
}

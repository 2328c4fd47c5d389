/**
 * Admission bounds: the gate on its own (concurrency, a bounded queue served
 * in order, refusals when it is full or a wait is too long, its figures), and
 * through the app on PostgreSQL a storm of slow searches (pg_sleep put in
 * front of the search backend) while point reads and registers keep
 * answering fast, the excess searches refused at once with 503 and
 * Retry-After, and the figures in /metrics.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { admissionFrom } from "../../src/app/create-registry.ts";
import { RegistryError } from "../../src/domain/errors.ts";
import { AdmissionGate, defaultAdmission } from "../../src/registry/admission.ts";
import { PostgresSchemaSearch } from "../../src/storage/postgres/schema-search.ts";
import { jsonSchema, type RegistryInstance, startRegistryInstance } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("the admission gate", () => {
  test("runs at most `concurrency` at once, queues the next ones in order, refuses beyond the queue", async () => {
    const gate = new AdmissionGate("search", { concurrency: 2, queue: 2, queueTimeoutMs: 10_000 });
    const holds = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = holds.map((hold, index) =>
      gate.run(async () => {
        started.push(index);
        await hold.promise;
        return index;
      }),
    );
    await Bun.sleep(0);
    expect(started).toEqual([0, 1]);
    expect(gate.figures()).toEqual({ inFlight: 2, queued: 2, rejections: 0 });

    const refusedAt = performance.now();
    const refused = await gate.run(async () => "never").catch((error: unknown) => error);
    expect(performance.now() - refusedAt).toBeLessThan(50);
    expect(refused).toBeInstanceOf(RegistryError);
    expect((refused as RegistryError).code).toBe("unavailable");
    expect((refused as RegistryError).details).toEqual({
      class: "search",
      reason: "queue_full",
      retry_after_seconds: 10,
    });

    holds[1]!.resolve();
    expect(await runs[1]).toBe(1);
    await Bun.sleep(0);
    // The freed slot went to the first in the queue.
    expect(started).toEqual([0, 1, 2]);
    for (const hold of holds) hold.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(gate.figures()).toEqual({ inFlight: 0, queued: 0, rejections: 1 });
  });

  test("a wait longer than the timeout is refused; a failed run frees its slot", async () => {
    const gate = new AdmissionGate("write", { concurrency: 1, queue: 5, queueTimeoutMs: 100 });
    const hold = deferred();
    const running = gate.run(() => hold.promise);
    const waitedFrom = performance.now();
    const error = await gate.run(async () => "late").catch((e: unknown) => e as RegistryError);
    const waited = performance.now() - waitedFrom;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(500);
    expect(error).toMatchObject({
      code: "unavailable",
      details: { class: "write", reason: "queue_timeout" },
    });
    expect(gate.figures()).toEqual({ inFlight: 1, queued: 0, rejections: 1 });
    hold.resolve();
    await running;
    await expect(gate.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(async () => "free")).toBe("free");
    expect(gate.figures().inFlight).toBe(0);
  });

  test("defaults follow the pool; a concurrency of 0 leaves a class unbounded", () => {
    expect(defaultAdmission(50)).toEqual({ search: 4, write: 25 });
    expect(defaultAdmission(1)).toEqual({ search: 1, write: 1 });
    expect(defaultAdmission(12)).toEqual({ search: 2, write: 6 });
    expect(defaultAdmission(1000)).toEqual({ search: 4, write: 500 });
    expect(admissionFrom({ queueTimeoutMs: 1000 }, 50)).toEqual({
      search: { concurrency: 4, queue: 128, queueTimeoutMs: 1000 },
      write: { concurrency: 25, queue: 800, queueTimeoutMs: 1000 },
    });
    expect(
      admissionFrom({ searchConcurrency: 0, writeConcurrency: 2, writeQueue: 0, queueTimeoutMs: 300 }, 50),
    ).toEqual({ write: { concurrency: 2, queue: 0, queueTimeoutMs: 300 } });
  });
});

describe.skipIf(!available)("a storm of slow searches", () => {
  let database: TestDatabase;
  let instance: RegistryInstance;
  let sleeper: postgres.Sql;
  let schemaId: string;
  const SLEEP_S = 0.8;

  beforeAll(async () => {
    database = await createTestDatabase();
    instance = await startRegistryInstance(
      database.url,
      { SEARCH_CONCURRENCY: "2", SEARCH_QUEUE: "2", QUEUE_TIMEOUT_MS: "3000" },
      undefined,
    );
    const created = await instance.call("POST", "/api/v1/schemas", {
      subject: "storm.Order",
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(1),
    });
    expect(created.status).toBe(201);
    schemaId = created.body.id;
    // Test-only hook: every search first sleeps in PostgreSQL, as a trigram scan over a large table would.
    sleeper = postgres(database.url, { max: 10, onnotice: () => {} });
    // Set before anything reads the method: the instrumented storage keeps the first one it wraps.
    const original = PostgresSchemaSearch.prototype.search;
    const search = instance.registry.storage.search as PostgresSchemaSearch;
    search.search = async function (this: PostgresSchemaSearch, query) {
      await sleeper`SELECT pg_sleep(${SLEEP_S})`;
      return original.call(this, query);
    };
  });
  afterAll(async () => {
    await instance?.registry.close();
    await sleeper?.end({ timeout: 1 });
    await database?.drop();
  });

  async function metric(name: string): Promise<number> {
    const line = (await instance.registry.metrics.expose())
      .split("\n")
      .find((l) => l.startsWith(`schema_registry_admission_${name}{class="search"}`));
    return line ? Number(line.split(" ").at(-1)) : Number.NaN;
  }

  test("point reads and registers answer fast; searches past the bound get 503 with Retry-After at once", async () => {
    const rejectedBefore = await metric("rejections_total");
    // Distinct queries, so neither single flight nor the query cache can fold them together.
    const storm = Array.from({ length: 8 }, async (_, n) => {
      const started = performance.now();
      const response = await instance.registry.app.request(`/api/v1/search?q=storm${n}&limit=20`);
      await response.text();
      return {
        status: response.status,
        ms: performance.now() - started,
        retryAfter: response.headers.get("Retry-After"),
      };
    });
    await Bun.sleep(100);
    expect(await metric("in_flight")).toBe(2);
    expect(await metric("queue_depth")).toBe(2);

    for (const path of [
      `/api/v1/schemas/${schemaId}`,
      "/api/v1/subjects/storm.Order/versions/latest",
      "/api/v1/subjects/storm.Order/versions/1.0.0",
    ]) {
      const started = performance.now();
      const read = await instance.call("GET", path);
      expect(read.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(200);
    }
    const registeredAt = performance.now();
    const registered = await instance.call("POST", "/api/v1/schemas", {
      subject: "storm.Invoice",
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(2),
    });
    expect(registered.status).toBe(201);
    expect(performance.now() - registeredAt).toBeLessThan(500);

    const answers = await Promise.all(storm);
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503);
    expect(served).toHaveLength(4);
    expect(refused).toHaveLength(4);
    for (const answer of refused) {
      expect(answer.ms).toBeLessThan(100);
      expect(answer.retryAfter).toBe("3");
    }
    // Two ran at once, two waited for them: the last answered after two sleeps, not eight.
    expect(Math.max(...served.map((a) => a.ms))).toBeLessThan(4 * SLEEP_S * 1000);
    expect(await metric("rejections_total")).toBe(rejectedBefore + 4);
    expect(await metric("in_flight")).toBe(0);
    expect(await metric("queue_depth")).toBe(0);
  });

  test("the refusal is the error envelope with the class and the wait in seconds", async () => {
    const storm = Array.from({ length: 5 }, (_, n) => instance.call("GET", `/api/v1/search?q=envelope${n}`));
    const answers = await Promise.all(storm);
    const refused = answers.find((a) => a.status === 503);
    expect(refused?.body.error).toMatchObject({
      code: "unavailable",
      details: { class: "search", reason: "queue_full", retry_after_seconds: 3 },
    });
  });
});

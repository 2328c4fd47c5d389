/**
 * The metrics the dashboard and the alerts need beyond the request and cache
 * figures: readiness as a scrape sees it (every health probe run at scrape
 * time, `schema_registry_ready` 0 exactly when /health/ready answers 503),
 * the primary pool's size and the metadata-store operations in flight on it,
 * and a read replica's lag in WAL bytes from the read router's positions.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ReadRouter } from "../../src/storage/postgres/read-routing.ts";
import { parseExposition, sampleValue } from "../observability/exposition-parser.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { holdTableLock, type TableLock } from "../support/table-lock.ts";

const available = await postgresAvailable();

/** Probes the test turns down and up. */
const state = { criticalDown: false, optionalDown: false };

describe.skipIf(!available)("readiness and pool figures in /metrics", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({
      database: "postgres",
      extend: async () => ({
        health: [
          {
            name: "critical_probe",
            critical: true,
            check: async () => {
              if (state.criticalDown) throw new Error("down");
            },
          },
          {
            name: "optional_probe",
            critical: false,
            check: async () => {
              if (state.optionalDown) throw new Error("down");
            },
          },
        ],
      }),
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  async function scrape() {
    const res = await api.get("/metrics");
    expect(res.status).toBe(200);
    return parseExposition(res.text);
  }

  test("ready is 1, and each probe is up, while /health/ready answers 200", async () => {
    state.criticalDown = false;
    state.optionalDown = false;
    expect((await api.get("/health/ready")).status).toBe(200);
    const families = await scrape();
    expect(sampleValue(families, "schema_registry_ready")).toBe(1);
    const up = (component: string, critical: string) =>
      sampleValue(families, "schema_registry_health_check_up", { component, critical });
    expect(up("postgres", "true")).toBe(1);
    expect(up("critical_probe", "true")).toBe(1);
    expect(up("optional_probe", "false")).toBe(1);
  });

  test("a non-critical component down leaves the instance ready; a critical one makes ready 0", async () => {
    state.optionalDown = true;
    let families = await scrape();
    expect(sampleValue(families, "schema_registry_ready")).toBe(1);
    expect(
      sampleValue(families, "schema_registry_health_check_up", {
        component: "optional_probe",
        critical: "false",
      }),
    ).toBe(0);

    state.criticalDown = true;
    expect((await api.get("/health/ready")).status).toBe(503);
    families = await scrape();
    expect(sampleValue(families, "schema_registry_ready")).toBe(0);

    state.criticalDown = false;
    state.optionalDown = false;
    families = await scrape();
    expect(sampleValue(families, "schema_registry_ready")).toBe(1);
  });

  test("the pool's size is exported, and operations count in flight until they settle", async () => {
    const families = await scrape();
    // startTestRegistry sets DATABASE_MAX_CONNECTIONS=10.
    expect(sampleValue(families, "schema_registry_db_pool_max_connections")).toBe(10);

    // Two reads held behind a lock on the table, so the scrape sees them running.
    const locker = postgres(api.registry.database.url, { max: 1, onnotice: () => {} });
    let lock: TableLock | undefined;
    try {
      lock = await holdTableLock(locker, "schemas");
      const pending = [
        api.registry.storage.schemas.getLatest("deploy.metrics.Nothing"),
        api.registry.storage.schemas.getLatest("deploy.metrics.Other"),
      ];
      const during = parseExposition(await api.registry.metrics.expose());
      expect(sampleValue(during, "schema_registry_db_operations_in_flight")).toBe(2);
      await lock.release();
      await Promise.all(pending);
    } finally {
      await lock?.release();
      await locker.end();
    }
    const after = parseExposition(await api.registry.metrics.expose());
    expect(sampleValue(after, "schema_registry_db_operations_in_flight")).toBe(0);
  });
});

describe("replica lag from the read router", () => {
  test("lag is the primary's last position minus the replica's replay position, never below 0", async () => {
    const positions = { primary: 1_000n, replicas: [400n, 1_200n] as bigint[] };
    const router = new ReadRouter({
      replicaNames: ["r1", "r2"],
      positions: {
        primary: async () => positions.primary,
        replica: async (index) => positions.replicas[index]!,
      },
      pollIntervalMs: 1_000_000,
    });
    expect(router.stats().replicas.map((r) => r.lagBytes)).toEqual([null, null]);
    router.start();
    await router.catchUp();
    await router.check(0);
    await router.check(1);
    expect(router.stats().replicas.map((r) => r.lagBytes)).toEqual([600, 0]);
    positions.replicas[0] = 1_000n;
    await router.check(0);
    expect(router.stats().replicas[0]!.lagBytes).toBe(0);
    router.stop();
  });
});

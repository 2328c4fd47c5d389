/**
 * The same registry on Bun (`bun src/server.ts`) and on Deno (`deno task
 * start`), each started as a real process on a free port, against a fresh
 * database on the machine's PostgreSQL and the machine's Redis as L2, and put
 * through the same HTTP checks: register, the four single-schema reads, list,
 * search, a state change, delete, health and a parsed /metrics. Then each is
 * stopped with SIGTERM while a request is in flight, its body half sent: no
 * new request is served (Bun closes the listener; Deno answers 503 while it
 * drains, see src/runtime/deno.ts), the request in flight is answered, the
 * last log lines are written and the process exits 0.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseExposition, sampleValue } from "../observability/exposition-parser.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { freePort, REDIS_TEST_URL, requireRedis } from "../support/redis.ts";

const ROOT = join(import.meta.dir, "../..");
const DENO = join(ROOT, "node_modules/.bin/deno");
const START_TIMEOUT_MS = 20_000;

const available = await postgresAvailable();
const redisUp = available && (await requireRedis("the Bun and Deno runtime checks"));

/**
 * A Redis database of its own (index 9), emptied before each runtime starts:
 * the cache's keys carry no database name, so entries cached against another
 * run's fresh database must not be found by this one.
 */
const REDIS_DB = 9;

const RUNTIMES: { name: "bun" | "deno"; command: string[] }[] = [
  { name: "bun", command: [process.execPath, "src/server.ts"] },
  { name: "deno", command: [DENO, "task", "start"] },
];

interface RunningRegistry {
  url: string;
  port: number;
  process: ReturnType<typeof Bun.spawn>;
  /** Everything written to stdout so far. */
  output(): string;
  logLines(): Record<string, unknown>[];
}

async function startRegistry(command: string[], databaseUrl: string): Promise<RunningRegistry> {
  const port = freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    DATABASE_MAX_CONNECTIONS: "5",
    AUTH_REQUIRED: "false",
    LOG_LEVEL: "info",
    CACHE_WARM_ON_STARTUP: "false",
  };
  if (redisUp) env.REDIS_URL = `${REDIS_TEST_URL.replace(/\/\d*$/, "")}/${REDIS_DB}`;
  const child = Bun.spawn(command, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  let stdout = "";
  let stderr = "";
  const drain = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      append(decoder.decode(value, { stream: true }));
    }
  };
  void drain(child.stdout as ReadableStream<Uint8Array>, (text) => {
    stdout += text;
  });
  void drain(child.stderr as ReadableStream<Uint8Array>, (text) => {
    stderr += text;
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${command.join(" ")} exited with ${child.exitCode}:\n${stdout}\n${stderr}`);
    }
    const live = await fetch(`${url}/health/live`).catch(() => null);
    if (live?.ok) break;
    if (Date.now() > deadline) {
      child.kill(9);
      throw new Error(
        `${command.join(" ")} did not answer within ${START_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`,
      );
    }
    await Bun.sleep(50);
  }
  return {
    url,
    port,
    process: child,
    output: () => stdout,
    logLines: () =>
      stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function call(url: string, method = "GET", body?: unknown) {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  const text = await response.text();
  const json = /json/.test(response.headers.get("Content-Type") ?? "") && text ? JSON.parse(text) : null;
  return { status: response.status, headers: response.headers, text, body: json };
}

/** Sends a POST whose body arrives in two parts, so the request is in flight until `finish()`. */
async function openSlowRegister(port: number, body: string) {
  const half = Math.floor(body.length / 2);
  let received = "";
  let closed!: () => void;
  const done = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        received += new TextDecoder().decode(data);
      },
      close() {
        closed();
      },
      error() {
        closed();
      },
    },
  });
  socket.write(
    `POST /api/v1/schemas HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).byteLength}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
  );
  return {
    async finish(): Promise<string> {
      socket.write(body.slice(half));
      await Promise.race([done, Bun.sleep(10_000)]);
      return received;
    },
  };
}

for (const runtime of RUNTIMES) {
  describe.skipIf(!available)(`the registry on ${runtime.name}`, () => {
    let database: TestDatabase;
    let registry: RunningRegistry;
    let first: { id: string; global_id: number };
    const subject = `runtime.${runtime.name}.Order`;

    beforeAll(async () => {
      if (redisUp) {
        const redis = new Redis(`${REDIS_TEST_URL.replace(/\/\d*$/, "")}/${REDIS_DB}`);
        await redis.flushdb();
        redis.disconnect();
      }
      database = await createTestDatabase();
      registry = await startRegistry(runtime.command, database.url);
    }, START_TIMEOUT_MS + 5_000);

    afterAll(async () => {
      if (registry && registry.process.exitCode === null) {
        registry.process.kill(9);
        await registry.process.exited;
      }
      await database?.drop();
    });

    test("registers a schema, and the same content again without a new version", async () => {
      const content = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
      const created = await call(`${registry.url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content,
        metadata: { description: "an order", tags: ["runtime"], owner: "ops" },
      });
      expect(created.status).toBe(201);
      expect(created.body.version).toBe("1.0.0");
      expect(created.headers.get("X-Request-Id")).toBeTruthy();
      first = created.body;
      const again = await call(`${registry.url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content,
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.id);
      const second = await call(`${registry.url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content: { ...content, required: [] },
      });
      expect(second.status).toBe(201);
      expect(second.body.version).toBe("1.1.0");
    });

    test("reads it by id, by global id, by subject and version, and as the latest", async () => {
      const byId = await call(`${registry.url}/api/v1/schemas/${first.id}`);
      expect(byId.status).toBe(200);
      expect(byId.body.subject).toBe(subject);
      const byGlobalId = await call(`${registry.url}/api/v1/schemas/${first.global_id}`);
      expect(byGlobalId.body.id).toBe(first.id);
      const byVersion = await call(`${registry.url}/api/v1/subjects/${subject}/versions/1.0.0`);
      expect(byVersion.body.id).toBe(first.id);
      const latest = await call(`${registry.url}/api/v1/subjects/${subject}/versions/latest`);
      expect(latest.body.version).toBe("1.1.0");
      const versions = await call(`${registry.url}/api/v1/subjects/${subject}/versions`);
      expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(["1.1.0", "1.0.0"]);
    });

    test("finds it by search", async () => {
      const found = await call(`${registry.url}/api/v1/search?q=order&tags=runtime`);
      expect(found.status).toBe(200);
      expect(found.body.items.map((s: { id: string }) => s.id)).toContain(first.id);
    });

    test("changes its state, and deletes it", async () => {
      const latest = await call(`${registry.url}/api/v1/subjects/${subject}/versions/latest`);
      const deprecated = await call(`${registry.url}/api/v1/schemas/${latest.body.id}/state`, "PATCH", {
        state: "deprecated",
        reason: "runtime check",
      });
      expect(deprecated.status).toBe(200);
      expect(deprecated.body.state).toBe("deprecated");
      const deleted = await call(`${registry.url}/api/v1/schemas/${latest.body.id}`, "DELETE");
      expect(deleted.status).toBe(204);
      expect((await call(`${registry.url}/api/v1/schemas/${latest.body.id}`)).status).toBe(404);
      const now = await call(`${registry.url}/api/v1/subjects/${subject}/versions/latest`);
      expect(now.body.version).toBe("1.0.0");
    });

    test("counts what it holds in /stats, with the cache's hit rate by tier", async () => {
      const stats = await call(`${registry.url}/api/v1/stats`);
      expect(stats.status).toBe(200);
      expect(stats.body.schemas).toEqual({
        total: 1,
        draft: 0,
        active: 1,
        deprecated: 0,
        archived: 0,
        deleted: 1,
      });
      expect(stats.body.subjects).toBe(1);
      expect(stats.body.storage.inline_bytes).toBeGreaterThan(0);
      expect(stats.body.storage.object_store_bytes).toBe(0);
      const tiers = Object.keys(stats.body.cache?.tiers ?? {}).sort();
      // The searches and lists above used the query-result tier as well.
      expect(tiers).toEqual(redisUp ? ["l1", "l2", "query"] : ["l1", "query"]);
      expect(stats.body.cache.tiers.l1.hits + stats.body.cache.tiers.l1.misses).toBeGreaterThan(0);
    });

    test("is healthy and ready, with every component", async () => {
      const ready = await call(`${registry.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("ready");
      const health = await call(`${registry.url}/health`);
      expect(health.body.status).toBe("up");
      expect(health.body.components.postgres.status).toBe("up");
      expect(health.body.components.redis.status).toBe(redisUp ? "up" : "not_configured");
      expect(health.body.components.object_store.status).toBe("not_configured");
      expect(health.body.runtime.toLowerCase()).toStartWith(runtime.name);
    });

    test("exposes metrics that parse, from this runtime", async () => {
      const res = await fetch(`${registry.url}/metrics`);
      expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const families = parseExposition(await res.text());
      expect(sampleValue(families, "schema_registry_runtime_info", { runtime: runtime.name })).toBe(1);
      const registered = (result: string) =>
        sampleValue(families, "schema_registry_schemas_registered_total", { schema_type: "json", result });
      expect([registered("created"), registered("existing")]).toEqual([2, 1]);
      expect(sampleValue(families, "schema_registry_schemas_deleted_total", { mode: "soft" })).toBe(1);
      expect(
        sampleValue(families, "schema_registry_http_request_duration_seconds_count", {
          method: "GET",
          route: "/api/v1/schemas/:id",
          status: "200",
        }),
      ).toBe(2);
      expect(sampleValue(families, "process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
      expect(sampleValue(families, "schema_registry_uptime_seconds")).toBeGreaterThan(0);
      if (redisUp) {
        expect(sampleValue(families, "schema_registry_cache_circuit_breaker_state")).toBe(0);
        const l1Misses = sampleValue(families, "schema_registry_cache_requests_total", {
          tier: "l1",
          result: "miss",
        });
        expect(l1Misses).toBeGreaterThan(0);
      }
    });

    test("logs one JSON line per request, with its route template", async () => {
      await Bun.sleep(150); // the access log is written at most 100 ms after a line
      const requests = registry.logLines().filter((line) => line.message === "request");
      const read = requests.find((line) => line.path === `/api/v1/schemas/${first.id}`);
      expect(read).toMatchObject({ method: "GET", route: "/api/v1/schemas/:id", status: 200 });
      expect(typeof read?.request_id).toBe("string");
      expect(typeof read?.duration_ms).toBe("number");
    });

    test("SIGTERM: takes no new request, answers the one in flight, flushes the log, exits 0", async () => {
      const body = JSON.stringify({
        subject: `${subject}.Late`,
        schema_type: "json",
        content: { type: "string" },
      });
      const slow = await openSlowRegister(registry.port, body);
      await Bun.sleep(100); // the headers are in: the request is being handled
      registry.process.kill("SIGTERM");

      const stopping = Date.now() + 5_000;
      while (!registry.output().includes("no longer taking new requests") && Date.now() < stopping) {
        await Bun.sleep(20);
      }
      expect(registry.output()).toContain("no longer taking new requests");
      const late = await fetch(`${registry.url}/health/live`).then(
        async (res) => `${res.status} ${((await res.json()) as { error?: { code?: string } }).error?.code}`,
        () => "refused",
      );
      // Bun closes its listener; Deno keeps it open while it drains (see src/runtime/deno.ts).
      expect(late).toBe(runtime.name === "bun" ? "refused" : "503 unavailable");

      const response = await slow.finish();
      expect(response).toStartWith("HTTP/1.1 201");
      expect(await registry.process.exited).toBe(0);

      const lines = registry.logLines();
      const answered = lines.find(
        (line) => line.message === "request" && line.status === 201 && line.path === "/api/v1/schemas",
      );
      expect(answered).toBeDefined();
      expect(lines.at(-1)?.message).toBe("stopped");
    });
  });
}

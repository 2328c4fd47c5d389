/**
 * What authentication costs an L1-served read, in process (no sockets): the
 * same `GET` answered by a registry with auth off and by one with auth on
 * and an API key, on one database, in the same run. The target is under 5 %
 * for the fast path of `GET /api/v1/schemas/{id}`: a remembered key is a Map
 * lookup, no hash and no await. Also measured: the key sent as HTTP Basic
 * (Confluent's clients) on Confluent's `GET /schemas/ids/{id}`, and a read
 * through the app's router and middleware (a query string skips the fast
 * path). Rounds alternate between the two registries so drift hits both
 * alike; each line is the median of the rounds' per-request CPU times.
 *
 *   ./node_modules/.bin/bun bench/http/auth.bench.ts        (ROUNDS=41, BATCH=5000 to change)
 */
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { createTestDatabase } from "../../test/support/database.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 41);
const BATCH = Number(process.env.BATCH ?? 5_000);
const BOOTSTRAP = "bootstrap-key-of-the-auth-bench-0123456789abcdef";

const database = await createTestDatabase();

async function start(env: Record<string, string>): Promise<Registry> {
  const config = await loadConfig({
    env: { LOG_LEVEL: "error", DATABASE_URL: database.url, CACHE_WARM_ON_STARTUP: "false", ...env },
  });
  return createRegistry(config);
}

const open = await start({ AUTH_REQUIRED: "false" });
const closed = await start({ AUTH_REQUIRED: "true", AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP });

async function json(response: Response): Promise<Record<string, unknown>> {
  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Median per-request nanoseconds of `BATCH` sequential requests, over `ROUNDS` alternating rounds. */
async function compare(
  label: string,
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
): Promise<void> {
  // CPU time of this process, not wall time: on a shared machine another process's burst would
  // land on whichever side was running, and CPU time is what authentication adds.
  const time = async (request: () => Promise<unknown>) => {
    const started = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) await request();
    const used = process.cpuUsage(started);
    return ((used.user + used.system) * 1e3) / BATCH;
  };
  // Warm both: L1, the remembered key, the JIT.
  await time(baseline);
  await time(candidate);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a.push(await time(baseline));
      b.push(await time(candidate));
    } else {
      b.push(await time(candidate));
      a.push(await time(baseline));
    }
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const off = median(a);
  const on = median(b);
  const ratio = on / off;
  console.log(
    `${label.padEnd(58)} auth off ${off.toFixed(0).padStart(6)} ns   with key ${on.toFixed(0).padStart(6)} ns   ratio ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %)`,
  );
}

try {
  const admin = await json(
    await closed.app.request("/api/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${BOOTSTRAP}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    }),
  );
  const reader = await json(
    await closed.app.request("/api/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${admin.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "reader" }),
    }),
  );
  const key = reader.key as string;
  const [keyId, secret] = key.split(".") as [string, string];
  const bearer = { Authorization: `Bearer ${key}` };
  const basic = { Authorization: `Basic ${btoa(`${keyId}:${secret}`)}` };

  const properties = Object.fromEntries(
    Array.from({ length: 24 }, (_, i) => [`field_${i}`, { type: i % 2 ? "string" : "integer" }]),
  );
  const created = await json(
    await open.app.request("/api/v1/schemas", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject: "bench.auth.Prompt",
        schema_type: "json",
        content: { type: "object", properties },
      }),
    }),
  );
  const native = `http://localhost/api/v1/schemas/${created.id}`;
  const confluent = `http://localhost/schemas/ids/${created.content_id}`;
  const routed = `${native}?include_deleted=false`;

  // One request object per case, reused: what is measured is the registry's answer, not building a
  // Request (which a server gets from its runtime). Both sides send the same Authorization header;
  // the registry with auth off ignores it.
  const read = (registry: Registry, url: string, headers: Record<string, string>) => {
    const request = new Request(url, { headers });
    return async () => {
      const response = await registry.fetch(request);
      if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
      return response.text();
    };
  };

  console.log(`${ROUNDS} rounds of ${BATCH} sequential requests each, L1 hits, in process\n`);
  await compare(
    "GET /api/v1/schemas/{id} (fast path), Bearer key",
    read(open, native, bearer),
    read(closed, native, bearer),
  );
  await compare(
    "GET /schemas/ids/{id} (Confluent fast path), Basic key",
    read(open, confluent, basic),
    read(closed, confluent, basic),
  );
  await compare(
    "GET /api/v1/schemas/{id}?… (router and middleware), Bearer",
    read(open, routed, bearer),
    read(closed, routed, bearer),
  );
} finally {
  await open.close();
  await closed.close();
  await database.drop();
}

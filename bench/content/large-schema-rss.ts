/**
 * The server's memory while it registers and serves a 20 MiB schema (issue 4's
 * target: peak RSS growth under three times the content size). The registry
 * runs as `bun src/server.ts` in a process of its own (s3rver in another), so
 * its RSS is its alone; this process only sends requests and reads
 * /proc/<pid>/status. Each step runs in a fresh server process on the same
 * database and bucket, warmed up with a 2 MiB schema on every path, so one
 * step's garbage does not count in the next: its figure is the peak RSS
 * (VmHWM, reset after the warm-up) minus the RSS right before it.
 *
 *   bun bench/content/large-schema-rss.ts [--size-mib 20]
 *
 * Linux only (/proc). Figures move with the garbage collector's timing: run it
 * a few times and read them as indicative.
 */
import { canonicalJson } from "../../src/domain/canonical.ts";
import { largeJsonSchema } from "../../test/content/helpers.ts";
import {
  MiB,
  memoryOf,
  mib,
  type RegistryProcess,
  resetPeak,
  startRegistryProcess,
  startStoreProcess,
} from "./processes.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const sizeMiB = flag("--size-mib", 20);
const env = { MAX_SCHEMA_BYTES: String(Math.max(16, 2 * sizeMiB) * MiB) };
const store = await startStoreProcess();
const first = await startRegistryProcess(store.config, env);

async function register(registry: RegistryProcess, subject: string, content: unknown): Promise<string> {
  const res = await fetch(`${registry.url}/api/v1/schemas`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ subject, schema_type: "json", content }),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`register answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function read(registry: RegistryProcess, path: string, init?: RequestInit): Promise<number> {
  const res = await fetch(`${registry.url}${path}`, init);
  const body = await res.arrayBuffer();
  if (!res.ok && res.status !== 307) throw new Error(`${path} answered ${res.status}`);
  return body.byteLength;
}

try {
  const warmContent = largeJsonSchema(2 * MiB, 90);
  const content = largeJsonSchema(sizeMiB * MiB, 91);
  const size = new TextEncoder().encode(canonicalJson(content)).byteLength;
  let id = "";
  const rows: string[][] = [["step (fresh server each)", "RSS before", "peak growth", "x content size"]];

  const step = async (name: string, work: (registry: RegistryProcess) => Promise<unknown>) => {
    const registry =
      rows.length === 1 ? first : await startRegistryProcess(store.config, env, first.databaseUrl);
    try {
      // Warm-up: every path once with a 2 MiB schema, so the SDK, the parsers and the JIT are loaded.
      const warm = await register(registry, "rss.warmup", warmContent);
      await read(registry, `/api/v1/schemas/${warm}?include=content`);
      await read(registry, `/api/v1/schemas/${warm}/content?redirect=false`);
      await read(registry, `/api/v1/schemas/${warm}/content`, { redirect: "manual" });
      await Bun.sleep(1000);
      const before = memoryOf(registry.pid).rss;
      resetPeak(registry.pid);
      await work(registry);
      const growth = memoryOf(registry.pid).peak - before;
      rows.push([name, mib(before), mib(growth), (growth / size).toFixed(2)]);
    } finally {
      if (registry !== first) await registry.stop();
    }
  };

  await step("register (POST /schemas)", async (registry) => {
    id = await register(registry, "rss.large", content);
  });
  await step("GET /content?redirect=false (streamed)", (registry) =>
    read(registry, `/api/v1/schemas/${id}/content?redirect=false`),
  );
  await step("GET /schemas/{id}?include=content", (registry) =>
    read(registry, `/api/v1/schemas/${id}?include=content`),
  );
  await step("GET /content (307 to the presigned URL)", (registry) =>
    read(registry, `/api/v1/schemas/${id}/content`, { redirect: "manual" }),
  );

  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\n${mib(size)} of canonical JSON Schema; registry server in its own process\n`);
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("   "));
} finally {
  await first.stop();
  store.stop();
}

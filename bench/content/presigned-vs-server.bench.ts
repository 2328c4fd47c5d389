/**
 * What the direct path saves: a 2 MiB object fetched through its presigned URL
 * straight from the object store, and through a small Hono route that streams
 * it from the store (what `GET /schemas/{id}/content?redirect=false` does), in
 * one run, printed side by side with their ratio.
 *
 *   bun bench/content/presigned-vs-server.bench.ts [--size-mib 2] [--concurrency 8]
 *
 * The object store (s3rver) and the streaming server each run in a process of
 * their own, so the client measuring them does not share their event loop.
 * Phase 2 points the "through server" side at the registry's real route.
 */
import { Hono } from "hono";
import { measure } from "mitata";
import type { S3Config } from "../../src/content/config.ts";
import { createObjectStore, type ObjectStore } from "../../src/content/object-store.ts";
import { startS3 } from "../../test/support/s3.ts";

const MiB = 1024 * 1024;
const KEY = "schemas/bench-object";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Child role: the object store. Prints its configuration, serves until killed. */
async function runStore(): Promise<void> {
  const s3 = await startS3({ bucket: "bench" });
  console.log(JSON.stringify(s3.config));
}

/** Child role: the streaming server, on a store configured by the parent. */
async function runProxy(configJson: string): Promise<void> {
  const store = await createObjectStore(JSON.parse(configJson));
  const app = new Hono();
  app.get("/content/:key{.+}", async (c) => {
    const object = await store.getStream(c.req.param("key"));
    return new Response(object.body, {
      headers: {
        "content-type": object.contentType ?? "application/octet-stream",
        "content-length": String(object.size),
      },
    });
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }));
}

/** Starts a child in a role and reads the one JSON line it prints when ready. */
async function spawnRole(args: string[]): Promise<{ child: Bun.Subprocess; ready: Record<string, unknown> }> {
  const child = Bun.spawn([process.execPath, import.meta.path, ...args], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${args[1]} process ended before it was ready`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { child, ready: JSON.parse(text.split("\n")[0]!) };
}

async function fetchAll(url: string, expected: number): Promise<void> {
  const response = await fetch(url);
  const body = await response.arrayBuffer();
  if (response.status !== 200 || body.byteLength !== expected) {
    throw new Error(`bad answer: HTTP ${response.status}, ${body.byteLength} bytes`);
  }
}

async function main(): Promise<void> {
  const size = flag("--size-mib", 2) * MiB;
  const concurrency = flag("--concurrency", 8);
  const storeProcess = await spawnRole(["--role", "store"]);
  const config = storeProcess.ready;
  const proxyProcess = await spawnRole(["--role", "proxy", JSON.stringify(config)]);
  let store: ObjectStore | null = null;
  try {
    store = await createObjectStore(config as unknown as S3Config);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536)
      crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65_536, size)));
    await store.put(KEY, bytes, { contentType: "application/schema+json" });
    const direct = (await store.presignGet(KEY)).url;
    const viaServer = `${proxyProcess.ready.url}/content/${KEY}`;
    await fetchAll(direct, size);
    await fetchAll(viaServer, size);

    const options = { min_cpu_time: 1e9, max_samples: 400 };
    // Both sides in the same run, back to back: figures from different runs are not comparable.
    const directSerial = await measure(() => fetchAll(direct, size), options);
    const serverSerial = await measure(() => fetchAll(viaServer, size), options);
    const directParallel = await measure(() => fetchAll(direct, size), { ...options, concurrency });
    const serverParallel = await measure(() => fetchAll(viaServer, size), { ...options, concurrency });

    const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;
    const mbps = (ns: number, n: number) => `${((size * n) / MiB / (ns / 1e9)).toFixed(0)} MiB/s`;
    const ratio = (server: number, presigned: number) => `${(server / presigned).toFixed(2)}x`;
    const rows: [string, string, string, string][] = [
      ["", "presigned (direct)", "through server", "server / direct (time)"],
      [
        "latency p50, 1 at a time",
        ms(directSerial.p50),
        ms(serverSerial.p50),
        ratio(serverSerial.p50, directSerial.p50),
      ],
      [
        "latency avg, 1 at a time",
        ms(directSerial.avg),
        ms(serverSerial.avg),
        ratio(serverSerial.avg, directSerial.avg),
      ],
      [
        `latency p99, 1 at a time`,
        ms(directSerial.p99),
        ms(serverSerial.p99),
        ratio(serverSerial.p99, directSerial.p99),
      ],
      [
        `throughput, ${concurrency} at a time`,
        mbps(directParallel.avg, concurrency),
        mbps(serverParallel.avg, concurrency),
        ratio(serverParallel.avg, directParallel.avg),
      ],
    ];
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(`\n${size / MiB} MiB object; s3rver and the streaming server each in their own process\n`);
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("   "));
    console.log(
      `\nserver process: one extra hop, and every byte crosses its event loop; the direct path leaves it idle.`,
    );
  } finally {
    await store?.close();
    proxyProcess.child.kill();
    storeProcess.child.kill();
  }
}

const role = process.argv.indexOf("--role");
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === "store") await runStore();
  else if (which === "proxy") await runProxy(process.argv[role + 2] ?? "{}");
} else {
  await main();
}

/**
 * What the direct path saves: a 2 MiB schema read through its presigned URL
 * straight from the object store, and through the registry's own route
 * (`GET /api/v1/schemas/{id}/content?redirect=false`, streamed by the server),
 * with the 307 path (the same route without redirect=false, which fetch
 * follows to the presigned URL) alongside, in one run, printed side by side
 * with the ratios.
 *
 *   bun bench/content/presigned-vs-server.bench.ts [--size-mib 2] [--concurrency 8]
 *
 * The object store (s3rver) and the registry (`bun src/server.ts`, on a fresh
 * database of the machine's PostgreSQL) each run in a process of their own,
 * so the client measuring them shares no event loop with either.
 */
import { measure } from "mitata";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { largeJsonSchema } from "../../test/content/helpers.ts";
import { MiB, startRegistryProcess, startStoreProcess } from "./processes.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function fetchAll(url: string, expected: number): Promise<void> {
  const response = await fetch(url);
  const body = await response.arrayBuffer();
  if (response.status !== 200 || body.byteLength !== expected) {
    throw new Error(`bad answer from ${url}: HTTP ${response.status}, ${body.byteLength} bytes`);
  }
}

async function main(): Promise<void> {
  const sizeMiB = flag("--size-mib", 2);
  const concurrency = flag("--concurrency", 8);
  const store = await startStoreProcess();
  const registry = await startRegistryProcess(store.config, {
    MAX_SCHEMA_BYTES: String(Math.max(16, 2 * sizeMiB) * MiB),
  });
  try {
    const content = largeJsonSchema(sizeMiB * MiB, 7);
    const size = new TextEncoder().encode(canonicalJson(content)).byteLength;
    const created = await fetch(`${registry.url}/api/v1/schemas`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ subject: "bench.presigned", schema_type: "json", content }),
    });
    const schema = (await created.json()) as { id: string; content_url?: string; content_location: string };
    if (created.status !== 201 || schema.content_location !== "object_store" || !schema.content_url) {
      throw new Error(`the schema did not go to the object store: HTTP ${created.status}`);
    }
    const direct = schema.content_url;
    const route = `${registry.url}/api/v1/schemas/${schema.id}/content`;
    const viaServer = `${route}?redirect=false`;
    for (const url of [direct, route, viaServer]) await fetchAll(url, size);

    const options = { min_cpu_time: 1e9, max_samples: 400 };
    // Every side in the same run, back to back: figures from different runs are not comparable.
    const directSerial = await measure(() => fetchAll(direct, size), options);
    const redirectSerial = await measure(() => fetchAll(route, size), options);
    const serverSerial = await measure(() => fetchAll(viaServer, size), options);
    const directParallel = await measure(() => fetchAll(direct, size), { ...options, concurrency });
    const redirectParallel = await measure(() => fetchAll(route, size), { ...options, concurrency });
    const serverParallel = await measure(() => fetchAll(viaServer, size), { ...options, concurrency });

    const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;
    const mbps = (ns: number, n: number) => `${((size * n) / MiB / (ns / 1e9)).toFixed(0)} MiB/s`;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    type Stats = typeof directSerial;
    const latency = (label: string, pick: (s: Stats) => number): string[] => [
      label,
      ms(pick(directSerial)),
      ms(pick(redirectSerial)),
      ms(pick(serverSerial)),
      ratio(pick(serverSerial), pick(directSerial)),
    ];
    const rows: string[][] = [
      ["", "presigned (direct)", "307 then direct", "through the registry", "registry / direct (time)"],
      latency("latency p50, 1 at a time", (s) => s.p50),
      latency("latency avg, 1 at a time", (s) => s.avg),
      latency("latency p99, 1 at a time", (s) => s.p99),
      [
        `throughput, ${concurrency} at a time`,
        mbps(directParallel.avg, concurrency),
        mbps(redirectParallel.avg, concurrency),
        mbps(serverParallel.avg, concurrency),
        ratio(serverParallel.avg, directParallel.avg),
      ],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(
      `\n${(size / MiB).toFixed(2)} MiB schema; s3rver and the registry server each in their own process\n`,
    );
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("   "));
    console.log(
      "\nthrough the registry: one extra hop, and every byte crosses its event loop; the direct path leaves it idle.",
    );
  } finally {
    await registry.stop();
    store.stop();
  }
}

await main();

/**
 * Cache operations: get and put, hot (L1 hit) and cold (L2 hit with L1 off;
 * full miss to the loader), at several L1 sizes, against bentocache with the
 * same L1 size and the same Redis, and against the bare building blocks
 * (lru-cache, one raw ioredis GET/SET). Then L1 memory: heap growth per 100
 * typical (~5 KB) schema records held. mitata prints each group's ratios from
 * the same run; the Redis-bound groups are measured once more interleaved
 * (contenders alternating in short rounds), which a shared machine's changing
 * load distorts far less. Figures are indicative: 2 shared cores.
 *
 * Run: ./node_modules/.bin/bun bench/cache/cache-operations.bench.ts
 */
import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { TieredCache } from "../../src/cache/tiered-cache.ts";
import { schemaRecordOfSize } from "./payloads.ts";
import { bento, cleanRedis, heapUsed, interleaved, ours, REDIS_URL, RUN } from "./peers.ts";

const TYPICAL = 5_120;
const record = schemaRecordOfSize(TYPICAL, 1);
const text = JSON.stringify(record);
const loader = async () => record;

// ---- L1 memory: heap growth per 100 typical schemas -------------------------------------------
// Each contestant is measured in a fresh process: in one process, what an earlier contestant left
// behind (and Bun's conservative stack scan) blurs the next one's figure.
const MEMORY_CONTESTANTS = ["ours", "bentocache-serialize-true", "bentocache-serialize-false"] as const;

async function memoryPer100(which: (typeof MEMORY_CONTESTANTS)[number]): Promise<string> {
  const n = 2_000;
  let fill: (key: string, value: unknown) => Promise<void>;
  let close: () => Promise<void>;
  if (which === "ours") {
    const cache = new TieredCache({ l1: { maxEntries: 10_000, maxBytes: 2 ** 31 - 1 } });
    fill = (key, value) => cache.set(key, value);
    close = () => cache.close();
  } else {
    const peer = bento({ l1Entries: 10_000, l2: false, serialize: which === "bentocache-serialize-true" });
    fill = (key, value) => peer.set(key, value);
    close = () => peer.close();
  }
  const texts = Array.from({ length: n }, (_, i) => JSON.stringify(schemaRecordOfSize(TYPICAL, 10_000 + i)));
  const before = heapUsed();
  for (let i = 0; i < n; i++) await fill(`mem:${i}`, JSON.parse(texts[i]!));
  const after = heapUsed();
  await close();
  const avg = texts.reduce((sum, t) => sum + t.length, 0) / n;
  return `${which.padEnd(30)} ${((((after - before) / n) * 100) / 1024 / 1024).toFixed(2)} MB per 100 schemas (avg JSON ${(avg / 1024).toFixed(1)} KB)`;
}

const memoryArg = process.argv.indexOf("--memory");
if (memoryArg > 0) {
  console.log(await memoryPer100(process.argv[memoryArg + 1] as (typeof MEMORY_CONTESTANTS)[number]));
  process.exit(0);
}

console.log(
  "L1 memory: heap growth while holding 2,000 typical schema records (goal: about 1 MB per 100 or less)",
);
for (const which of MEMORY_CONTESTANTS) {
  const child = Bun.spawnSync([process.execPath, import.meta.path, "--memory", which]);
  console.log(`  ${child.stdout.toString().trim() || child.stderr.toString().trim()}`);
}
console.log();

// ---- Contestants ---------------------------------------------------------------------------------
const N = 10_000;
const keys = Array.from({ length: N }, (_, i) => `schema:id:${i}`);
let cursor = 0;
const nextKey = () => {
  cursor = (cursor + 7919) % N;
  return keys[cursor]!;
};

const oursL1 = await ours({ l1Entries: N, l2: true });
const bentoL1 = bento({ l1Entries: N, l2: true, serialize: true }, "bentocache");
// bentocache cannot combine `serialize: false` with an L2 (it fails reading L2); it is here for L1 hits only.
const bentoL1Raw = bento({ l1Entries: N, l2: false, serialize: false }, "bentocache serialize:false");
const lru = new LRUCache<string, object>({ max: N });
for (const key of keys) {
  await oursL1.get(key, loader);
  await bentoL1.get(key, loader);
  await bentoL1Raw.get(key, loader);
  lru.set(key, record);
}
await oursL1.cache.flush();

const oursL2 = await ours({ l1Entries: 0, l2: true }, "ours, L1 off");
const bentoL2 = bento({ l1Entries: 0, l2: true }, "bentocache, L2 only");
for (const key of keys.slice(0, 1_000)) {
  await oursL2.get(key, loader);
  await bentoL2.get(key, loader);
}
await oursL2.cache.flush();
const raw = new Redis(REDIS_URL);
await raw.set(`bench:${RUN}:raw:one`, text, "EX", 600);
let l2Cursor = 0;
const nextL2Key = () => {
  l2Cursor = (l2Cursor + 1) % 1_000;
  return keys[l2Cursor]!;
};

const sizes = [1_000, 10_000, 100_000];
const bySize = new Map<number, TieredCache>();
for (const size of sizes) {
  const cache = new TieredCache({ l1: { maxEntries: size, maxBytes: 2 ** 31 - 1 } });
  for (let i = 0; i < size; i++) await cache.set(`k${i}`, record);
  bySize.set(size, cache);
}

let coldSeq = 0;

// ---- Benches -------------------------------------------------------------------------------------
group("hot get: L1 hit, 10,000 entries of ~5 KB", () => {
  summary(() => {
    bench("lru-cache get, awaited (bare baseline)", async () =>
      do_not_optimize(await Promise.resolve(lru.get(nextKey()))),
    );
    bench("ours", async () => do_not_optimize(await oursL1.get(nextKey(), loader)));
    bench("bentocache (default, serialize: true)", async () =>
      do_not_optimize(await bentoL1.get(nextKey(), loader)),
    );
    bench("bentocache serialize:false (L1 only)", async () =>
      do_not_optimize(await bentoL1Raw.get(nextKey(), loader)),
    );
  });
});

group("hot get by L1 size (ours)", () => {
  summary(() => {
    for (const size of sizes) {
      const cache = bySize.get(size)!;
      let i = 0;
      bench(`${size.toLocaleString("en")} entries`, async () => {
        i = (i + 7919) % size;
        do_not_optimize(await cache.get(`k${i}`, loader));
      });
    }
  });
});

group("cold get: L1 off, L2 (Redis) hit, ~5 KB", () => {
  summary(() => {
    bench("raw ioredis GET + JSON.parse (baseline)", async () =>
      do_not_optimize(JSON.parse((await raw.get(`bench:${RUN}:raw:one`))!)),
    );
    bench("ours", async () => do_not_optimize(await oursL2.get(nextL2Key(), loader)));
    bench("bentocache", async () => do_not_optimize(await bentoL2.get(nextL2Key(), loader)));
  });
});

group("cold get: miss in L1 and L2, loader answers at once", () => {
  summary(() => {
    bench("ours", async () => do_not_optimize(await oursL1.get(`cold:${coldSeq++}`, loader)));
    bench("bentocache", async () => do_not_optimize(await bentoL1.get(`cold:${coldSeq++}`, loader)));
  });
});

group("put: L1 + L2, ~5 KB", () => {
  summary(() => {
    bench("raw ioredis SET EX (baseline)", async () => {
      await raw.set(`bench:${RUN}:raw:put`, text, "EX", 600);
    });
    bench("ours", async () => oursL1.set(`put:${coldSeq++ % 1000}`, record));
    bench("bentocache", async () => bentoL1.set(`put:${coldSeq++ % 1000}`, record));
  });
});

await run();

console.log();
await interleaved("cold get: L1 off, L2 hit, ~5 KB", [
  {
    name: "raw ioredis GET + JSON.parse",
    op: async () => JSON.parse((await raw.get(`bench:${RUN}:raw:one`))!),
  },
  { name: "ours", op: () => oursL2.get(nextL2Key(), loader) },
  { name: "bentocache", op: () => bentoL2.get(nextL2Key(), loader) },
]);
await interleaved("put: L1 + L2, ~5 KB", [
  { name: "raw ioredis SET EX", op: () => raw.set(`bench:${RUN}:raw:put`, text, "EX", 600) },
  { name: "ours", op: (i) => oursL1.set(`put:${i % 1000}`, record) },
  { name: "bentocache", op: (i) => bentoL1.set(`put:${i % 1000}`, record) },
]);
await interleaved("cold get: miss in L1 and L2, loader answers at once", [
  { name: "ours", op: () => oursL1.get(`cold:${coldSeq++}`, loader) },
  { name: "bentocache", op: () => bentoL1.get(`cold:${coldSeq++}`, loader) },
]);

await oursL1.cache.flush();
for (const closable of [oursL1, bentoL1, bentoL1Raw, oursL2, bentoL2, ...bySize.values()])
  await closable.close();
raw.disconnect();
await cleanRedis();

/**
 * Hit rates under a Pareto (80/20) access pattern over 10,000 schemas, with L1
 * sized at 10 % of them (1,000 entries) and L2 on Redis: the share of reads
 * answered by L1, by L2 and by the loader (PostgreSQL), ours (TinyLFU
 * admission, the default, and plain LRU) against bentocache, all fed the
 * identical key sequence with the same L1 size and the same Redis.
 * Counted over a cold start and over a steady window after it (the design's
 * figures, >= 95 % overall and about 70 % from L1, are steady-state ones).
 * Then mitata times a batch of 1,000 Pareto reads through each, same run.
 *
 * Run: ./node_modules/.bin/bun bench/cache/cache-hit-rates.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { schemaRecordOfSize } from "./payloads.ts";
import { bento, cleanRedis, ours, paretoSampler } from "./peers.ts";

const SCHEMAS = 10_000;
const L1_ENTRIES = SCHEMAS / 10;
const WINDOW = 100_000;

// 1 KB records keep the Redis footprint small; hit rates depend on counts, not sizes.
const records = Array.from({ length: 64 }, (_, i) => schemaRecordOfSize(1_024, i + 1));
const loaderFor = (rank: number) => async () => records[rank % records.length]!;

const mine = await ours({ l1Entries: L1_ENTRIES, l2: true });
const mineLru = await ours({ l1Entries: L1_ENTRIES, l2: true, admission: "lru" }, "ours, LRU");
const peer = bento({ l1Entries: L1_ENTRIES, l2: true });

interface Shares {
  l1: number;
  l2: number;
  loader: number;
}

function countsOf(cache: typeof mine.cache): Shares {
  const s = cache.stats();
  return { l1: s.l1!.hits, l2: s.l2!.hits, loader: s.loader.calls };
}
function peerCounts(): Shares {
  return { l1: peer.counts.l1, l2: peer.counts.l2, loader: peer.counts.miss };
}

interface Tally {
  ours: Shares;
  lru: Shares;
  bento: Shares;
}

async function window(next: () => number): Promise<Tally> {
  const counts = (): Tally => ({
    ours: countsOf(mine.cache),
    lru: countsOf(mineLru.cache),
    bento: peerCounts(),
  });
  const start = counts();
  for (let i = 0; i < WINDOW; i++) {
    const rank = next();
    const key = `schema:id:${rank}`;
    await mine.get(key, loaderFor(rank));
    await mineLru.get(key, loaderFor(rank));
    await peer.get(key, loaderFor(rank));
  }
  await mine.cache.flush();
  await mineLru.cache.flush();
  const end = counts();
  const diff = (a: Shares, b: Shares): Shares => ({
    l1: b.l1 - a.l1,
    l2: b.l2 - a.l2,
    loader: b.loader - a.loader,
  });
  return {
    ours: diff(start.ours, end.ours),
    lru: diff(start.lru, end.lru),
    bento: diff(start.bento, end.bento),
  };
}

function line(label: string, s: Shares): string {
  const total = s.l1 + s.l2 + s.loader;
  const pct = (n: number) => `${((n / total) * 100).toFixed(1).padStart(5)} %`;
  return `  ${label.padEnd(16)} L1 ${pct(s.l1)}   L2 ${pct(s.l2)}   loader ${pct(s.loader)}   overall hit ${pct(s.l1 + s.l2)}   (${total} reads)`;
}

const next = paretoSampler(SCHEMAS);
console.log(
  `Pareto 80/20 over ${SCHEMAS.toLocaleString("en")} schemas, L1 ${L1_ENTRIES.toLocaleString("en")} entries, L2 Redis`,
);
const cold = await window(next);
console.log(`cold start, first ${WINDOW.toLocaleString("en")} reads:`);
console.log(line("ours (TinyLFU)", cold.ours));
console.log(line("ours (LRU)", cold.lru));
console.log(line("bentocache", cold.bento));
const steady = await window(next);
console.log(`steady, next ${WINDOW.toLocaleString("en")} reads:`);
console.log(line("ours (TinyLFU)", steady.ours));
console.log(line("ours (LRU)", steady.lru));
console.log(line("bentocache", steady.bento));
const l1Share = (s: Shares) => s.l1 / (s.l1 + s.l2 + s.loader);
console.log(
  `L1 hit rate ours / bentocache (steady): ${(l1Share(steady.ours) / l1Share(steady.bento)).toFixed(3)}x ` +
    "(goal: at least 1.0x)\n",
);

const timed = paretoSampler(SCHEMAS, 7);
group("1,000 Pareto reads, warm caches", () => {
  summary(() => {
    bench("ours", async () => {
      for (let i = 0; i < 1_000; i++) {
        const rank = timed();
        do_not_optimize(await mine.get(`schema:id:${rank}`, loaderFor(rank)));
      }
    });
    bench("bentocache", async () => {
      for (let i = 0; i < 1_000; i++) {
        const rank = timed();
        do_not_optimize(await peer.get(`schema:id:${rank}`, loaderFor(rank)));
      }
    });
  });
});
await run();

await mine.cache.flush();
await mine.close();
await mineLru.close();
await peer.close();
await cleanRedis();

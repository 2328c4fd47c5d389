/**
 * Concurrent access: 1, 10, 50 and 100 gets in flight at once, through L1
 * (hits), through L2 with L1 off (Redis hits), and as a miss storm on one cold
 * key whose loader takes 1 ms (a PostgreSQL query): ours against bentocache
 * with the same L1 size and the same Redis, and a raw ioredis baseline for L2.
 * mitata prints each group's ratios; a closing table gives gets per second and
 * loader calls per storm, all from this one run; the L2 groups are measured
 * once more interleaved (contenders alternating in short rounds), which a
 * shared machine's changing load distorts far less. Figures are indicative: 2
 * shared cores.
 *
 * Run: ./node_modules/.bin/bun bench/cache/concurrent-access.bench.ts
 */
import { Redis } from "ioredis";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { schemaRecordOfSize } from "./payloads.ts";
import { bento, cleanRedis, interleaved, ours, REDIS_URL, RUN } from "./peers.ts";

const LEVELS = [1, 10, 50, 100];
const N = 1_000;
const record = schemaRecordOfSize(5_120, 1);
const text = JSON.stringify(record);
const keys = Array.from({ length: N }, (_, i) => `schema:id:${i}`);
const loader = async () => record;
let cursor = 0;
const batch = (c: number) =>
  Array.from({ length: c }, () => {
    cursor = (cursor + 7919) % N;
    return keys[cursor]!;
  });

const oursL1 = await ours({ l1Entries: N, l2: true });
const bentoL1 = bento({ l1Entries: N, l2: true });
const oursL2 = await ours({ l1Entries: 0, l2: true }, "ours, L1 off");
const bentoL2 = bento({ l1Entries: 0, l2: true }, "bentocache, L2 only");
for (const key of keys) {
  for (const peer of [oursL1, bentoL1, oursL2, bentoL2]) await peer.get(key, loader);
}
await oursL1.cache.flush();
await oursL2.cache.flush();
const raw = new Redis(REDIS_URL);
for (const key of keys) await raw.set(`bench:${RUN}:raw:${key}`, text, "EX", 600);

// Miss storms: every batch asks for one key nobody has read yet; the loader stands for a 1 ms query.
const stormCalls = new Map<string, { batches: number; calls: number }>();
let stormSeq = 0;
const storm = (peer: { get: typeof oursL1.get }, label: string) => async (c: number) => {
  const key = `storm:${label}:${stormSeq++}`;
  const tally = stormCalls.get(`${label} c=${c}`) ?? { batches: 0, calls: 0 };
  stormCalls.set(`${label} c=${c}`, tally);
  tally.batches++;
  const slowLoader = async () => {
    tally.calls++;
    await Bun.sleep(1);
    return record;
  };
  do_not_optimize(await Promise.all(Array.from({ length: c }, () => peer.get(key, slowLoader))));
};
const oursStorm = storm(oursL1, "ours");
const bentoStorm = storm(bentoL1, "bentocache");

for (const c of LEVELS) {
  group(`L1 hits, ${c} concurrent`, () => {
    summary(() => {
      bench(`ours c=${c}`, async () =>
        do_not_optimize(await Promise.all(batch(c).map((k) => oursL1.get(k, loader)))),
      );
      bench(`bentocache c=${c}`, async () =>
        do_not_optimize(await Promise.all(batch(c).map((k) => bentoL1.get(k, loader)))),
      );
    });
  });
}
for (const c of LEVELS) {
  group(`L2 hits (L1 off), ${c} concurrent`, () => {
    summary(() => {
      bench(`raw ioredis GET + parse c=${c}`, async () =>
        do_not_optimize(
          await Promise.all(batch(c).map(async (k) => JSON.parse((await raw.get(`bench:${RUN}:raw:${k}`))!))),
        ),
      );
      bench(`ours c=${c}`, async () =>
        do_not_optimize(await Promise.all(batch(c).map((k) => oursL2.get(k, loader)))),
      );
      bench(`bentocache c=${c}`, async () =>
        do_not_optimize(await Promise.all(batch(c).map((k) => bentoL2.get(k, loader)))),
      );
    });
  });
}
for (const c of LEVELS) {
  group(`miss storm on one cold key, ${c} concurrent, 1 ms loader`, () => {
    summary(() => {
      bench(`ours c=${c}`, () => oursStorm(c));
      bench(`bentocache c=${c}`, () => bentoStorm(c));
    });
  });
}

const { benchmarks } = await run();

console.log("\ngets per second (c / mean batch time), from the runs above:");
for (const trial of benchmarks) {
  const result = trial.runs[0];
  if (!result?.stats) continue;
  const c = Number(/c=(\d+)/.exec(trial.alias)?.[1] ?? 1);
  console.log(
    `  ${trial.alias.padEnd(36)} ${Math.round((c / result.stats.avg) * 1e9).toLocaleString("en")} gets/s`,
  );
}
console.log();
for (const c of LEVELS) {
  await interleaved(
    `L2 hits (L1 off), ${c} concurrent, per get`,
    [
      {
        name: "raw ioredis GET + parse",
        weight: c,
        op: () =>
          Promise.all(batch(c).map(async (k) => JSON.parse((await raw.get(`bench:${RUN}:raw:${k}`))!))),
      },
      { name: "ours", weight: c, op: () => Promise.all(batch(c).map((k) => oursL2.get(k, loader))) },
      { name: "bentocache", weight: c, op: () => Promise.all(batch(c).map((k) => bentoL2.get(k, loader))) },
    ],
    11,
    Math.max(10, Math.round(300 / c)),
  );
}

console.log("\nloader calls per miss storm (single flight: 1 is ideal):");
for (const [label, { batches, calls }] of stormCalls) {
  console.log(`  ${label.padEnd(20)} ${(calls / batches).toFixed(2)} over ${batches} storms`);
}

await oursL1.cache.flush();
for (const peer of [oursL1, bentoL1, oursL2, bentoL2]) await peer.close();
raw.disconnect();
await cleanRedis();

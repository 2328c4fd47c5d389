/**
 * The edge targets, measured in one run against real processes on this
 * machine's PostgreSQL, Upstash (the REST bridge onto Redis) and s3rver:
 *
 * 1. Cold start of the workerd Worker to its first answered read (target
 *    under 50 ms): a schema registered and read through a Bun origin (so
 *    Upstash holds it, as it would for a new edge node), then COLD times a
 *    fresh `workerd serve -b deploy/workerd/dist/config.bin` (build.ts
 *    encodes it): spawn → its socket accepts (workerd's own start and the
 *    reading of the config and its modules), and the first `GET
 *    /api/v1/schemas/{id}` sent → answered (the isolate loading the Worker's
 *    module, the registry's start in it, the generation check and the L2
 *    read); and the first read of a fresh process sent once its isolate has
 *    loaded (workerd accepts before it evaluates the Worker's module). The
 *    median of the runs. Beside it, the same start of a one-line Worker
 *    under the same settings (flags, compatibility date): workerd's own
 *    start, which no bundle goes below; and both processes' CPU time from
 *    spawn to their first answer, which other work on the machine moves far
 *    less than their wall time.
 * 2. An L1 hit in a warm isolate against the same read on Bun (target within
 *    2×): the same `GET` sent sequentially over keep-alive, rounds alternating
 *    between Bun, Deno with edge permissions and workerd so drift hits all
 *    alike; each figure is the median over rounds of the mean per-request
 *    wall time, the client's share included (the same for every host). Each
 *    host's floor is measured beside it (the same body from a handler that
 *    does nothing else), so the registry's own share can be told from the
 *    host's HTTP stack. The server process's CPU time per request (every
 *    thread's, from /proc) is printed beside each: the cost on the host's
 *    side alone, without the client's and the loopback's.
 *
 *   ./node_modules/.bin/bun bench/edge/edge.bench.ts     (COLD=7 ROUNDS=15 BATCH=500 to change)
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWorker, WORKER_BINARY_CONFIG } from "../../deploy/workerd/build.ts";
import { freePort } from "../../scripts/lib/free-port.ts";
import {
  type HostName,
  type HostProcess,
  hostEnv,
  ROOT,
  startBackends,
  startHost,
  WORKER_CONFIG,
  WORKERD,
} from "../../test/runtime/edge-hosts.ts";
import { startServerProcess } from "../../test/support/server-process.ts";

const COLD = Number(process.env.COLD ?? 7);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const BATCH = Number(process.env.BATCH ?? 500);
/** workerd accepts on its socket before the Worker's module has loaded; this long after, it has. */
const SETTLE_MS = 1000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;

const backends = await startBackends();
const env = hostEnv(backends, { LOG_LEVEL: "error" });
const bundle = await buildWorker();
console.log(
  `Worker bundle: ${(bundle.bytes / 1024 / 1024).toFixed(2)} MiB, built in ${Math.round(bundle.ms)} ms`,
);

const hosts = new Map<HostName, HostProcess>();
const floors: { name: string; url: string; pid: number; stop(): Promise<void> }[] = [];
try {
  const origin = await startHost("bun", env);
  hosts.set("bun", origin);
  const created = (await (
    await fetch(`${origin.url}/api/v1/schemas`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject: "bench.edge.Order",
        schema_type: "json",
        content: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      }),
    })
  ).json()) as { id: string };
  const path = `/api/v1/schemas/${created.id}`;
  // Through the origin: the schema is now in Upstash, where a new edge node finds it.
  await (await fetch(origin.url + path)).arrayBuffer();

  // 1. Cold starts.
  const listening: number[] = [];
  const firstRead: number[] = [];
  const total: number[] = [];
  // The same first read sent once the isolate has loaded: what the read costs apart from the load.
  const loadedRead: number[] = [];
  // A one-line Worker with the registry's settings: workerd's own start, spawn → first answer.
  const floorConfig = writeFloorWorker("{}");
  const floorTotal: number[] = [];
  // The process's CPU time from spawn to the first answer: what the start costs, whatever else runs on the machine.
  const cpu: number[] = [];
  const floorCpu: number[] = [];
  for (let run = 0; run < COLD; run++) {
    const cold = await coldStart(WORKER_BINARY_CONFIG, env, path);
    listening.push(cold.listeningMs);
    firstRead.push(cold.firstReadMs);
    total.push(cold.listeningMs + cold.firstReadMs);
    cpu.push(cold.cpuMs);
    loadedRead.push((await coldStart(WORKER_BINARY_CONFIG, env, path, SETTLE_MS)).firstReadMs);
    const floor = await coldStart(floorConfig, {}, "/");
    floorTotal.push(floor.listeningMs + floor.firstReadMs);
    floorCpu.push(floor.cpuMs);
  }
  console.log(`\nworkerd cold start, median of ${COLD}:`);
  console.log(`  spawn → socket accepts:            ${ms(median(listening))}`);
  console.log(`  first read sent → answered:        ${ms(median(firstRead))}   (target < 50 ms)`);
  console.log(`  spawn → first answered read:       ${ms(median(total))}`);
  console.log(`  first read, isolate loaded (${SETTLE_MS} ms after accept): ${ms(median(loadedRead))}`);
  console.log(`  a one-line Worker, spawn → first answer: ${ms(median(floorTotal))}   (workerd's own start)`);
  console.log(
    `  workerd's CPU time, spawn → first answer: registry ${ms(median(cpu))}, one-line Worker ${ms(median(floorCpu))}`,
  );

  // 2. L1 hits in warm processes, beside each host's floor: the same body from a handler that does nothing else.
  hosts.set("deno-edge", await startHost("deno-edge", env));
  hosts.set("workerd", await startHost("workerd", env));
  const sample = await (await fetch(hosts.get("bun")!.url + path)).text();
  floors.push(await startFloor("bun", sample), await startFloor("workerd", sample));
  const targets = new Map<string, string>([
    ...[...hosts].map(([name, node]) => [name, node.url + path] as [string, string]),
    ...floors.map((floor) => [`${floor.name} floor`, floor.url] as [string, string]),
  ]);
  for (const url of targets.values()) {
    for (let i = 0; i < 200; i++) await (await fetch(url)).arrayBuffer();
  }
  const pids = new Map<string, number>([
    ...[...hosts].map(([name, node]) => [name, node.pid] as [string, number]),
    ...floors.map((floor) => [`${floor.name} floor`, floor.pid] as [string, number]),
  ]);
  const perTarget = new Map<string, number[]>([...targets.keys()].map((name) => [name, []]));
  const cpuPerTarget = new Map<string, number[]>([...targets.keys()].map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of targets) {
      const cpuBefore = cpuMs(pids.get(name)!);
      const started = performance.now();
      for (let i = 0; i < BATCH; i++) {
        const response = await fetch(url);
        if (response.status !== 200) throw new Error(`${name} answered ${response.status}`);
        await response.arrayBuffer();
      }
      perTarget.get(name)!.push((performance.now() - started) / BATCH);
      cpuPerTarget.get(name)!.push((cpuMs(pids.get(name)!) - cpuBefore) / BATCH);
    }
  }
  const of = (name: string) => median(perTarget.get(name)!);
  const cpuOf = (name: string) => median(cpuPerTarget.get(name)!);
  const bun = of("bun");
  console.log(`\nL1 hit, GET ${path.replace(created.id, "{id}")}, median of ${ROUNDS} rounds × ${BATCH}:`);
  for (const name of targets.keys()) {
    console.log(
      `  ${name.padEnd(14)} ${ms(of(name)).padStart(10)} per request   ${(of(name) / bun).toFixed(2)}× Bun   server CPU ${ms(cpuOf(name))}, ${(cpuOf(name) / cpuOf("bun")).toFixed(2)}× Bun`,
    );
  }
  const bunOwn = of("bun") - of("bun floor");
  const workerdOwn = of("workerd") - of("workerd floor");
  console.log(
    `  the registry's own share (host minus its floor): Bun ${ms(bunOwn)}, workerd ${ms(workerdOwn)}, ${(workerdOwn / bunOwn).toFixed(2)}×`,
  );
  console.log(
    `  the registry's own server CPU (host minus its floor): Bun ${ms(cpuOf("bun") - cpuOf("bun floor"))}, workerd ${ms(cpuOf("workerd") - cpuOf("workerd floor"))}`,
  );
  console.log(
    `  the hosts' floors: workerd ${(of("workerd floor") / of("bun floor")).toFixed(2)}× Bun, server CPU ${(cpuOf("workerd floor") / cpuOf("bun floor")).toFixed(2)}× Bun`,
  );
  console.log("  (target: an L1 hit on workerd within 2× Bun)");
} finally {
  for (const node of hosts.values()) await node.stop();
  for (const floor of floors) await floor.stop();
  await backends.stop();
}

/**
 * A one-line Worker answering `body`, written next to the bundle with the
 * registry's compatibility date and flags (config.capnp's), so that it differs
 * from the registry's Worker only by its module. Returns its config's path;
 * its socket is named `http`, as the registry's, for `--socket-addr`.
 */
function writeFloorWorker(body: string): string {
  const dir = join(ROOT, "deploy/workerd/dist/floor");
  mkdirSync(dir, { recursive: true });
  const registryConfig = readFileSync(WORKER_CONFIG, "utf8");
  const date = /compatibilityDate = ("[^"]+")/.exec(registryConfig)?.[1];
  const flags = /compatibilityFlags = (\[[^\]]*\])/.exec(registryConfig)?.[1];
  if (!date || !flags) throw new Error(`no compatibilityDate or compatibilityFlags in ${WORKER_CONFIG}`);
  const name = `worker-${Bun.hash(body).toString(36)}.js`;
  writeFileSync(
    join(dir, name),
    `export default { fetch: () => new Response(${JSON.stringify(body)}, { headers: { "content-type": "application/json" } }) };`,
  );
  const config = join(dir, `${name}.capnp`);
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "floor", worker = (modules = [(name = "worker.js", esModule = embed "${name}")], compatibilityDate = ${date}, compatibilityFlags = ${flags}))],
  sockets = [(name = "http", address = "127.0.0.1:8788", http = (), service = "floor")],
);`,
  );
  return config;
}

/**
 * A host answering `body` and doing nothing else, in a process of its own:
 * Bun.serve, and a Worker of one line on workerd (writeFloorWorker).
 */
async function startFloor(name: "bun" | "workerd", body: string) {
  const dir = join(ROOT, "deploy/workerd/dist/floor");
  mkdirSync(dir, { recursive: true });
  const command = (port: number) => {
    if (name === "bun") {
      const handler = `new Response(${JSON.stringify(body)}, { headers: { "content-type": "application/json" } })`;
      writeFileSync(
        join(dir, "bun.ts"),
        `Bun.serve({ hostname: "127.0.0.1", port: ${port}, fetch: () => ${handler} });`,
      );
      return [process.execPath, join(dir, "bun.ts")];
    }
    return [
      WORKERD,
      "serve",
      writeFloorWorker(body),
      `--socket-addr=http=127.0.0.1:${port}`,
      "--experimental",
    ];
  };
  const floor = await startServerProcess({
    name: `the ${name} floor`,
    command,
    cwd: ROOT,
    env: {},
    timeoutMs: 30_000,
    probePath: "/",
    answered: (status) => status === 200,
  });
  return { name, url: `${floor.url}/`, pid: floor.pid, stop: floor.stop };
}

/** CPU time of every thread of a process so far, ms (the first field of each thread's schedstat, ns). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // A thread that ended between the listing and the read: its time is gone with it.
    }
  }
  return ns / 1e6;
}

/**
 * A fresh workerd on `config` (an encoded one when it ends in .bin): spawn → TCP accept, then the
 * first read's round trip, and the process's CPU time by then.
 */
async function coldStart(config: string, settings: Record<string, string>, path: string, settleMs = 0) {
  const port = freePort();
  const spawned = performance.now();
  const child = Bun.spawn(
    [
      WORKERD,
      "serve",
      ...(config.endsWith(".bin") ? ["-b"] : []),
      config,
      `--socket-addr=http=127.0.0.1:${port}`,
      "--experimental",
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...settings }, stdout: "ignore", stderr: "ignore" },
  );
  try {
    for (;;) {
      const accepted = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
        (socket) => {
          socket.end();
          return true;
        },
        () => false,
      );
      if (accepted) break;
      if (performance.now() - spawned > 30_000) throw new Error("workerd did not listen within 30 s");
      await Bun.sleep(1);
    }
    const listeningMs = performance.now() - spawned;
    if (settleMs > 0) await Bun.sleep(settleMs);
    const sent = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`the first read answered ${response.status}`);
    const firstReadMs = performance.now() - sent;
    return { listeningMs, firstReadMs, cpuMs: cpuMs(child.pid) };
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

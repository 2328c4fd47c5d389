/**
 * Register throughput with schema evolution on, beside the registry as it
 * was before compatibility checks existed, in the same run.
 *
 *   baseline   the registry at BASELINE_REF (default 542575b, the last commit
 *              before schema evolution), checked out into a git worktree and
 *              loaded into this same process: a register is one SQL call
 *   candidate  this tree at BACKWARD (the default level): a register reads its
 *              subject's evolution context, checks the candidate against the
 *              latest version, derives the version, then commits
 *   NONE       this tree with compatibility NONE (the version still derived
 *              from the change), to show what the check itself costs
 *   Confluent  this tree at BACKWARD, registering through the Confluent API's
 *              port (`POST /subjects/{s}/versions`'s path): the same rate is
 *              the target
 *
 * Each registry gets a fresh database on the machine's PostgreSQL and the
 * same workload: SUBJECTS subjects with 5 prior versions each (registered
 * before timing), then one more version per subject (a new optional
 * property: compatible, so every register commits), CONCURRENCY at a time.
 * Rounds alternate between the registries and the median throughput ratio
 * is printed. Target: candidate ≥ 0.7x baseline.
 *
 * Run: ./node_modules/.bin/bun bench/registry/register.bench.ts
 * (BENCH_DATABASE_URL: an admin connection, default postgres://postgres@127.0.0.1:5432/postgres;
 *  BASELINE_REF, SUBJECTS (default 400), ROUNDS (default 3))
 */
import { execFileSync } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import postgres from "postgres";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const BASELINE_REF = process.env.BASELINE_REF ?? "542575b";
const SUBJECTS = Number(process.env.SUBJECTS ?? 400);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = 16;
const PRIOR_VERSIONS = 5;
const ROOT = resolve(import.meta.dir, "../..");

interface Service {
  register(input: { subject: string; schemaType: "json"; content: unknown }): Promise<unknown>;
}
interface Instance {
  name: string;
  service: Service;
  close(): Promise<void>;
}

/** The baseline's source tree: a detached worktree sharing this checkout's node_modules. */
function baselineTree(): string {
  const dir = join("/tmp", `registry-baseline-${BASELINE_REF}`);
  if (!existsSync(dir)) {
    execFileSync("git", ["-C", ROOT, "worktree", "add", "--detach", "--force", dir, BASELINE_REF], {
      stdio: "ignore",
    });
  }
  if (!existsSync(join(dir, "node_modules")))
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const databases: string[] = [];

async function freshDatabase(label: string): Promise<string> {
  const name = `registry_bench_${label}_${Date.now().toString(36)}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  databases.push(name);
  return Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
}

async function start(
  name: string,
  tree: string,
  env: Record<string, string>,
  through: "native" | "confluent" = "native",
): Promise<Instance> {
  const { loadConfig } = await import(join(tree, "src/app/config/load-config.ts"));
  const { createRegistry } = await import(join(tree, "src/app/create-registry.ts"));
  const config = await loadConfig({
    env: {
      DATABASE_URL: await freshDatabase(name.replace(/\W/g, "_").toLowerCase()),
      LOG_LEVEL: "error",
      CACHE_WARM_ON_STARTUP: "false",
      AUTH_REQUIRED: "false",
      ...env,
    },
  });
  const registry = await createRegistry(config);
  if (through === "confluent") {
    // Confluent's register takes the schema as text; the rest of the path is the same service.
    const service: Service = {
      register: (input) =>
        registry.confluent.register(input.subject, {
          schema: JSON.stringify(input.content),
          schemaType: "json",
          references: [],
        }),
    };
    return { name, service, close: () => registry.close() };
  }
  return { name, service: registry.service, close: () => registry.close() };
}

/** Version `v` of subject `s`'s schema: each adds an optional property, a compatible change. */
function content(s: number, v: number): unknown {
  const properties: Record<string, unknown> = { prompt: { type: "string", description: `subject ${s}` } };
  for (let i = 0; i <= v; i++) properties[`field_${i}`] = { type: "string", maxLength: 200 };
  return { type: "object", properties, required: ["prompt"] };
}

async function inParallel(count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

let round = 0;
/** One timed round on `instance`: a new subject set with its prior versions, then one more version each. */
async function measure(instance: Instance): Promise<number> {
  const prefix = `bench.r${round++}.s`;
  await inParallel(SUBJECTS * PRIOR_VERSIONS, (i) =>
    instance.service.register({
      subject: `${prefix}${i % SUBJECTS}`,
      schemaType: "json",
      content: content(i % SUBJECTS, Math.floor(i / SUBJECTS)),
    }),
  );
  const started = performance.now();
  await inParallel(SUBJECTS, (s) =>
    instance.service.register({
      subject: `${prefix}${s}`,
      schemaType: "json",
      content: content(s, PRIOR_VERSIONS),
    }),
  );
  return (SUBJECTS / (performance.now() - started)) * 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const instances = [
  await start("baseline", baselineTree(), {}),
  await start("BACKWARD", ROOT, { COMPATIBILITY_LEVEL: "BACKWARD" }),
  await start("NONE", ROOT, { COMPATIBILITY_LEVEL: "NONE" }),
  await start("Confluent", ROOT, { COMPATIBILITY_LEVEL: "BACKWARD" }, "confluent"),
];
try {
  const rates = new Map<string, number[]>(instances.map((i) => [i.name, []]));
  // One unmeasured round each warms the JIT and the pools.
  for (const instance of instances) await measure(instance);
  for (let r = 0; r < ROUNDS; r++) {
    for (const instance of instances) rates.get(instance.name)!.push(await measure(instance));
  }
  console.log(
    `registers/s at concurrency ${CONCURRENCY}, ${SUBJECTS} subjects with ${PRIOR_VERSIONS} prior versions:`,
  );
  for (const [name, values] of rates) {
    console.log(
      `  ${name.padEnd(9)} median ${median(values).toFixed(0)}/s  (rounds: ${values.map((v) => v.toFixed(0)).join(", ")})`,
    );
  }
  const base = median(rates.get("baseline")!);
  console.log(
    `  BACKWARD / baseline: ${(median(rates.get("BACKWARD")!) / base).toFixed(2)}x (target ≥ 0.70x)`,
  );
  console.log(`  NONE / baseline:     ${(median(rates.get("NONE")!) / base).toFixed(2)}x`);
  console.log(
    `  Confluent / BACKWARD: ${(median(rates.get("Confluent")!) / median(rates.get("BACKWARD")!)).toFixed(2)}x (target: the same rate)`,
  );
} finally {
  for (const instance of instances) await instance.close();
  for (const name of databases) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

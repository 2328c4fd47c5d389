/**
 * The same answers everywhere: the one HTTP suite (http-suite.ts) against the
 * registry served by Bun, by Deno with only `--allow-net --allow-env` (what
 * Deno Deploy grants), and by workerd as a Worker, each a real process on the
 * same PostgreSQL, Upstash (the bridge onto Redis) and S3 (s3rver).
 *
 * Also: what needs more than an edge host grants says so at start-up, naming
 * the setting (the embedded PGlite, a TOML file).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/lib/free-port.ts";
import { postgresAvailable } from "../support/database.ts";
import { requireRedis } from "../support/redis.ts";
import {
  type Backends,
  bundleWorker,
  HOSTS,
  type HostName,
  type HostProcess,
  hostEnv,
  ROOT,
  startBackends,
  startHost,
} from "./edge-hosts.ts";
import { HTTP_SUITE, newSuiteState } from "./http-suite.ts";

const available = (await postgresAvailable()) && (await requireRedis("the edge host suite"));
const DENO = join(ROOT, "node_modules/.bin/deno");
/** EDGE_HOSTS=bun,workerd runs only those (while working on one host); every host by default. */
const SELECTED = HOSTS.filter((host) => (process.env.EDGE_HOSTS?.split(",") ?? HOSTS).includes(host));

let backends: Backends;
beforeAll(async () => {
  if (!available) return;
  backends = await startBackends();
  if (SELECTED.includes("workerd")) await bundleWorker();
}, 120_000);
afterAll(async () => {
  await backends?.stop();
});

for (const host of SELECTED) {
  describe.skipIf(!available)(`the HTTP suite on ${host}`, () => {
    let running: HostProcess;
    const state = newSuiteState(host);
    beforeAll(async () => {
      running = await startHost(host as HostName, hostEnv(backends));
    }, 90_000);
    afterAll(async () => {
      await running?.stop();
    });
    for (const item of HTTP_SUITE) {
      test(item.name, async () => {
        try {
          await item.run(running.url, state);
        } catch (error) {
          // What the host logged is the first thing a failure needs.
          console.error(`${host} output:\n${running.output().slice(-4000)}`);
          throw error;
        }
      }, 30_000);
    }
  });
}

describe("Deno with an edge host's permissions: what needs more says so at start-up", () => {
  const runDeno = (env: Record<string, string>, cwd: string) =>
    Bun.spawnSync([DENO, "run", "--allow-net", "--allow-env", join(ROOT, "src/server.ts")], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        PORT: String(freePort()),
        ...env,
      },
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });

  test("no DATABASE_URL: the embedded PGlite is refused, naming DATABASE_URL", () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-edge-"));
    try {
      const run = runDeno({ AUTH_REQUIRED: "false" }, dir);
      const output = run.stdout.toString() + run.stderr.toString();
      expect(run.exitCode).toBe(1);
      expect(output).toContain(
        "DATABASE_URL: the embedded PGlite in DATA_DIR (./data) needs file system access",
      );
      expect(output).toContain("set DATABASE_URL to a PostgreSQL server");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  test("CONFIG_FILE: refused before anything starts, naming CONFIG_FILE (exit 2)", () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-edge-"));
    try {
      const file = join(dir, "registry.toml");
      writeFileSync(file, "[server]\nport = 8080\n");
      const run = runDeno({ CONFIG_FILE: file }, dir);
      const output = run.stdout.toString() + run.stderr.toString();
      expect(run.exitCode).toBe(2);
      expect(output).toContain(`CONFIG_FILE: cannot read ${file}: this host grants no file system access`);
      expect(output).toContain("give every setting as an environment variable");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

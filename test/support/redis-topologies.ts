/**
 * Redis as production runs it, started by a test from the machine's
 * redis-server on free ports and stopped by PID: a Sentinel setup (a primary,
 * a replica and one sentinel, quorum 1, a primary declared down after 500 ms
 * so a failover takes about a second) and a three-node Redis Cluster (three
 * primaries, no replicas: what the slot routing needs, at the least cost).
 * Each keeps its files in a temporary directory of its own, removed on stop.
 *
 * Start a topology once per test file (beforeAll); it takes a second or two.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { freePort } from "../../scripts/lib/free-port.ts";

export interface Endpoint {
  host: string;
  port: number;
}

const HOST = "127.0.0.1";

/**
 * True when redis-server and redis-cli are installed. When not: throws under
 * CI=true (a missing tool fails the run there), otherwise says loudly that
 * `suite` is skipped and returns false.
 */
export function requireRedisServer(suite: string): boolean {
  if (Bun.which("redis-server") !== null && Bun.which("redis-cli") !== null) return true;
  const reason = "redis-server or redis-cli is not installed";
  if (process.env.CI === "true")
    throw new Error(`${suite}: ${reason} (CI=true: a missing tool fails the run)`);
  console.warn(
    `\n${"!".repeat(78)}\n!! SKIPPING ${suite}: ${reason} (apt-get install redis-server).\n${"!".repeat(78)}\n`,
  );
  return false;
}

/** One redis-server process of a topology. */
export interface RedisProcess {
  readonly port: number;
  readonly alive: boolean;
  /** SIGKILL, as a crash: clients see their connections drop. */
  kill(): Promise<void>;
}

interface Spawned extends RedisProcess {
  /** stderr and the log file, for a start-up failure's message. */
  output(): Promise<string>;
}

/** Every redis-server still running, killed when the test process exits however it ends. */
const running = new Set<{ kill(signal: number): void }>();
process.once("exit", () => {
  for (const proc of running) proc.kill(9);
});

function spawnRedis(dir: string, name: string, args: string[]): Spawned {
  const log = join(dir, `${name}.log`);
  const proc = Bun.spawn(["redis-server", ...args, "--logfile", log], { stdout: "ignore", stderr: "pipe" });
  running.add(proc);
  let alive = true;
  void proc.exited.then(() => {
    alive = false;
    running.delete(proc);
  });
  return {
    port: Number(args[args.indexOf("--port") + 1]),
    get alive() {
      return alive && proc.exitCode === null;
    },
    async kill() {
      if (proc.exitCode !== null) return;
      proc.kill(9);
      await proc.exited;
    },
    async output() {
      const stderr = proc.exitCode !== null ? await new Response(proc.stderr).text() : "";
      const file = Bun.file(log);
      return `${stderr}${(await file.exists()) ? (await file.text()).slice(-2_000) : ""}`.trim();
    },
  };
}

/** Data-node arguments: no persistence, loopback only, the password if any. */
function dataNodeArgs(port: number, dir: string, password: string | undefined): string[] {
  const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir];
  // A replica's first sync would otherwise wait 5 s for more replicas to share it.
  args.push("--repl-diskless-sync-delay", "0");
  if (password !== undefined) args.push("--requirepass", password, "--masterauth", password);
  return args;
}

/** A client of one node, connecting once (no retries): for set-up, checks and fault injection. */
export function nodeClient(port: number, password?: string): Redis {
  const client = new Redis({
    host: HOST,
    port,
    ...(password !== undefined ? { password } : {}),
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
    lazyConnect: true,
  });
  client.on("error", () => {});
  return client;
}

/** Runs `command` on the node at `port`; null when it does not answer. */
async function ask(port: number, password: string | undefined, ...command: string[]): Promise<unknown> {
  const client = nodeClient(port, password);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** Polls `check` until it holds; throws `what` (with `detail()`) after `timeoutMs`. */
async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  detail: () => Promise<string> = async () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(25);
  }
  throw new Error(`${what} within ${timeoutMs} ms. ${await detail()}`);
}

// ---- Sentinel --------------------------------------------------------------

export interface SentinelOptions {
  /** requirepass (and masterauth) of the data nodes. */
  password?: string;
  /** requirepass of the sentinel. */
  sentinelPassword?: string;
}

export interface SentinelTopology {
  /** The monitored primary's name (`REDIS_SENTINEL_MASTER`). */
  readonly master: string;
  readonly sentinels: Endpoint[];
  readonly password: string | undefined;
  readonly sentinelPassword: string | undefined;
  /** The settings a registry instance reads, as environment variables. */
  readonly env: Record<string, string>;
  /** Data nodes by port (the primary and the replica, whichever is which now). */
  readonly nodes: ReadonlyMap<number, RedisProcess>;
  /** The port the sentinel names as the primary now. */
  primaryPort(): Promise<number>;
  /** A client of the data node at `port`, with the data nodes' password. */
  client(port: number): Redis;
  /** SENTINEL FAILOVER; resolves once the sentinel names the replica as primary. Returns the new port. */
  failover(timeoutMs?: number): Promise<number>;
  /** Kills the primary; resolves once the sentinel has promoted the replica. Returns the new port. */
  killPrimary(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const MASTER = "registry-primary";

export async function startSentinelTopology(options: SentinelOptions = {}): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), "redis-sentinel-"));
  const { password, sentinelPassword } = options;
  const primaryPort = freePort();
  const replicaPort = freePort();
  const sentinelPort = freePort();
  const nodes = new Map<number, Spawned>();
  let sentinel: Spawned | null = null;

  const stop = async () => {
    for (const node of nodes.values()) await node.kill();
    await sentinel?.kill();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const primary = spawnRedis(dir, "primary", dataNodeArgs(primaryPort, dir, password));
    nodes.set(primaryPort, primary);
    await waitFor(
      `the primary on port ${primaryPort} did not start`,
      async () => (await ask(primaryPort, password, "PING")) === "PONG",
      5_000,
      () => primary.output(),
    );
    const replica = spawnRedis(dir, "replica", [
      ...dataNodeArgs(replicaPort, dir, password),
      "--replicaof",
      HOST,
      String(primaryPort),
    ]);
    nodes.set(replicaPort, replica);
    await waitFor(
      `the replica on port ${replicaPort} did not sync`,
      async () =>
        String(await ask(replicaPort, password, "INFO", "replication")).includes("master_link_status:up"),
      10_000,
      () => replica.output(),
    );

    // A sentinel rewrites its configuration file: it must be a file of its own in a writable place.
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        ...(sentinelPassword !== undefined ? [`requirepass ${sentinelPassword}`] : []),
        `sentinel monitor ${MASTER} ${HOST} ${primaryPort} 1`,
        ...(password !== undefined ? [`sentinel auth-pass ${MASTER} ${password}`] : []),
        `sentinel down-after-milliseconds ${MASTER} 500`,
        `sentinel failover-timeout ${MASTER} 5000`,
        `sentinel parallel-syncs ${MASTER} 1`,
        "",
      ].join("\n"),
    );
    const started = spawnRedis(dir, "sentinel", [conf, "--sentinel", "--port", String(sentinelPort)]);
    sentinel = started;
    // Ready once it knows the replica: before that it has nothing to promote.
    await waitFor(
      `the sentinel on port ${sentinelPort} did not find the replica`,
      async () => {
        const replicas = await ask(sentinelPort, sentinelPassword, "SENTINEL", "REPLICAS", MASTER);
        return Array.isArray(replicas) && replicas.some((r) => flagsOf(r) === "slave");
      },
      15_000,
      () => started.output(),
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const askSentinel = (...command: string[]) => ask(sentinelPort, sentinelPassword, ...command);
  const currentPrimary = async (): Promise<number> => {
    const address = await askSentinel("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER);
    if (!Array.isArray(address)) throw new Error("the sentinel does not answer");
    return Number(address[1]);
  };
  /** The sentinel names another primary than `old`, and that node says it is one, and its replica (if any) is linked. */
  const promotedFrom = async (old: number, timeoutMs: number): Promise<number> => {
    let next = old;
    await waitFor(
      `the sentinel did not promote the replica of ${old}`,
      async () => {
        next = await currentPrimary().catch(() => old);
        if (next === old) return false;
        const role = await ask(next, password, "ROLE");
        return Array.isArray(role) && role[0] === "master";
      },
      timeoutMs,
    );
    return next;
  };

  const sentinels = [{ host: HOST, port: sentinelPort }];
  return {
    master: MASTER,
    sentinels,
    password,
    sentinelPassword,
    env: {
      REDIS_SENTINELS: `${HOST}:${sentinelPort}`,
      REDIS_SENTINEL_MASTER: MASTER,
      ...(password !== undefined ? { REDIS_PASSWORD: password } : {}),
      ...(sentinelPassword !== undefined ? { REDIS_SENTINEL_PASSWORD: sentinelPassword } : {}),
    },
    nodes,
    primaryPort: currentPrimary,
    client: (port) => nodeClient(port, password),
    async failover(timeoutMs = 15_000) {
      const old = await currentPrimary();
      // Refused while the previous failover is still being settled ("INPROG"): ask again.
      await waitFor(
        "SENTINEL FAILOVER was refused",
        async () => (await askSentinel("SENTINEL", "FAILOVER", MASTER)) === "OK",
        timeoutMs,
      );
      return promotedFrom(old, timeoutMs);
    },
    async killPrimary(timeoutMs = 15_000) {
      const old = await currentPrimary();
      await nodes.get(old)?.kill();
      return promotedFrom(old, timeoutMs);
    },
    stop,
  };
}

/** The `flags` field of a SENTINEL REPLICAS entry (a flat list of names and values). */
function flagsOf(entry: unknown): string | undefined {
  if (!Array.isArray(entry)) return undefined;
  const at = entry.indexOf("flags");
  return at >= 0 ? String(entry[at + 1]) : undefined;
}

// ---- Cluster ---------------------------------------------------------------

export interface ClusterOptions {
  /** requirepass (and masterauth) of every node. */
  password?: string;
}

export interface ClusterTopology {
  readonly nodes: Endpoint[];
  readonly password: string | undefined;
  /** The settings a registry instance reads, as environment variables. */
  readonly env: Record<string, string>;
  /** A cluster client, for checks (TTLs, CLUSTER KEYSLOT). */
  client(): Cluster;
  stop(): Promise<void>;
}

export async function startClusterTopology(options: ClusterOptions = {}): Promise<ClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const { password } = options;
  const processes: Spawned[] = [];
  const stop = async () => {
    for (const node of processes) await node.kill();
    rmSync(dir, { recursive: true, force: true });
  };

  const ports = [freePort(), freePort(), freePort()];
  try {
    for (const [i, port] of ports.entries()) {
      processes.push(
        spawnRedis(dir, `node${i}`, [
          ...dataNodeArgs(port, dir, password),
          "--cluster-enabled",
          "yes",
          // The bus port would be port + 10,000 by default, which may be taken or out of range.
          "--cluster-port",
          String(freePort()),
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          "2000",
        ]),
      );
    }
    for (const [i, port] of ports.entries()) {
      await waitFor(
        `cluster node ${port} did not start`,
        async () => (await ask(port, password, "PING")) === "PONG",
        5_000,
        () => processes[i]!.output(),
      );
    }
    const create = Bun.spawn(
      [
        "redis-cli",
        ...(password !== undefined ? ["-a", password, "--no-auth-warning"] : []),
        "--cluster",
        "create",
        ...ports.map((port) => `${HOST}:${port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if ((await create.exited) !== 0) {
      const out = `${await new Response(create.stdout).text()}${await new Response(create.stderr).text()}`;
      throw new Error(`redis-cli --cluster create failed: ${out.trim()}`);
    }
    await waitFor(
      "the cluster did not reach cluster_state:ok on every node",
      async () => {
        for (const port of ports) {
          const info = String(await ask(port, password, "CLUSTER", "INFO"));
          if (!info.includes("cluster_state:ok")) return false;
        }
        return true;
      },
      15_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const nodes = ports.map((port) => ({ host: HOST, port }));
  return {
    nodes,
    password,
    env: {
      REDIS_CLUSTER_NODES: nodes.map((node) => `${node.host}:${node.port}`).join(","),
      ...(password !== undefined ? { REDIS_PASSWORD: password } : {}),
    },
    client() {
      const cluster = new Cluster(nodes, {
        redisOptions: password !== undefined ? { password } : {},
      });
      cluster.on("error", () => {});
      return cluster;
    },
    stop,
  };
}

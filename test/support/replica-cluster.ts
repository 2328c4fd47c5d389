/**
 * A throwaway PostgreSQL primary with one streaming replica, built from the
 * machine's own binaries (initdb, pg_ctl, pg_basebackup) for the read-replica
 * tests: each cluster on a free port of 127.0.0.1, data directories under one
 * temp directory, everything stopped (`-m immediate`) and removed by `stop()`.
 * Tuned to start in a second or two (no fsync, small buffers) and never to
 * hold data anyone needs.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root every
 * command runs as the `postgres` user through `runuser`, and the temp
 * directory is handed to that user.
 *
 * The binaries are found in PG_BIN, or the newest /usr/lib/postgresql/<n>/bin.
 * When they are missing, CI (CI=true) fails the run; elsewhere the replica
 * suites are skipped with a loud warning.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { appendFile, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../../scripts/lib/free-port.ts";

const TOOLS = ["initdb", "pg_ctl", "pg_basebackup", "postgres"] as const;

export interface Tooling {
  bin: string;
  /** Prefix of every command: `runuser -u postgres --` when we are root. */
  asPostgres: string[];
  uid: number | null;
  gid: number | null;
}

function findBin(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    candidates.push(...versions.map((version) => join(root, version, "bin")));
  }
  return candidates.find((dir) => TOOLS.every((tool) => existsSync(join(dir, tool)))) ?? null;
}

function findTooling(): { tooling: Tooling } | { missing: string } {
  const bin = findBin();
  if (!bin) return { missing: `no ${TOOLS.join(", ")} in PG_BIN or /usr/lib/postgresql/*/bin` };
  if (process.getuid?.() !== 0) return { tooling: { bin, asPostgres: [], uid: null, gid: null } };
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) {
    return { missing: "running as root, and there is no `postgres` user to run PostgreSQL as" };
  }
  if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser") && !existsSync("/usr/bin/runuser")) {
    return { missing: "running as root, and runuser is not installed" };
  }
  return {
    tooling: {
      bin,
      asPostgres: ["runuser", "-u", "postgres", "--"],
      uid: Number(uid.stdout.trim()),
      gid: Number(gid.stdout.trim()),
    },
  };
}

let found: { tooling: Tooling } | { missing: string } | undefined;

/**
 * Whether a primary and a replica can be built here. Throws in CI when not;
 * elsewhere prints why the replica suites are skipped.
 */
export function replicaClusterAvailable(): boolean {
  found ??= findTooling();
  if ("tooling" in found) return true;
  if (process.env.CI === "true") {
    throw new Error(
      `cannot build a PostgreSQL replica for the tests: ${found.missing}. ` +
        "In CI the read-replica suites must run; install the PostgreSQL server binaries or set PG_BIN.",
    );
  }
  console.warn(
    [
      "",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      `!! Cannot build a PostgreSQL primary and replica: ${found.missing}`,
      "!! SKIPPING the read-replica suites (CI never skips). Set PG_BIN to run them.",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      "",
    ].join("\n"),
  );
  return false;
}

/** The binaries and the user to run them as; throws when they are missing (see replicaClusterAvailable). */
export function tooling(): Tooling {
  found ??= findTooling();
  if (!("tooling" in found)) throw new Error(found.missing);
  return found.tooling;
}

/** Runs a command to its end; rejects with its output when it fails, unless told to allow that. */
export function run(command: string[], options: { allowFailure?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 || options.allowFailure) resolve(output);
      else reject(new Error(`${command.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

export interface ReplicaCluster {
  primaryUrl: string;
  replicaUrl: string;
  /** A small client of each server, for what the tests do behind the registry's back. */
  primary: postgres.Sql;
  replica: postgres.Sql;
  /** Stops applying WAL on the replica (it keeps receiving it), until resumeReplay. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Resolves once the replica has replayed everything the primary has written so far. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** `pg_ctl stop -m immediate` on the replica: connections drop at once. */
  killReplica(): Promise<void>;
  startReplica(): Promise<void>;
  stop(): Promise<void>;
}

/** Data directories of running clusters, stopped when the process exits (private-postgres.ts adds its own). */
export const clusters = new Set<string>();

// A test run that dies must not leave servers running: stop whatever is still up.
process.once("exit", () => {
  const tools = found && "tooling" in found ? found.tooling : null;
  if (!tools) return;
  for (const dataDir of clusters) {
    const command = [
      ...tools.asPostgres,
      join(tools.bin, "pg_ctl"),
      "stop",
      "-D",
      dataDir,
      "-m",
      "immediate",
    ];
    spawnSync(command[0]!, command.slice(1), { stdio: "ignore" });
  }
});

/**
 * `initdb` of a throwaway cluster in `dataDir` (trust authentication, UTF8, C
 * locale), listening on 127.0.0.1:`port` with its socket in `socketDir`,
 * tuned for speed over durability; `settings` are added to postgresql.conf.
 */
export async function initDataDir(
  dataDir: string,
  port: number,
  socketDir: string,
  settings: readonly string[] = [],
): Promise<void> {
  const tools = tooling();
  await run([
    ...tools.asPostgres,
    join(tools.bin, "initdb"),
    "-D",
    dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ]);
  // initdb's pg_hba.conf with -A trust already trusts replication connections from 127.0.0.1.
  await appendFile(
    join(dataDir, "postgresql.conf"),
    [
      "",
      "# throwaway test cluster: speed over durability",
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${socketDir}'`,
      "fsync = off",
      "full_page_writes = off",
      "shared_buffers = 16MB",
      "max_connections = 100",
      ...settings,
      "",
    ].join("\n"),
  );
}

export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const tools = tooling();
  const bin = (tool: string) => [...tools.asPostgres, join(tools.bin, tool)];
  const dir = await mkdtemp(join(tmpdir(), "registry-replicas-"));
  if (tools.uid !== null && tools.gid !== null) await chown(dir, tools.uid, tools.gid);
  const primaryDir = join(dir, "primary");
  const replicaDir = join(dir, "replica");
  const [primaryPort, replicaPort] = [freePort(), freePort()];
  const started: string[] = [];

  const pgCtl = (dataDir: string, ...args: string[]) =>
    run([...bin("pg_ctl"), "-D", dataDir, "-l", `${dataDir}.log`, "-w", "-t", "30", ...args]);
  const stopCluster = async (dataDir: string) => {
    await run([...bin("pg_ctl"), "stop", "-D", dataDir, "-m", "immediate"], { allowFailure: true });
    clusters.delete(dataDir);
  };

  let primary: postgres.Sql | null = null;
  let replica: postgres.Sql | null = null;
  try {
    await initDataDir(primaryDir, primaryPort, dir, [
      "wal_level = replica",
      "max_wal_senders = 4",
      "wal_keep_size = 128MB",
      "hot_standby = on",
      "hot_standby_feedback = on",
    ]);
    await pgCtl(primaryDir, "start");
    started.push(primaryDir);
    clusters.add(primaryDir);

    await run([
      ...bin("pg_basebackup"),
      "-h",
      "127.0.0.1",
      "-p",
      String(primaryPort),
      "-U",
      "postgres",
      "-D",
      replicaDir,
      "-R",
      "-X",
      "stream",
      "-c",
      "fast",
      "--no-sync",
    ]);
    // The copied postgresql.conf names the primary's port; the last setting in the file wins.
    await appendFile(join(replicaDir, "postgresql.conf"), `\nport = ${replicaPort}\n`);
    await pgCtl(replicaDir, "start");
    started.push(replicaDir);
    clusters.add(replicaDir);

    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
    const client = (url: string) => postgres(url, { max: 2, onnotice: () => {}, idle_timeout: 5 });
    primary = client(primaryUrl);
    replica = client(replicaUrl);
    const primarySql = primary;
    let replicaSql = replica;

    const cluster: ReplicaCluster = {
      primaryUrl,
      replicaUrl,
      primary: primarySql,
      get replica() {
        return replicaSql;
      },
      async pauseReplay() {
        await replicaSql`SELECT pg_wal_replay_pause()`;
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          const [row] = await replicaSql<
            { state: string }[]
          >`SELECT pg_get_wal_replay_pause_state() AS state`;
          if (row?.state === "paused") return;
          await Bun.sleep(5);
        }
        throw new Error("the replica did not pause its replay within 10 s");
      },
      async resumeReplay() {
        await replicaSql`SELECT pg_wal_replay_resume()`;
      },
      async waitForReplay(timeoutMs = 10_000) {
        const [row] = await primarySql<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const [caught] = await replicaSql<{ done: boolean }[]>`
            SELECT pg_last_wal_replay_lsn() >= ${row!.lsn}::pg_lsn AS done`;
          if (caught?.done) return;
          await Bun.sleep(5);
        }
        throw new Error(`the replica did not replay up to ${row!.lsn} within ${timeoutMs} ms`);
      },
      async killReplica() {
        await replicaSql.end({ timeout: 0 });
        await stopCluster(replicaDir);
      },
      async startReplica() {
        await pgCtl(replicaDir, "start");
        clusters.add(replicaDir);
        replicaSql = client(replicaUrl);
      },
      async stop() {
        await Promise.allSettled([primarySql.end({ timeout: 1 }), replicaSql.end({ timeout: 1 })]);
        for (const dataDir of [replicaDir, primaryDir]) await stopCluster(dataDir);
        await rm(dir, { recursive: true, force: true });
      },
    };
    return cluster;
  } catch (error) {
    await Promise.allSettled([primary?.end({ timeout: 0 }), replica?.end({ timeout: 0 })]);
    for (const dataDir of started.reverse()) await stopCluster(dataDir);
    const logs = await Promise.all(
      [primaryDir, replicaDir].map(async (d) => {
        const file = Bun.file(`${d}.log`);
        return (await file.exists()) ? `--- ${d}.log ---\n${await file.text()}` : "";
      }),
    );
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs.join("\n")}`);
  }
}

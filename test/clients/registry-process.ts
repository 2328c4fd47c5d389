/**
 * A registry served the way a user runs it: `bun src/server.ts` as a child
 * process on a free port of 127.0.0.1, on a fresh database of the machine's
 * PostgreSQL (dropped on stop). The Confluent clients and the backup scripts
 * talk to it over real HTTP, so what they see is what a deployment answers,
 * headers, content types and status codes included.
 */
import { join } from "node:path";
import { freePort } from "../../scripts/lib/free-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const ROOT = join(import.meta.dir, "../..");
const START_TIMEOUT_MS = 20_000;

export interface RegistryProcess {
  url: string;
  database: TestDatabase;
  /** What the server wrote so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export async function startRegistryProcess(env: Record<string, string> = {}): Promise<RegistryProcess> {
  const database = await createTestDatabase();
  const port = freePort();
  const child = Bun.spawn([process.execPath, "src/server.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: String(port),
      DATABASE_URL: database.url,
      DATABASE_MAX_CONNECTIONS: "5",
      LOG_LEVEL: "warn",
      CACHE_WARM_ON_STARTUP: "false",
      // Auth off unless a test turns it on (a PostgreSQL DATABASE_URL would turn it on by default).
      AUTH_REQUIRED: "false",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
    }
  };
  void drain(child.stdout as ReadableStream<Uint8Array>);
  void drain(child.stderr as ReadableStream<Uint8Array>);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) child.kill("SIGKILL");
    }
    await database.drop();
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await database.drop();
      throw new Error(`bun src/server.ts exited with ${child.exitCode}:\n${output}`);
    }
    const live = await fetch(`${url}/health/live`).catch(() => null);
    if (live?.ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`bun src/server.ts did not answer within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await Bun.sleep(50);
  }
  return { url, database, output: () => output, stop };
}

/**
 * Fails with one clear sentence when the server has no Confluent API at its
 * root, so a run before the routes exist says so instead of a client's stack.
 */
export async function requireConfluentApi(url: string): Promise<void> {
  const response = await fetch(`${url}/subjects`);
  const text = await response.text();
  if (response.status !== 200 || !text.trimStart().startsWith("[")) {
    throw new Error(
      `GET ${url}/subjects answered ${response.status} ${text.slice(0, 200)}: ` +
        "the registry serves no Confluent Schema Registry API at its root (src/http/confluent/)",
    );
  }
}

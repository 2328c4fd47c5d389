/**
 * A registry served the way a user runs it: `bun src/server.ts` as a child
 * process on a free port of 127.0.0.1, on a fresh database of the machine's
 * PostgreSQL (dropped on stop). The Confluent clients and the backup scripts
 * talk to it over real HTTP, so what they see is what a deployment answers,
 * headers, content types and status codes included.
 */
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type ServerProcess, startServerProcess } from "../support/server-process.ts";

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
  let server: ServerProcess;
  try {
    server = await startServerProcess({
      name: "bun src/server.ts",
      command: () => [process.execPath, "src/server.ts"],
      cwd: ROOT,
      env: {
        DATABASE_URL: database.url,
        DATABASE_MAX_CONNECTIONS: "5",
        LOG_LEVEL: "warn",
        CACHE_WARM_ON_STARTUP: "false",
        // Auth off unless a test turns it on (a PostgreSQL DATABASE_URL would turn it on by default).
        AUTH_REQUIRED: "false",
        ...env,
      },
      timeoutMs: START_TIMEOUT_MS,
      answered: (status) => status >= 200 && status < 300,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    url: server.url,
    database,
    output: server.output,
    async stop() {
      await server.stop();
      await database.drop();
    },
  };
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

/**
 * What the fault tests share: the registry built by the real composition root
 * and served over real HTTP (Bun.serve on a free port, so clients wait on
 * sockets the way production clients do), its log lines kept for the test to
 * read, and timed calls.
 *
 * FAULT_PROFILE=long lengthens the outages and the loads (see the README's
 * "Failure behaviour"); the default profile keeps each test to a few seconds.
 */
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry, type RegistryOptions } from "../../src/app/create-registry.ts";
import { createLogger } from "../../src/observability/logger.ts";

export const LONG_PROFILE = process.env.FAULT_PROFILE === "long";

export interface Timed {
  status: number;
  ms: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted on field by field
  body: any;
  /** When the call started, ms since the harness started. */
  at: number;
}

export interface FaultRegistry {
  registry: Registry;
  base: string;
  /** Every log line so far, parsed. */
  logs: { level: string; message: string; [field: string]: unknown }[];
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Timed>;
  /** ms since the harness started (the `at` of calls). */
  now(): number;
  close(): Promise<void>;
}

export async function startFaultRegistry(
  env: Record<string, string>,
  options: Pick<RegistryOptions, "objectStore"> = {},
): Promise<FaultRegistry> {
  const logs: FaultRegistry["logs"] = [];
  const logger = createLogger("info", (line) => {
    const parsed = JSON.parse(line);
    // Access-log lines are one per request: thousands, and nothing a fault test reads.
    if (parsed.message !== "request") logs.push(parsed);
  });
  const config = await loadConfig({
    env: {
      AUTH_REQUIRED: "false",
      COMPATIBILITY_LEVEL: "NONE",
      CACHE_WARM_ON_STARTUP: "false",
      DATABASE_MAX_CONNECTIONS: "10",
      ...env,
    },
  });
  const registry = await createRegistry(config, { logger, ...options });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: registry.fetch, idleTimeout: 60 });
  const base = `http://127.0.0.1:${server.port}`;
  const started = performance.now();
  const now = () => performance.now() - started;

  return {
    registry,
    base,
    logs,
    now,
    async call(method, path, body, headers = {}) {
      const at = now();
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
      }
      const response = await fetch(base + path, init);
      const text = await response.text();
      const ms = now() - at;
      let parsed: unknown = text;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        // Not JSON: kept as text.
      }
      return { status: response.status, ms, headers: response.headers, body: parsed, at };
    },
    async close() {
      server.stop(true);
      await registry.close();
    },
  };
}

/** A small JSON Schema whose content differs with `n`. */
export function schemaContent(n: number, padding = 0): Record<string, unknown> {
  return {
    type: "object",
    properties: { prompt: { type: "string" }, [`field_${n}`]: { type: "integer" } },
    ...(padding > 0 ? { description: "x".repeat(padding) } : {}),
  };
}

export function registerBody(subject: string, n: number, padding = 0): Record<string, unknown> {
  return { subject, schema_type: "json", content: schemaContent(n, padding) };
}

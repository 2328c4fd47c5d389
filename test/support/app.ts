/**
 * The registry as the HTTP tests see it: started through the real composition
 * root (createRegistry) on a fresh database of the machine's PostgreSQL, or on
 * PGlite, and driven with `app.request()` (no server, no port). `snapshot()`
 * reads every stored row straight from the database, so a test can show that
 * a bad request changed nothing.
 */
import postgres from "postgres";
import type { Config } from "../../src/app/config/config-schema.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry, type RegistryOptions } from "../../src/app/create-registry.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

/** Response bodies are asserted on field by field; typing each one would only restate the OpenAPI document. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type JsonBody = any;

export interface ApiResponse<T = JsonBody> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else the text. */
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body, sent as it is (with `headers` saying what it is). */
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export interface DatabaseSnapshot {
  schemas: Record<string, unknown>[];
  history: Record<string, unknown>[];
}

export interface TestRegistry {
  registry: Registry;
  config: Config;
  request<T = JsonBody>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = JsonBody>(path: string, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  post<T = JsonBody>(path: string, body: unknown): Promise<ApiResponse<T>>;
  /** Every row of the tables that hold user data, in a stable order. */
  snapshot(): Promise<DatabaseSnapshot>;
  close(): Promise<void>;
}

export interface TestRegistryOptions {
  /** "postgres": a fresh database on the machine's server (dropped on close); a URL: that database. */
  database: "postgres" | `pglite://${string}` | `postgres://${string}`;
  /** Extra environment, as an operator would set it (MAX_SCHEMA_BYTES, …). */
  env?: Record<string, string>;
  extend?: RegistryOptions["extend"];
  /** Object-store settings configuration does not carry (s3rver's credentials). */
  objectStore?: RegistryOptions["objectStore"];
}

export async function startTestRegistry(options: TestRegistryOptions): Promise<TestRegistry> {
  let testDatabase: TestDatabase | null = null;
  let url: string = options.database;
  if (options.database === "postgres") {
    testDatabase = await createTestDatabase();
    url = testDatabase.url;
  }
  const config = await loadConfig({
    // Auth off unless a test turns it on (a PostgreSQL DATABASE_URL would turn it on by default).
    env: {
      LOG_LEVEL: "silent",
      DATABASE_URL: url,
      DATABASE_MAX_CONNECTIONS: "10",
      AUTH_REQUIRED: "false",
      ...options.env,
    },
  });
  let registry: Registry;
  try {
    registry = await createRegistry(config, {
      ...(options.extend ? { extend: options.extend } : {}),
      ...(options.objectStore ? { objectStore: options.objectStore } : {}),
    });
  } catch (error) {
    await testDatabase?.drop();
    throw error;
  }

  // PGlite's socket takes one connection beyond the backend's pool: this one.
  const sql = postgres(registry.database.url, { max: 1, onnotice: () => {}, idle_timeout: 1 });

  const request = async (method: string, path: string, requestOptions: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    let body: BodyInit | undefined = requestOptions.raw;
    if (requestOptions.body !== undefined) {
      body = JSON.stringify(requestOptions.body);
      headers["Content-Type"] ??= "application/json";
    }
    const response = await registry.app.request(path, { method, headers, body });
    const text = await response.text();
    const isJson = /json/.test(response.headers.get("Content-Type") ?? "") && text.length > 0;
    return {
      status: response.status,
      headers: response.headers,
      body: isJson ? JSON.parse(text) : text,
      text,
    };
  };

  return {
    registry,
    config,
    request,
    get: (path, headers) => request("GET", path, headers ? { headers } : {}),
    post: (path, body) => request("POST", path, { body }),
    async snapshot() {
      const schemas = await sql`SELECT * FROM schemas ORDER BY global_id`;
      const history = await sql`SELECT * FROM schema_state_history ORDER BY id`;
      return { schemas: [...schemas], history: [...history] };
    },
    async close() {
      await sql.end({ timeout: 1 });
      await registry.close();
      await testDatabase?.drop();
    },
  };
}

/** A small valid JSON Schema whose content differs with `n`. */
export function jsonSchema(n = 0): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { prompt: { type: "string" }, [`field_${n}`]: { type: "integer" } },
    required: ["prompt"],
  };
}

/** One API call through `app.request()`, JSON in and out: for tests that drive several registries at once. */
export async function callApi(
  registry: Registry,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: JsonBody }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  const response = await registry.app.request(path, init);
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : null };
}

/** One request through `app.request()` with `key` as Bearer credentials and `body`, if given, as JSON: the raw Response. */
export async function requestWithKey(
  registry: Registry,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<Response> {
  return registry.app.request(path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** How many times the backend has run `operation`, from the query-duration histogram of /metrics. */
export async function backendQueryCount(registry: Registry, operation: string): Promise<number> {
  const prefix = `schema_registry_db_query_duration_seconds_count{operation="${operation}"}`;
  const line = (await registry.metrics.expose()).split("\n").find((l) => l.startsWith(prefix));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** A registry driven through `app.request()`, for tests that run several instances on one database. */
export interface RegistryInstance {
  registry: Registry;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }>;
  /** How many times the backend ran `operation` (the instrumented backend's histogram count). */
  queries(operation: string): Promise<number>;
}

/** Starts one instance on `databaseUrl`, without warm-up, with the environment and cache options given. */
export async function startRegistryInstance(
  databaseUrl: string,
  env: Record<string, string>,
  cache: RegistryOptions["cache"],
): Promise<RegistryInstance> {
  const config = await loadConfig({
    env: {
      LOG_LEVEL: "silent",
      DATABASE_URL: databaseUrl,
      DATABASE_MAX_CONNECTIONS: "10",
      CACHE_WARM_ON_STARTUP: "false",
      AUTH_REQUIRED: "false",
      ...env,
    },
  });
  const registry = await createRegistry(config, cache ? { cache } : {});
  return {
    registry,
    call: (method, path, body) => callApi(registry, method, path, body),
    queries: (operation) => backendQueryCount(registry, operation),
  };
}

/** Polls `read` until `done` holds; resolves to the milliseconds it took. */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (done(await read())) return performance.now() - started;
    await Bun.sleep(1);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * The entry point: `bun src/server.ts` or `deno task start` serve the registry
 * on HOST:PORT (HOST defaults to 127.0.0.1 on the embedded database and to
 * every interface with DATABASE_URL: `listenHost`). Configuration is loaded
 * and validated once; a bad value stops start-up with the setting's name
 * (exit 2). The runtime's own API (server,
 * signals, environment) is reached only through its driver (src/runtime/).
 *
 * On SIGTERM or SIGINT: stop taking new requests, let the requests in
 * flight finish (up to SHUTDOWN_GRACE_MS, then their connections are
 * closed), close the registry (which flushes the read-count access log and
 * closes the pools), write the last log lines, exit 0. A second signal while
 * stopping exits at once with 1.
 */
import { listenHost } from "./app/config/config-schema.ts";
import { ConfigError, loadConfig } from "./app/config/load-config.ts";
import { readConfigFile } from "./app/config/read-config-file.ts";
import { createRegistry } from "./app/create-registry.ts";
import { createLogSink } from "./observability/log-sink.ts";
import { createLogger } from "./observability/logger.ts";
import { loadRuntime, type StopSignal } from "./runtime/runtime.ts";

/** How long requests in flight get to finish once a stop signal came (orchestrators wait 30 s by default). */
export const SHUTDOWN_GRACE_MS = 20_000;

const startedAt = performance.now();
const runtime = await loadRuntime();
const sink = createLogSink();

const config = await loadConfig({
  env: runtime.env(),
  argv: runtime.args(),
  readFile: readConfigFile,
}).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    return runtime.exit(2);
  }
  throw error;
});

const logger = createLogger(config.server.logLevel, sink.write);
const registry = await createRegistry(config, { logger }).catch((error: unknown) => {
  logger.error("the registry could not start", { error });
  sink.flush();
  return runtime.exit(1);
});
registry.metrics.watchProcess(() => runtime.memory());

const host = listenHost(config);
const server = runtime.serve({
  hostname: host,
  port: config.server.port,
  fetch: registry.fetch,
  // Bun's own cap (128 MiB) must not cut in before the app's, whatever MAX_SCHEMA_BYTES is.
  maxRequestBodySize: registry.bodyLimit + 1024 * 1024,
});

let stopping = false;
runtime.onStopSignal((signal) => {
  if (stopping) {
    logger.warn(`${signal} while stopping: exiting now`);
    sink.flush();
    runtime.exit(1);
  }
  stopping = true;
  void stop(signal);
});

logger.info(`schema registry listening on http://${host.includes(":") ? `[${host}]` : host}:${server.port}`, {
  runtime: `${runtime.name} ${runtime.version}`,
  storage: registry.storageMode,
  startup_ms: Math.round(performance.now() - startedAt),
});

async function stop(signal: StopSignal): Promise<void> {
  logger.info(`${signal}: no longer taking new requests; finishing the requests in flight`);
  let code = 0;
  try {
    const drained = await settlesWithin(server.shutdown(), SHUTDOWN_GRACE_MS);
    if (!drained) {
      logger.warn(`requests still in flight after ${SHUTDOWN_GRACE_MS} ms: closing their connections`);
      await server.forceClose();
    }
    await registry.close();
    logger.info("stopped", { uptime_s: Math.round(performance.now() - startedAt) / 1000 });
  } catch (error) {
    logger.error("stopping the registry failed", { error });
    code = 1;
  }
  sink.flush();
  runtime.exit(code);
}

async function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

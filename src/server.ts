/**
 * The entry point: `bun src/server.ts` (and `deno serve`) serve the registry
 * on PORT. Configuration is loaded and validated once; a bad value stops
 * start-up with the setting's name. SIGINT/SIGTERM close the registry, which
 * flushes the access log and closes the pool, before the process exits.
 */
import { ConfigError, loadConfig } from "./config/load-config.ts";
import { readConfigFile } from "./config/read-config-file.ts";
import { bodyLimitFor } from "./http/app.ts";
import { createRegistry } from "./registry/create-registry.ts";
import { createLogger } from "./registry/logger.ts";

const startedAt = performance.now();

const config = await loadConfig({
  env: process.env,
  argv: process.argv.slice(2),
  readFile: readConfigFile,
}).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
});

const logger = createLogger(config.server.logLevel);
const registry = await createRegistry(config, { logger });

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: closing the registry`);
    try {
      await registry.close();
      process.exit(0);
    } catch (error) {
      logger.error("closing the registry failed", { error });
      process.exit(1);
    }
  });
}

logger.info(
  `schema registry listening on http://localhost:${config.server.port} (storage: ${registry.storageMode}; started in ${Math.round(performance.now() - startedAt)} ms)`,
);

export default {
  port: config.server.port,
  fetch: registry.app.fetch,
  // Bun's own cap (128 MiB) must not cut in before the app's, whatever MAX_SCHEMA_BYTES is.
  maxRequestBodySize: bodyLimitFor(registry.limits) + 1024 * 1024,
};

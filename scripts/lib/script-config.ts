/**
 * Configuration for the command-line scripts, read exactly as the server
 * reads it (environment, CONFIG_FILE or --config <file>), so a script always
 * acts on the database and bucket the server would use.
 */
import type { Config } from "../../src/app/config/config-schema.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { readConfigFile } from "../../src/app/config/read-config-file.ts";

export function loadScriptConfig(argv: readonly string[] = process.argv.slice(2)): Promise<Config> {
  return loadConfig({ env: process.env, argv, readFile: readConfigFile });
}

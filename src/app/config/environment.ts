/**
 * The table of settings as the operator sees it — TOML key, environment
 * variable, default — read off the schema (config-schema.ts), where each
 * setting declares all three. The environment overrides the TOML file; its
 * values are checked by the same rules as the file's.
 */
import * as v from "valibot";
import { ConfigSchema } from "./config-schema.ts";
import { envVariableOf } from "./rules.ts";

export interface Setting {
  /** Dotted TOML key, e.g. `storage.pool.max_connections`. */
  key: string;
  /** The environment variable that sets it too, if any. */
  env?: string;
  /** The schema's default; undefined or null when absent means "not set" (see the README for what that does). */
  default?: unknown;
}

type Entries = Record<string, v.GenericSchema>;

/** The entries of a section, whether it is given as is or as `v.optional(section, {})`. */
function entriesOf(schema: v.GenericSchema): Entries | undefined {
  const node = schema as { entries?: Entries; wrapped?: { entries?: Entries } };
  return node.entries ?? node.wrapped?.entries;
}

function settingsOf(entries: Entries, prefix = ""): Setting[] {
  return Object.entries(entries).flatMap(([name, schema]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    const nested = entriesOf(schema);
    if (nested) return settingsOf(nested, key);
    const env = envVariableOf(schema);
    return [{ key, ...(env ? { env } : {}), default: v.getDefault(schema as never) }];
  });
}

export const SETTINGS: readonly Setting[] = settingsOf(ConfigSchema.entries);

/** Environment variable → the TOML key it sets. */
export const ENV_BINDINGS: Readonly<Record<string, string>> = Object.fromEntries(
  SETTINGS.flatMap((setting) => (setting.env ? [[setting.env, setting.key]] : [])),
);

/** Names the configuration file; `--config <path>` on the command line wins over it. */
export const CONFIG_FILE_ENV = "CONFIG_FILE";

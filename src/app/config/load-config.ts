/**
 * Loads the configuration once at start-up: defaults ← TOML file ← environment.
 *
 * Pure apart from the injected `readFile`, so tests give it plain objects.
 * Every value is checked by the one schema of config-schema.ts; a bad value
 * stops start-up with a ConfigError naming the setting as the operator wrote
 * it (the environment variable or the TOML key) and where it came from.
 */
import * as v from "valibot";
import { type Config, ConfigSchema } from "./config-schema.ts";
import { CONFIG_FILE_ENV, ENV_BINDINGS } from "./environment.ts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    message: string,
    /** The environment variable or TOML key at fault. */
    readonly setting: string,
    /** "environment", "config file <path>", "command line" or "not set". */
    readonly source: string,
  ) {
    super(message);
  }
}

export interface ConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  /** Command-line arguments; only `--config <path>` / `--config=<path>` is read. */
  argv?: readonly string[];
  /** Reads the TOML file; needed only when one is named. */
  readFile?: (path: string) => string | Promise<string>;
}

type Tree = Record<string, unknown>;

interface Origin {
  setting: string;
  source: string;
}

export async function loadConfig(sources: ConfigSources): Promise<Config> {
  const file = configFilePath(sources);
  const raw: Tree = file ? await readToml(file, sources.readFile) : {};
  const fileSource = file ? `config file ${file.path}` : "";

  // Where each key's value came from, for error messages.
  const origins = new Map<string, Origin>();
  for (const path of leafPaths(raw)) origins.set(path, { setting: path, source: fileSource });

  for (const [name, path] of Object.entries(ENV_BINDINGS)) {
    const value = sources.env[name];
    // An empty variable counts as unset, as `FOO= cmd` usually means "no FOO".
    if (value === undefined || value.trim() === "") continue;
    setPath(raw, path, value);
    origins.set(path, { setting: name, source: "environment" });
  }

  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    // A bad value is reported before a rule between values, which may only follow from it.
    const issue = result.issues.find((found) => found.type !== "partial_check") ?? result.issues[0];
    const path = v.getDotPath(issue) ?? "";
    const origin = originOf(path, origins, fileSource);
    if (issue.type === "partial_check") {
      throw new ConfigError(
        `${origin.setting}: ${issue.message} (${origin.source})`,
        origin.setting,
        origin.source,
      );
    }
    const unknownKey =
      issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never";
    if (unknownKey) {
      throw new ConfigError(`${path}: unknown setting (${origin.source})`, path, origin.source);
    }
    const got = path === "" ? issue.input : getPath(raw, path);
    throw new ConfigError(
      `${origin.setting}: ${issue.message}, got ${show(path, got === undefined ? issue.input : got)} (${origin.source})`,
      origin.setting,
      origin.source,
    );
  }
  return result.output;
}

function configFilePath(sources: ConfigSources): { path: string; origin: Origin } | null {
  const argv = sources.argv ?? [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--config") {
      const path = argv[i + 1];
      if (!path || path.startsWith("--")) {
        throw new ConfigError(
          "--config: expected a file path after it (command line)",
          "--config",
          "command line",
        );
      }
      return { path, origin: { setting: "--config", source: "command line" } };
    }
    if (arg.startsWith("--config=")) {
      const path = arg.slice("--config=".length);
      if (!path)
        throw new ConfigError("--config: expected a file path (command line)", "--config", "command line");
      return { path, origin: { setting: "--config", source: "command line" } };
    }
  }
  const fromEnv = sources.env[CONFIG_FILE_ENV]?.trim();
  if (fromEnv) return { path: fromEnv, origin: { setting: CONFIG_FILE_ENV, source: "environment" } };
  return null;
}

async function readToml(
  file: { path: string; origin: Origin },
  readFile: ConfigSources["readFile"],
): Promise<Tree> {
  const { setting, source } = file.origin;
  if (!readFile) {
    throw new ConfigError(
      `${setting}: no file reader was given to read ${file.path} (${source})`,
      setting,
      source,
    );
  }
  let text: string;
  try {
    text = await readFile(file.path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${setting}: cannot read ${file.path}: ${reason} (${source})`, setting, source);
  }
  // Loaded only here: an edge isolate, which has no file, never evaluates the TOML parser.
  const { parse: parseToml } = await import("smol-toml");
  try {
    return parseToml(text) as Tree;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${file.path}: not valid TOML: ${reason}`, file.path, `config file ${file.path}`);
  }
}

/** The origin of a key, or of the nearest enclosing key that was set. */
function originOf(path: string, origins: Map<string, Origin>, fileSource: string): Origin {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const origin = origins.get(parts.slice(0, n).join("."));
    if (origin) return origin;
  }
  // A whole section of the wrong type, or a key nobody set (cross-field rules).
  for (const [name, bound] of Object.entries(ENV_BINDINGS)) {
    if (bound === path) return { setting: name, source: `not set; TOML key ${path}` };
  }
  return { setting: path, source: fileSource || "not set" };
}

function leafPaths(tree: Tree, prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      out.push(path, ...leafPaths(value as Tree, path));
    } else out.push(path);
  }
  return out;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    // A TOML value of the wrong type where a section belongs is left to the schema to report.
    if (next === undefined) node[part] = {};
    else if (next === null || typeof next !== "object" || Array.isArray(next)) return;
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

/** Values are echoed in errors, but never a token or a password. */
function show(path: string, value: unknown): string {
  if (/token|_key$/.test(path)) return "(hidden)";
  if (typeof value === "string") return JSON.stringify(value.replace(/(\/\/[^:/@]*:)[^@/]*@/, "$1***@"));
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

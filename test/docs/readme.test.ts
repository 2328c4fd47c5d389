/**
 * The README's configuration reference stays complete and true: every
 * environment variable the configuration reads is documented there, every
 * TOML key of the configuration schema appears in it, and each key's row
 * names the same variable and default as the schema's declaration.
 */
import { describe, expect, test } from "bun:test";
import { CONFIG_FILE_ENV, ENV_BINDINGS, SETTINGS, type Setting } from "../../src/app/config/environment.ts";
import { camelCase } from "../../src/app/config/rules.ts";
import { DEFAULT_LIMITS, type Limits } from "../../src/domain/limits.ts";

const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();

const KIB = 1024;
const MIB = 1024 * KIB;

/** The cells of the table row that documents `key`, trimmed; undefined without one. */
function rowOf(key: string): string[] | undefined {
  const line = readme.split("\n").find((text) => text.startsWith("|") && text.includes(` \`${key}\` `));
  return line
    ?.split("|")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/** A default as the README writes it: byte sizes in KiB or MiB, strings as code, no list as "none". */
function shown(key: string, value: unknown): string {
  if (typeof value === "string") return `\`${value}\``;
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(", ");
  if (typeof value === "number" && key.endsWith("_bytes")) {
    if (value >= MIB && value % MIB === 0) return `${value / MIB} MiB`;
    if (value >= KIB && value % KIB === 0) return `${value / KIB} KiB`;
  }
  return String(value);
}

/** The schema's default, or for `limits.*` the domain's, which applies when the key is absent. */
function defaultOf(setting: Setting): unknown {
  if (setting.key.startsWith("limits.")) {
    return DEFAULT_LIMITS[camelCase(setting.key.slice("limits.".length)) as keyof Limits];
  }
  return setting.default;
}

describe("README configuration reference", () => {
  test.each(Object.keys(ENV_BINDINGS))("documents %s", (name) => {
    expect(readme).toContain(`\`${name}\``);
  });

  test("documents CONFIG_FILE and --config", () => {
    expect(readme).toContain(`\`${CONFIG_FILE_ENV}\``);
    expect(readme).toContain("--config <file>");
  });

  test("documents every TOML key", () => {
    const keys = SETTINGS.map((setting) => setting.key);
    expect(keys.length).toBeGreaterThan(30);
    const missing = keys.filter((key) => !readme.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });

  test.each(SETTINGS.map((setting) => [setting.key, setting] as const))(
    "the row of %s names its variable and default",
    (key, setting) => {
      const row = rowOf(key);
      expect(row).toBeDefined();
      const [env, , defaultCell] = row!;
      expect(env).toBe(setting.env ? `\`${setting.env}\`` : "");
      const value = defaultOf(setting);
      // Without a default the row says in words what happens (`none`, `AWS`, `TTL / 2`).
      if (value !== undefined && value !== null) expect(defaultCell).toBe(shown(key, value));
    },
  );
});

/**
 * The README's configuration reference stays complete: every environment
 * variable the configuration reads is documented there, and every TOML key of
 * the configuration schema appears in it.
 */
import { describe, expect, test } from "bun:test";
import { ConfigInputSchema } from "../../src/app/config/config-schema.ts";
import { CONFIG_FILE_ENV, ENV_BINDINGS } from "../../src/app/config/environment.ts";

const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();

/** Dotted TOML keys of a valibot object schema, nested sections included. */
function tomlKeys(schema: unknown, prefix = ""): string[] {
  let entries = (schema as { entries?: Record<string, unknown> }).entries;
  if (!entries) {
    // v.optional(section, {}) wraps the section.
    const wrapped = (schema as { wrapped?: { entries?: Record<string, unknown> } }).wrapped;
    entries = wrapped?.entries;
  }
  if (!entries) return [prefix];
  return Object.entries(entries).flatMap(([key, value]) =>
    tomlKeys(value, prefix ? `${prefix}.${key}` : key),
  );
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
    const keys = tomlKeys(ConfigInputSchema);
    expect(keys.length).toBeGreaterThan(30);
    const missing = keys.filter((key) => !readme.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });
});

/**
 * The layering of src/, enforced: every relative import must point at a layer
 * the importing layer may use. From the bottom up:
 *
 *   domain ← storage, cache, content ← registry ← http ← app ← server.ts
 *
 * with observability and runtime beside them as leaves that anything may use
 * and that use only the domain (and runtime, for timers). storage, cache and
 * content are siblings that never import each other: the composition root
 * (app/) hands each what it needs from the others through small interfaces.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");
const MIGRATIONS = resolve(import.meta.dir, "../../migrations");

const ALLOWED: Record<string, readonly string[]> = {
  domain: ["domain"],
  runtime: ["domain", "runtime"],
  observability: ["domain", "runtime", "observability"],
  storage: ["domain", "runtime", "observability", "storage"],
  cache: ["domain", "runtime", "observability", "cache"],
  content: ["domain", "runtime", "observability", "content"],
  registry: ["domain", "runtime", "observability", "storage", "cache", "content", "registry"],
  http: ["domain", "runtime", "observability", "registry", "http"],
  app: ["domain", "runtime", "observability", "storage", "cache", "content", "registry", "http", "app"],
  "server.ts": ["app", "runtime", "observability", "domain"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** `domain`, `http`, … for a file under src/; `server.ts` for the entry point. */
function layerOf(path: string): string {
  return relative(SRC, path).split("/")[0]!;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1] ?? match[2]!));
}

describe("layers of src/", () => {
  const files = sourceFiles(SRC);

  test("every file sits in a known layer", () => {
    const unknown = files.map(layerOf).filter((layer) => !(layer in ALLOWED));
    expect([...new Set(unknown)]).toEqual([]);
  });

  test("no import runs upward or sideways between siblings", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        // The migrations' SQL files are bundled into the storage layer that applies them.
        if (from === "storage" && target.startsWith(MIGRATIONS)) continue;
        const to = layerOf(target);
        if (!ALLOWED[from]!.includes(to)) {
          violations.push(`${relative(SRC, file)} → ${relative(SRC, target)} (${from} may not import ${to})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  test("the checker sees imports: the composition root imports every layer below it", () => {
    const seen = new Set(
      sourceFiles(join(SRC, "app")).flatMap((file) => importsOf(file).map((target) => layerOf(target))),
    );
    for (const layer of ["domain", "storage", "cache", "content", "registry", "http", "observability"]) {
      expect(seen.has(layer)).toBe(true);
    }
  });
});

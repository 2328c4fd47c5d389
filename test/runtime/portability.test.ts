/**
 * Keeps the code under src/ web-standard, so the same app serves on Bun and
 * Deno: no file outside a short allow-list of driver modules may import a
 * Node built-in (`node:fs`, or bare `fs`, `net`, `crypto`, …) or a Bun module
 * (`bun`, `bun:sqlite`), or use a runtime's own globals (`Bun`, `Deno`,
 * Node's `process`, `Buffer`, `require`, `__dirname`), whether directly or
 * through `globalThis`.
 *
 * Files are read with the TypeScript parser rather than searched as text, so
 * a comment or a string that mentions `Bun.serve` is not a finding, and a
 * property that happens to be called `process` is not either.
 */
import { describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import ts from "typescript";

const ROOT = join(import.meta.dir, "../..");

/** The driver modules, each with why it needs its runtime's own API. */
const ALLOWED: Record<string, string> = {
  "src/runtime/runtime.ts": "detects the runtime by its global (Bun or Deno)",
  "src/runtime/bun.ts": "Bun.serve, process signals, environment and memory",
  "src/runtime/deno.ts": "Deno.serve, signal listeners, environment and memory",
  "src/app/config/read-config-file.ts": "reads the TOML file (no web-standard local file API)",
  "src/storage/embedded/pglite-server.ts": "creates PGlite's data directory with node:fs",
  "src/storage/embedded/data-dir-template.ts":
    "reads and writes the embedded database's template tarball under node_modules/.cache with node:fs",
  "src/runtime/timers.ts": "unrefs background timers on Deno (Deno.unrefTimer)",
  "src/runtime/request-context.ts":
    "carries an edge isolate's request (its connections, its deferred work) with AsyncLocalStorage (node:async_hooks, which workerd provides with nodejs_compat)",
  "src/runtime/deadline-scope.ts":
    "carries the request's deadline with AsyncLocalStorage (node:async_hooks, which Bun and Deno both implement)",
};

const NODE_BUILTINS = new Set(builtinModules.map((name) => name.replace(/^node:/, "")));
const RUNTIME_GLOBALS = new Set(["Bun", "Deno", "process", "Buffer", "require", "__dirname", "__filename"]);

export interface Finding {
  line: number;
  what: string;
}

function isBuiltinSpecifier(specifier: string): boolean {
  if (specifier.startsWith("node:") || specifier === "bun" || specifier.startsWith("bun:")) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split("/")[0]!);
}

/** Every use of a runtime's own API in one module's source. */
export function findRuntimeApis(fileName: string, source: string): Finding[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const { shadowed, aliases } = localNames(file);
  const add = (node: ts.Node, what: string) =>
    findings.push({ line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1, what });

  const visit = (node: ts.Node): void => {
    // Types describe shapes; only values run.
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;

    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      isBuiltinSpecifier(node.moduleSpecifier.text)
    ) {
      add(node, `imports "${node.moduleSpecifier.text}"`);
    }
    if (ts.isCallExpression(node)) {
      const [argument] = node.arguments;
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      if ((isImport || isRequire) && argument && ts.isStringLiteralLike(argument)) {
        if (isBuiltinSpecifier(argument.text)) add(node, `imports "${argument.text}"`);
      }
    }
    if (
      ts.isIdentifier(node) &&
      RUNTIME_GLOBALS.has(node.text) &&
      !shadowed.has(node.text) &&
      isValueReference(node)
    ) {
      add(node, `uses the global ${node.text}`);
    }
    // globalThis.Bun, globalThis["Deno"], (globalThis as X).Deno
    if (ts.isPropertyAccessExpression(node) && RUNTIME_GLOBALS.has(node.name.text)) {
      if (refersToGlobalThis(node.expression, aliases)) add(node, `uses globalThis.${node.name.text}`);
    }
    if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      RUNTIME_GLOBALS.has(node.argumentExpression.text) &&
      refersToGlobalThis(node.expression, aliases)
    ) {
      add(node, `uses globalThis["${node.argumentExpression.text}"]`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return findings;
}

/** An identifier that reads a variable (not a property name, a key, or a declaration of its own). */
function isValueReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node)
    return false;
  if ((ts.isMethodDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === node)
    return false;
  if (ts.isVariableDeclaration(parent) && parent.name === node) return false;
  if (ts.isParameter(parent) && parent.name === node) return false;
  if (ts.isBindingElement(parent) && parent.name === node && !parent.propertyName) return false;
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isImportClause(parent) || ts.isNamespaceImport(parent)) return false;
  if (ts.isQualifiedName(parent)) return false;
  return true;
}

/** `globalThis`, `global`, or a local name given to either (`const g = globalThis as …`). */
function refersToGlobalThis(expression: ts.Expression, aliases: ReadonlySet<string>): boolean {
  const current = unwrap(expression);
  return (
    ts.isIdentifier(current) &&
    (current.text === "globalThis" || current.text === "global" || aliases.has(current.text))
  );
}

function unwrap(expression: ts.Expression): ts.Expression {
  let current = expression;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isNonNullExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

/**
 * Names the module declares itself (a parameter called `process` is not
 * Node's), and the variables that hold `globalThis` under another name.
 */
function localNames(file: ts.SourceFile): { shadowed: Set<string>; aliases: Set<string> } {
  const shadowed = new Set<string>();
  const aliases = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      const init = node.initializer ? unwrap(node.initializer) : undefined;
      if (init && ts.isIdentifier(init) && (init.text === "globalThis" || init.text === "global")) {
        aliases.add(node.name.text);
      } else {
        shadowed.add(node.name.text);
      }
    }
    if (
      (ts.isParameter(node) ||
        ts.isFunctionDeclaration(node) ||
        ts.isBindingElement(node) ||
        ts.isImportSpecifier(node) ||
        ts.isImportClause(node) ||
        ts.isNamespaceImport(node)) &&
      node.name &&
      ts.isIdentifier(node.name)
    ) {
      shadowed.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { shadowed, aliases };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|tsx|js|mjs)$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

describe("portability of src/", () => {
  test("no module outside the driver allow-list touches a runtime's own API", async () => {
    const files = await sourceFiles(join(ROOT, "src"));
    expect(files.length).toBeGreaterThan(30);
    const offenders: string[] = [];
    for (const file of files) {
      if (file in ALLOWED) continue;
      for (const finding of findRuntimeApis(file, await readFile(join(ROOT, file), "utf8"))) {
        offenders.push(`${file}:${finding.line} ${finding.what}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("every allow-listed driver exists and still needs to be on the list", async () => {
    for (const file of Object.keys(ALLOWED)) {
      const source = await readFile(join(ROOT, file), "utf8");
      // A driver that no longer uses its runtime's API should leave the list.
      expect({ file, findings: findRuntimeApis(file, source).length > 0 }).toEqual({ file, findings: true });
    }
  });
});

describe("the scanner", () => {
  const found = (source: string) => findRuntimeApis("sample.ts", source).map((f) => f.what);

  test("finds built-in imports in every form", () => {
    expect(found('import { readFile } from "node:fs/promises";')).toEqual(['imports "node:fs/promises"']);
    expect(found('import net from "net";')).toEqual(['imports "net"']);
    expect(found('import { createHash } from "crypto";')).toEqual(['imports "crypto"']);
    expect(found('export { join } from "path";')).toEqual(['imports "path"']);
    expect(found('const fs = await import("fs/promises");')).toEqual(['imports "fs/promises"']);
    expect(found('import { Database } from "bun:sqlite";')).toEqual(['imports "bun:sqlite"']);
    expect(found('const os = require("os");')).toContain('imports "os"');
  });

  test("finds runtime globals, directly or through globalThis", () => {
    expect(found("Bun.serve({ fetch });")).toEqual(["uses the global Bun"]);
    expect(found("const env = Deno.env.toObject();")).toEqual(["uses the global Deno"]);
    expect(found("const port = process.env.PORT;")).toEqual(["uses the global process"]);
    expect(found('const b = Buffer.from("x");')).toEqual(["uses the global Buffer"]);
    expect(found("const d = (globalThis as { Deno?: unknown }).Deno;")).toEqual(["uses globalThis.Deno"]);
    expect(found('const b = globalThis["Bun"];')).toEqual(['uses globalThis["Bun"]']);
    expect(found("const g = globalThis as { Bun?: unknown };\nif (g.Bun) start();")).toEqual([
      "uses globalThis.Bun",
    ]);
  });

  test("ignores comments, strings, types, npm packages and look-alike names", () => {
    const clean = [
      "// Bun.serve and Deno.serve are called by the drivers; node:fs too.",
      "/* process.env is read once */",
      'const text = "import fs from \\"node:fs\\"; Bun.file()";',
      "const config = { process: 1, Buffer: 2 };",
      "const step = config.process + job.Deno;",
      "type Runtime = { Bun?: unknown; Deno?: { version: string } };",
      "interface Holder { process(): void }",
      'import postgres from "postgres";',
      'import { Hono } from "hono";',
      'const redis = await import("ioredis");',
      "function run(process: () => void) { process(); }",
    ].join("\n");
    expect(found(clean)).toEqual([]);
  });
});

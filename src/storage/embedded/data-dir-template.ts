/**
 * Data directory templates for the embedded database: a fresh PGlite runs
 * initdb (seconds of WebAssembly) and then every migration, the same work on
 * every new data directory. The first start that does it keeps the result, a
 * gzipped tarball of the migrated data directory (PGlite's `dumpDataDir`),
 * and every later fresh database (a new `./data`, each in-memory test
 * database) is unpacked from it instead (`loadDataDir`): a fraction of the
 * time. `npm install` builds one ahead (scripts/pglite-template.ts), so even
 * the first `npm start` of a clone skips initdb.
 *
 * A template is keyed by PGlite's version and the checksum of every
 * migration, so a new migration or a PGlite upgrade never starts from a stale
 * one. Templates live in `node_modules/.cache/schema-registry/`: they belong to
 * the installed modules and go with them. Everything here is best effort: a
 * template that cannot be read or written means a slower start, never a
 * failed one.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { sha256Hex } from "../../domain/canonical.ts";
import { loadMigrations } from "../postgres/migrations.ts";

const TEMPLATE_DIR = new URL("../../../node_modules/.cache/schema-registry/", import.meta.url);
const PGLITE_PACKAGE = new URL("../../../node_modules/@electric-sql/pglite/package.json", import.meta.url);

/** The file a template of this PGlite and these migrations lives in; null when PGlite's version is unknown. */
export async function templateFile(): Promise<URL | null> {
  const version = await readFile(PGLITE_PACKAGE, "utf8")
    .then((text) => (JSON.parse(text) as { version?: unknown }).version)
    .catch(() => undefined);
  if (typeof version !== "string") return null;
  const migrations = await loadMigrations();
  const key = await sha256Hex([version, ...migrations.map((m) => `${m.version}:${m.checksum}`)].join("\n"));
  return new URL(`pglite-${version}-${key.slice(0, 16)}.tar.gz`, TEMPLATE_DIR);
}

/** The template's tarball, or null when there is none (or it cannot be read). */
export async function loadTemplate(file: URL): Promise<Blob | null> {
  try {
    return new Blob([await readFile(file)]);
  } catch {
    return null;
  }
}

/** Writes a template; a concurrent start writing the same one is harmless (write, then rename). */
export async function saveTemplate(file: URL, tarball: Blob): Promise<void> {
  await mkdir(TEMPLATE_DIR, { recursive: true });
  const partial = new URL(`${file.href}.${crypto.randomUUID()}.partial`);
  await writeFile(partial, new Uint8Array(await tarball.arrayBuffer()));
  await rename(partial, file);
}

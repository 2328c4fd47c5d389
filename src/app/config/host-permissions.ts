/**
 * What the registry asks of its host beyond the network and the environment,
 * and the message that names the setting when the host refuses it. An edge
 * host (Deno Deploy: `--allow-net --allow-env`; a Cloudflare Worker) grants no
 * file system: the embedded PGlite (no DATABASE_URL, or `pglite://`) and a TOML
 * configuration file (CONFIG_FILE, `--config`) then cannot work, and start-up
 * says which setting to change instead of failing later with a runtime's
 * stack trace.
 *
 * Deno throws `NotCapable` (2.x) or `PermissionDenied` (1.x) where a
 * permission is missing; both are recognised anywhere in an error's cause
 * chain, since node:fs in Deno's Node layer passes them through.
 */

const PERMISSION_ERRORS = new Set(["NotCapable", "PermissionDenied"]);

/** True when `error` (or what caused it) is a host refusing file or system access. */
export function isPermissionError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (PERMISSION_ERRORS.has(current.name)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Thrown at start-up when a setting needs access the host does not grant; names the setting. */
export class HostPermissionError extends Error {
  override readonly name = "HostPermissionError";

  constructor(
    /** The setting to change (DATABASE_URL, CONFIG_FILE). */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The embedded database could not start for lack of file access. */
export function embeddedDatabaseRefused(dataDir: string | null, cause: unknown): HostPermissionError {
  const where = dataDir === null ? "in memory" : `in DATA_DIR (${dataDir})`;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HostPermissionError(
    "DATABASE_URL",
    `DATABASE_URL: the embedded PGlite ${where} needs file system access, which this host does not grant ` +
      `(${reason}). On an edge host (Deno with only --allow-net --allow-env, a Worker) set DATABASE_URL ` +
      "to a PostgreSQL server (postgres://…); on Deno otherwise add --allow-read --allow-write=<DATA_DIR>",
    { cause },
  );
}

/** The TOML file could not be read for lack of file access. */
export function configFileRefused(): string {
  return (
    "this host grants no file system access; on an edge host " +
    "(Deno with only --allow-net --allow-env, a Worker) unset CONFIG_FILE / --config and give every " +
    "setting as an environment variable (the README's settings table names each), or add --allow-read=<file>"
  );
}

/**
 * API keys from a shell, on the database the server uses (DATABASE_URL,
 * CONFIG_FILE or --config <file>), with or without a running server:
 *
 *   bun scripts/keys.ts create --role admin [--subjects team-a.,team-b.] [--expires 2027-01-01T00:00:00Z | 90d]
 *                              [--description "CI publisher"] [--json]
 *   bun scripts/keys.ts list [--json]
 *   bun scripts/keys.ts revoke <key id>
 *
 * `create` prints the key once (the database keeps only a hash of its
 * secret). A create or a revoke is announced to every running instance on
 * the invalidation bus, so a revoked key is refused everywhere at once and
 * the first key ends the bootstrap key's term. The migrations must have
 * been applied (the server does it at start, or `bun scripts/migrate.ts run`).
 */
import { notifyKeyChange } from "../src/app/auth-tier.ts";
import { type ApiKey, generateKey, hashSecret, isKeyId } from "../src/domain/api-keys.ts";
import type { WriteContext } from "../src/domain/audit.ts";
import { ROLES, type Role } from "../src/domain/principal.ts";
import { resolveDatabase } from "../src/storage/embedded/resolve-database.ts";
import { PostgresApiKeyStore } from "../src/storage/postgres/api-key-store.ts";
import { closePool, createPool } from "../src/storage/postgres/pool.ts";
import { runScript } from "./lib/run-script.ts";
import { loadScriptConfig } from "./lib/script-config.ts";

/** Who the audit log names for a key created or revoked from a shell: no request, no API key. */
const FROM_SHELL: WriteContext = { actor: { id: "scripts/keys.ts", kind: "system" }, requestId: null };

const USAGE = [
  "usage: bun scripts/keys.ts create --role reader|writer|admin [--subjects p1,p2] [--expires <ISO time>|<N>d|<N>h]",
  "                                  [--description <text>] [--json]",
  "       bun scripts/keys.ts list [--json]",
  "       bun scripts/keys.ts revoke <key id>",
  "       (each takes --config <file>; the database is DATABASE_URL's, as the server's)",
].join("\n");

class UsageError extends Error {}

interface Arguments {
  positional: string[];
  options: Map<string, string>;
  json: boolean;
}

function parseArguments(argv: string[]): Arguments {
  const positional: string[] = [];
  const options = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--json") json = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq > 0) options.set(arg.slice(2, eq), arg.slice(eq + 1));
      else {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`${arg} needs a value`);
        options.set(arg.slice(2), value);
      }
    } else positional.push(arg);
  }
  return { positional, options, json };
}

/** An ISO time, or a lifetime from now: `90d`, `12h`. */
function expiryOf(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const lifetime = /^(\d+)([dh])$/.exec(text);
  const at = lifetime
    ? new Date(Date.now() + Number(lifetime[1]) * (lifetime[2] === "d" ? 86_400_000 : 3_600_000))
    : new Date(text);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--expires: expected an ISO time or 90d / 12h, got ${text}`);
  if (at.getTime() <= Date.now()) throw new UsageError("--expires: the time must be in the future");
  return at;
}

function describeKey(key: ApiKey): string {
  const subjects = key.subjects === null ? "every subject" : `subjects ${key.subjects.join(", ")}`;
  const expires = key.expiresAt ? `expires ${key.expiresAt.toISOString()}` : "never expires";
  const description = key.description ? `  ${key.description}` : "";
  return `${key.id}  ${key.role}  ${subjects}  created ${key.createdAt.toISOString()}  ${expires}${description}`;
}

function toJson(key: ApiKey): Record<string, unknown> {
  return {
    id: key.id,
    role: key.role,
    subjects: key.subjects,
    description: key.description,
    expires_at: key.expiresAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const { positional, options, json } = parseArguments(argv);
  const [command, ...rest] = positional;
  const configPath = options.get("config");
  options.delete("config");

  const config = await loadScriptConfig(configPath ? ["--config", configPath] : []);
  const database = await resolveDatabase(config.storage.databaseUrl ?? undefined, config.storage.dataDir);
  const sql = createPool(database.url, {
    ...config.storage.pool,
    maxConnections: 1,
    applicationName: "schema-registry-keys",
  });
  const store = new PostgresApiKeyStore(sql);
  try {
    if (command === "create" && rest.length === 0) {
      const role = options.get("role");
      if (!role || !(ROLES as readonly string[]).includes(role)) {
        throw new UsageError(`--role: expected one of ${ROLES.join(", ")}`);
      }
      const subjects =
        options
          .get("subjects")
          ?.split(",")
          .map((prefix) => prefix.trim())
          .filter(Boolean) ?? [];
      const { id, secret, key } = generateKey();
      const stored = await store.create(
        id,
        await hashSecret(secret),
        {
          role: role as Role,
          subjects: subjects.length > 0 ? subjects : null,
          description: options.get("description") ?? null,
          expiresAt: expiryOf(options.get("expires")),
        },
        FROM_SHELL,
      );
      await notifyKeyChange(sql, id);
      if (json) console.log(JSON.stringify({ ...toJson(stored), key }));
      else {
        console.log(describeKey(stored));
        console.log(`key: ${key}`);
        console.log("Keep it now: it is not shown again. Send it as `Authorization: Bearer <key>`,");
        console.log(`or as HTTP Basic with user ${id} and the part after the dot as password.`);
      }
      return 0;
    }
    if (command === "list" && rest.length === 0) {
      const keys = await store.list();
      if (json) console.log(JSON.stringify(keys.map(toJson)));
      else if (keys.length === 0) console.log("no API keys");
      else for (const key of keys) console.log(describeKey(key));
      return 0;
    }
    if (command === "revoke" && rest.length === 1) {
      const id = rest[0]!;
      const revoked = isKeyId(id) ? await store.revoke(id, FROM_SHELL) : null;
      if (!revoked) {
        console.error(`no API key ${id}`);
        return 1;
      }
      await notifyKeyChange(sql, id);
      console.log(`revoked ${describeKey(revoked)}`);
      return 0;
    }
    throw new UsageError("");
  } finally {
    await closePool(sql);
    await database.stop();
  }
}

await runScript(main, (error) => {
  if (error instanceof UsageError) {
    if (error.message) console.error(error.message);
    console.error(USAGE);
    return 2;
  }
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  if (typeof cause === "object" && cause !== null && (cause as { code?: string }).code === "42P01") {
    console.error(
      "the api_keys table does not exist: start the server once or run `bun scripts/migrate.ts run` first",
    );
    return 1;
  }
  return undefined;
});

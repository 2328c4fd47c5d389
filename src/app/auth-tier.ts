/**
 * Authentication as the composition root builds it from `auth` settings:
 * the API key store on the primary, the bootstrap key, the JWT verifier
 * (jose, loaded only when a JWKS URL is set), the bus that carries key
 * changes to every instance, and the lookups that find the subjects behind
 * ids for callers limited to subject prefixes.
 *
 * Key changes ride the cache's invalidation bus (PostgreSQL LISTEN/NOTIFY)
 * under keys `auth:key:<id>`; when the cache tier runs no bus (both tiers
 * off) a bus of its own is opened, so a revocation still reaches every
 * instance at once. The embedded database serves one instance: no bus.
 */

import { encodePayloads } from "../cache/bus/invalidation-bus.ts";
import { createInvalidationBus, createRetryingBus, type InvalidationBus } from "../cache/index.ts";
import type { SchemaRef } from "../domain/types.ts";
import { Authenticator, type KeyChangeBus } from "../http/auth/authenticator.ts";
import type { HttpAuth, SubjectLookups } from "../http/auth/middleware.ts";
import type { Logger } from "../observability/logger.ts";
import type { ConfluentRegistry } from "../registry/confluent-registry.ts";
import type { SchemaReader } from "../registry/schema-reader.ts";
import { PostgresApiKeyStore } from "../storage/postgres/api-key-store.ts";
import { createPool, type Pool, type PoolSettings } from "../storage/postgres/pool.ts";
import { type AuthConfig, authRequired, type Config } from "./config/config-schema.ts";

/** Bus keys naming an API key; the cache's own keys never start so. */
const KEY_PREFIX = "auth:key:";
/** The cache's bus channel (its default), which carries key changes when the cache tier runs a bus. */
const CACHE_BUS_CHANNEL = "registry_cache_invalidation";
/** The channel of the bus opened for key changes alone, when the cache tier runs none. */
const AUTH_BUS_CHANNEL = "registry_auth_invalidation";

/**
 * Tells every running instance that a key changed, from outside any of them
 * (scripts/keys.ts): a NOTIFY on both channels an instance may listen on.
 */
export async function notifyKeyChange(sql: Pool, keyId: string): Promise<void> {
  for (const channel of [CACHE_BUS_CHANNEL, AUTH_BUS_CHANNEL]) {
    for (const payload of encodePayloads(`keys-script-${crypto.randomUUID()}`, [KEY_PREFIX + keyId], false)) {
      await sql`select pg_notify(${channel}, ${payload})`;
    }
  }
}

export interface AuthTierDeps {
  primary: Pool;
  database: { url: string; embedded: boolean };
  pool: PoolSettings;
  /** The cache's bus when it runs one. */
  bus: InvalidationBus | null;
  /** Reads a schema without counting it as read (the cache's reader, or the repository). */
  reader: Pick<SchemaReader, "getById">;
  confluent: ConfluentRegistry;
  logger: Logger;
}

export interface AuthTier {
  http: HttpAuth;
  required: boolean;
  close(): Promise<void>;
}

export async function createAuthTier(config: Config, deps: AuthTierDeps): Promise<AuthTier> {
  const settings: AuthConfig = config.auth;
  const required = authRequired(config);
  if (!required) {
    deps.logger.warn(
      "AUTHENTICATION IS OFF: anyone who can reach this port may read, register and delete every schema. Set AUTH_REQUIRED=true (the default with a PostgreSQL DATABASE_URL) before exposing it.",
    );
  }

  let ownBus: { bus: InvalidationBus; end(): Promise<void> } | null = null;
  let bus = deps.bus;
  if (required && !bus && !deps.database.embedded) {
    const sql = createPool(deps.database.url, {
      ...deps.pool,
      maxConnections: 1,
      applicationName: "schema-registry-auth-bus",
    });
    const own = await createRetryingBus(() => createInvalidationBus(sql, { channel: AUTH_BUS_CHANNEL }), {
      channel: AUTH_BUS_CHANNEL,
      onError: (error, attempt) => {
        if (attempt === 1 || attempt % 10 === 0)
          deps.logger.warn("the API key bus cannot listen yet; retrying", { attempt, error });
      },
    });
    ownBus = { bus: own, end: () => sql.end({ timeout: 1 }) };
    bus = own;
  }

  const jwt =
    settings.jwtJwksUrl && settings.jwtIssuer && settings.jwtAudience
      ? await (await import("../http/auth/jwt.ts")).createJwtVerifier({
          jwksUrl: settings.jwtJwksUrl,
          issuer: settings.jwtIssuer,
          audience: settings.jwtAudience,
          roleClaim: settings.jwtRoleClaim,
          subjectsClaim: settings.jwtSubjectsClaim,
        })
      : undefined;

  const authenticator = new Authenticator({
    required,
    keys: new PostgresApiKeyStore(deps.primary),
    bootstrapKey: settings.bootstrapAdminKey,
    jwt,
    cacheMs: settings.keyCacheSeconds * 1000,
    bus: bus ? keyChanges(bus) : null,
  });

  return {
    required,
    http: { authenticator, metricsPublic: settings.metricsPublic, lookups: subjectLookups(deps) },
    async close() {
      authenticator.close();
      if (ownBus) {
        await ownBus.bus.close();
        await ownBus.end();
      }
    },
  };
}

/** The invalidation bus as the authenticator sees it: key ids in, key ids (or "all") out. */
function keyChanges(bus: InvalidationBus): KeyChangeBus {
  return {
    publish: (keyId) => bus.publish([KEY_PREFIX + keyId]),
    subscribe: (handler) =>
      bus.subscribe((event) => {
        // Its own publish is applied by the publisher at once (`local`); the echo would only repeat it.
        if (event.source === "local" || event.source === "echo") return;
        if (event.keys === "all") {
          handler("all");
          return;
        }
        for (const key of event.keys) if (key.startsWith(KEY_PREFIX)) handler(key.slice(KEY_PREFIX.length));
      }),
  };
}

function subjectLookups({ reader, confluent }: AuthTierDeps): SubjectLookups {
  const subjectsOf = async (id: number): Promise<readonly string[]> => {
    try {
      return await confluent.subjectsOfSchema(id, { includeDeleted: true });
    } catch {
      return []; // An id nobody holds: the route answers its 404.
    }
  };
  return {
    async ofSchema(ref: SchemaRef) {
      const found = await reader.getById(ref, { includeDeleted: true });
      return found?.subject ?? null;
    },
    ofContentId: subjectsOf,
    async ofGuid(guid) {
      try {
        return await subjectsOf((await confluent.schemaByGuid(guid)).id);
      } catch {
        return [];
      }
    },
  };
}

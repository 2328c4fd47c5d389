/**
 * The API key routes (admin, not limited to prefixes; permissions.ts):
 * `POST /api/v1/keys` creates a key and answers its text once (only the hash
 * of its secret is stored), `GET /api/v1/keys` lists them without secrets,
 * `DELETE /api/v1/keys/{id}` revokes one, at once on every instance (the
 * authenticator announces it on the invalidation bus).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type ApiKey, generateKey, hashSecret, isKeyId } from "../../domain/api-keys.ts";
import { RegistryError } from "../../domain/errors.ts";
import { ROLES } from "../../domain/principal.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../contract-schemas.ts";
import { writeContext } from "../write-context.ts";

/** At most this many prefixes per key: a key is for a team, not a catalogue. */
const MAX_PREFIXES = 100;

const keyResource = z
  .object({
    id: z.string().openapi({ example: "srk_3f9a1c0d5e7b2a48" }),
    role: z.enum(ROLES),
    subjects: z
      .array(z.string())
      .nullable()
      .openapi({ description: "The subject prefixes the key is limited to; null: every subject." }),
    description: z.string().nullable(),
    expires_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("ApiKey");

const createdKey = keyResource
  .extend({
    key: z.string().openapi({
      description:
        "The key to send, `<id>.<secret>`: as `Authorization: Bearer <key>`, or as HTTP Basic with the id as user and the secret as password. Shown this once; the registry keeps only a hash of the secret.",
      example: "srk_3f9a1c0d5e7b2a48.bE0c4Vx2…",
    }),
  })
  .openapi("CreatedApiKey");

/** PostgreSQL's text cannot hold NUL; refused here with a clear message rather than by the database. */
const NUL_MESSAGE = "must not contain the NUL character (U+0000)";
const withoutNul = (text: string) => !text.includes("\u0000");

function keyFields(limits: AppDeps["service"]["limits"]) {
  return z.strictObject({
    role: z.enum(ROLES),
    subjects: z
      .array(z.string().min(1).max(limits.maxSubjectLength).refine(withoutNul, NUL_MESSAGE))
      .min(1)
      .max(MAX_PREFIXES)
      .nullable()
      .optional()
      .openapi({ description: "Subject prefixes the key is limited to; absent or null: every subject." }),
    description: z.string().max(256).refine(withoutNul, NUL_MESSAGE).optional(),
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "Absent: never expires." }),
  });
}

function toResource(key: ApiKey): z.infer<typeof keyResource> {
  return {
    id: key.id,
    role: key.role,
    subjects: key.subjects === null ? null : [...key.subjects],
    description: key.description,
    expires_at: key.expiresAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
  };
}

function authOf(deps: AppDeps) {
  if (!deps.auth) throw RegistryError.unavailable("API keys are not served by this instance");
  return deps.auth.authenticator;
}

export function apiKeyRoutes(app: RegistryApp, deps: AppDeps): void {
  const create = createRoute({
    method: "post",
    path: `${API_PREFIX}/keys`,
    operationId: "createApiKey",
    tags: ["keys"],
    summary: "Create an API key (admin)",
    request: {
      body: { required: true, content: { "application/json": { schema: keyFields(deps.service.limits) } } },
    },
    responses: {
      201: {
        description: "The key, with its secret shown this once.",
        headers: requestIdHeader,
        content: { "application/json": { schema: createdKey } },
      },
      ...errorResponses(401, 403),
    },
  });
  app.openapi(create, async (c) => {
    const authenticator = authOf(deps);
    const body = c.req.valid("json");
    const expiresAt = body.expires_at ? new Date(body.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw RegistryError.invalidRequest("expires_at must be in the future", { field: "expires_at" });
    }
    const { id, secret, key } = generateKey();
    const stored = await authenticator.keys.create(
      id,
      await hashSecret(secret),
      {
        role: body.role,
        subjects: body.subjects ?? null,
        description: body.description ?? null,
        expiresAt,
      },
      writeContext(c),
    );
    // The first key ends the bootstrap key's term on every instance.
    await authenticator.announce(id);
    return c.json({ ...toResource(stored), key }, 201);
  });

  const list = createRoute({
    method: "get",
    path: `${API_PREFIX}/keys`,
    operationId: "listApiKeys",
    tags: ["keys"],
    summary: "Every API key, without secrets (admin)",
    responses: {
      200: {
        description: "The keys, oldest first.",
        headers: requestIdHeader,
        content: {
          "application/json": { schema: z.object({ items: z.array(keyResource) }).openapi("ApiKeyList") },
        },
      },
      ...errorResponses(401, 403),
    },
  });
  app.openapi(list, async (c) => {
    const keys = await authOf(deps).keys.list();
    return c.json({ items: keys.map(toResource) }, 200);
  });

  const revoke = createRoute({
    method: "delete",
    path: `${API_PREFIX}/keys/{id}`,
    operationId: "revokeApiKey",
    tags: ["keys"],
    summary: "Revoke an API key at once, on every instance (admin)",
    request: { params: z.object({ id: z.string().openapi({ example: "srk_3f9a1c0d5e7b2a48" }) }) },
    responses: {
      200: {
        description: "The key that was revoked.",
        headers: requestIdHeader,
        content: { "application/json": { schema: keyResource } },
      },
      ...errorResponses(401, 403, 404),
    },
  });
  app.openapi(revoke, async (c) => {
    const authenticator = authOf(deps);
    const { id } = c.req.valid("param");
    const revoked = isKeyId(id) ? await authenticator.keys.revoke(id, writeContext(c)) : null;
    if (!revoked) throw RegistryError.notFound(`API key ${id} does not exist`, { id });
    await authenticator.announce(id);
    return c.json(toResource(revoked), 200);
  });
}

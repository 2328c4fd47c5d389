/**
 * GET /api/v1/whoami: who the registry takes the caller for (the principal
 * the authentication middleware set) and what that role allows. The console
 * shows it next to its key prompt and hides the actions the role may not
 * take; any client can use it to check a key before using it. With auth off
 * (no principal set) the caller is the open-access anonymous admin.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { OPEN_ACCESS, ROLES } from "../../domain/principal.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../contract-schemas.ts";

const identity = z
  .object({
    id: z.string().openapi({ description: "The key id, the JWT subject, or anonymous." }),
    kind: z.enum(["key", "jwt", "anonymous"]),
    role: z.enum(ROLES).openapi({
      description:
        "reader: reads, search, data validation and dry runs; writer: also registers and state changes; admin: also deletes and settings.",
    }),
    subject_prefixes: z
      .array(z.string())
      .nullable()
      .openapi({ description: "The subject prefixes the caller is limited to; null for every subject." }),
  })
  .openapi("Identity", {
    example: { id: "anonymous", kind: "anonymous", role: "admin", subject_prefixes: null },
  });

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/whoami`,
  operationId: "getIdentity",
  tags: ["operations"],
  summary: "The caller's identity and role",
  description:
    "The identity the registry established for this request from its credentials (Authorization: Bearer <key>), with its role and subject prefixes. A registry with authentication off answers the anonymous caller, who may do anything.",
  responses: {
    200: {
      description: "Who the caller is.",
      headers: requestIdHeader,
      content: { "application/json": { schema: identity } },
    },
    ...errorResponses(),
  },
});

export function getIdentity(app: RegistryApp, _deps: AppDeps): void {
  app.openapi(route, (c) => {
    const principal = c.var.principal ?? OPEN_ACCESS;
    return c.json(
      {
        id: principal.id,
        kind: principal.kind,
        role: principal.role,
        subject_prefixes: principal.subjectPrefixes === null ? null : [...principal.subjectPrefixes],
      },
      200,
    );
  });
}

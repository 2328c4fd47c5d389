/**
 * GET /api/v1/subjects/{subject}/versions/latest: the highest version that is
 * not deleted and is active or deprecated.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { LATEST_ELIGIBLE_STATES } from "../../domain/lifecycle.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  include,
  limitedSchemas,
  requestIdHeader,
  schemaResource,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";

export function getLatestVersion(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects/{subject}/versions/latest`,
    operationId: "getLatestVersion",
    tags: ["subjects"],
    summary: "A subject's latest version",
    description: `The highest version (semver precedence) that is not deleted and is ${LATEST_ELIGIBLE_STATES.join(" or ")}.`,
    request: { params: limitedSchemas(service.limits).subjectParam, query: z.object({ include }) },
    responses: {
      200: {
        description: "The latest version.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemaResource } },
      },
      ...errorResponses(404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const { include } = c.req.valid("query");
    const view = await service.getLatest(subject, { includeContent: include === "content" });
    // Latest moves with every register: no ETag, so no client keeps a stale one.
    return c.json(toSchemaResource(view.schema, { withContent: true, link: view.link }), 200);
  });
}

/**
 * GET /api/v1/subjects/{subject}/versions/{version}: one version by exact
 * semver (build metadata does not distinguish versions).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  include,
  includeDeleted,
  limitedSchemas,
  requestIdHeader,
  schemaResource,
  version,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";

export function getVersion(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects/{subject}/versions/{version}`,
    operationId: "getVersion",
    tags: ["subjects"],
    summary: "One version of a subject",
    description:
      "By exact Semantic Versioning 2.0.0 version; 1.0.0+build.5 and 1.0.0 name the same version. A + in the version may be sent as is or as %2B.",
    request: {
      params: z.object({
        subject: limitedSchemas(service.limits).subject.openapi({ param: { name: "subject", in: "path" } }),
        version: version.openapi({ param: { name: "version", in: "path" } }),
      }),
      query: z.object({ include, include_deleted: includeDeleted }),
    },
    responses: {
      200: {
        description: "The version.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemaResource } },
      },
      ...errorResponses(404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject, version } = c.req.valid("param");
    const query = c.req.valid("query");
    const view = await service.getVersion(subject, version, {
      includeDeleted: query.include_deleted,
      includeContent: query.include === "content",
    });
    return c.json(toSchemaResource(view.schema, { withContent: true, link: view.link }), 200);
  });
}

/**
 * GET /api/v1/schemas/{id}: one schema by UUID or global_id, with ETag and
 * If-None-Match. Requests without a query are mostly answered in front of
 * the app (schema-fast-path.ts), through the same `schemaResponse`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  include,
  includeDeleted,
  requestIdHeader,
  schemaIdParam,
  schemaResource,
} from "../contract-schemas.ts";
import { schemaResponse } from "../schema-representation.ts";

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/schemas/{id}`,
  operationId: "getSchema",
  tags: ["schemas"],
  summary: "One schema, by UUID or by global_id",
  description:
    "Object-store content is not inlined: content_url (presigned) and content_url_expires_at are given instead, unless include=content.",
  request: {
    params: schemaIdParam,
    query: z.object({ include, include_deleted: includeDeleted }),
  },
  responses: {
    200: {
      description: "The schema.",
      headers: {
        ETag: { description: "Weak tag of this representation.", schema: { type: "string" } },
        ...requestIdHeader,
      },
      content: { "application/json": { schema: schemaResource } },
    },
    304: { description: "If-None-Match matched: the client's copy is current." },
    ...errorResponses(404),
  },
});

export function getSchema(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const view = await service.getSchema(parseSchemaRef(id), {
      includeDeleted: query.include_deleted,
      includeContent: query.include === "content",
    });
    return schemaResponse(view, c.req.header("If-None-Match"), c.get("requestId"));
  });
}

/**
 * DELETE /api/v1/schemas/{id}: soft delete; `?permanent=true` removes a
 * soft-deleted schema for good.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  booleanFlag,
  errorResponses,
  requestIdHeader,
  schemaIdParam,
} from "../contract-schemas.ts";
import { writeContext } from "../write-context.ts";

const route = createRoute({
  method: "delete",
  path: `${API_PREFIX}/schemas/{id}`,
  operationId: "deleteSchema",
  tags: ["schemas"],
  summary: "Delete a schema",
  description:
    "Soft delete: deleted_at is set and the schema disappears from every read unless include_deleted=true. With permanent=true, a soft-deleted schema is removed for good; one that is not soft-deleted answers 409 conflict.",
  request: {
    params: schemaIdParam,
    query: z.object({ permanent: booleanFlag("Remove a soft-deleted schema for good.") }),
  },
  responses: {
    204: { description: "Deleted.", headers: requestIdHeader },
    ...errorResponses(404, 409),
  },
});

export function deleteSchema(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { permanent } = c.req.valid("query");
    await service.delete(parseSchemaRef(id), { permanent }, writeContext(c));
    return c.body(null, 204);
  });
}

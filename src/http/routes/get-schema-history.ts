/**
 * GET /api/v1/schemas/{id}/history: the schema's state transitions, oldest
 * first. An extension of API.md: it records every transition, this reads them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { RouteContext } from "../app-env.ts";
import { toTransitionResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function getSchemaHistory({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/schemas/{id}/history`,
    operationId: "getSchemaHistory",
    tags: ["schemas"],
    summary: "The schema's state transitions (extension)",
    description:
      "Every lifecycle transition with its time, previous state and reason, oldest first; the first is the registration (from_state null). Soft-deleted schemas keep their history.",
    request: { params: schemas.schemaIdParam },
    responses: {
      200: {
        description: "The transitions.",
        headers: requestIdHeader,
        content: {
          "application/json": {
            schema: z.object({ items: z.array(schemas.transition) }).openapi("StateHistory"),
          },
        },
      },
      ...errorResponses(schemas, 404),
    },
  });

  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const history = await deps.service.stateHistory(parseSchemaRef(id));
    return c.json({ items: history.map(toTransitionResource) }, 200);
  });
}

/**
 * GET /api/v1/schemas/{id}/history: the schema's state transitions, oldest
 * first. Every transition is recorded with its reason; this reads them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { StateTransition } from "../../domain/types.ts";
import { SCHEMA_STATES } from "../../domain/types.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader, schemaIdParam } from "../contract-schemas.ts";

const transition = z
  .object({
    from_state: z
      .enum(SCHEMA_STATES)
      .nullable()
      .openapi({ description: "null for the registration itself." }),
    to_state: z.enum(SCHEMA_STATES),
    reason: z.string().nullable(),
    changed_at: z.iso.datetime(),
  })
  .openapi("StateTransition");

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/schemas/{id}/history`,
  operationId: "getSchemaHistory",
  tags: ["schemas"],
  summary: "The schema's state transitions (extension)",
  description:
    "Every lifecycle transition with its time, previous state and reason, oldest first; the first is the registration (from_state null). Soft-deleted schemas keep their history.",
  request: { params: schemaIdParam },
  responses: {
    200: {
      description: "The transitions.",
      headers: requestIdHeader,
      content: {
        "application/json": {
          schema: z.object({ items: z.array(transition) }).openapi("StateHistory"),
        },
      },
    },
    ...errorResponses(404),
  },
});

function toTransitionResource(change: StateTransition): z.infer<typeof transition> {
  return {
    from_state: change.fromState,
    to_state: change.toState,
    reason: change.reason,
    changed_at: change.changedAt.toISOString(),
  };
}

export function getSchemaHistory(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const history = await service.stateHistory(parseSchemaRef(id));
    return c.json({ items: history.map(toTransitionResource) }, 200);
  });
}

/**
 * PATCH /api/v1/schemas/{id}/state: move a schema along its lifecycle;
 * the transition is recorded with its reason.
 */
import { createRoute } from "@hono/zod-openapi";
import { ALLOWED_TRANSITIONS } from "../../domain/lifecycle.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { RouteContext } from "../app-env.ts";
import { toSchemaResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

const TRANSITIONS = Object.entries(ALLOWED_TRANSITIONS)
  .flatMap(([from, targets]) => targets.map((to) => `${from} → ${to}`))
  .join(", ");

export function updateSchemaState({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "patch",
    path: `${API_PREFIX}/schemas/{id}/state`,
    operationId: "updateSchemaState",
    tags: ["schemas"],
    summary: "Change a schema's state",
    description: `Allowed transitions: ${TRANSITIONS}; archived is final. Any other answers 409 invalid_transition. A soft-deleted schema answers 404.`,
    request: {
      params: schemas.schemaIdParam,
      body: { required: true, content: { "application/json": { schema: schemas.stateChangeBody } } },
    },
    responses: {
      200: {
        description: "The schema in its new state.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.schemaResource } },
      },
      ...errorResponses(schemas, 404, 409, 413, 415),
    },
  });

  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const view = await deps.service.updateState(parseSchemaRef(id), body.state, body.reason ?? null);
    return c.json(toSchemaResource(view.schema, { withContent: true, link: view.link }), 200);
  });
}

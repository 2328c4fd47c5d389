/**
 * PATCH /api/v1/schemas/{id}/state: move a schema along its lifecycle;
 * the transition is recorded with its reason.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ALLOWED_TRANSITIONS } from "../../domain/lifecycle.ts";
import { SCHEMA_STATES } from "../../domain/types.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  requestIdHeader,
  schemaIdParam,
  schemaResource,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";
import { writeContext } from "../write-context.ts";

/** Longest `reason` of a state change. */
const MAX_REASON_LENGTH = 1024;

const TRANSITIONS = Object.entries(ALLOWED_TRANSITIONS)
  .flatMap(([from, targets]) => targets.map((to) => `${from} → ${to}`))
  .join(", ");

const stateChangeBody = z
  .strictObject({
    state: z.enum(SCHEMA_STATES),
    // U+0000: PostgreSQL's text refuses it, so it is refused here by name rather than by the database.
    reason: z
      .string()
      .max(MAX_REASON_LENGTH)
      .refine((text) => !text.includes("\u0000"), "must not hold the character U+0000")
      .nullish(),
  })
  .openapi("StateChange", { example: { state: "deprecated", reason: "superseded by 2.0.0" } });

const route = createRoute({
  method: "patch",
  path: `${API_PREFIX}/schemas/{id}/state`,
  operationId: "updateSchemaState",
  tags: ["schemas"],
  summary: "Change a schema's state",
  description: `Allowed transitions: ${TRANSITIONS}; archived is final. Any other answers 409 invalid_transition. A soft-deleted schema answers 404.`,
  request: {
    params: schemaIdParam,
    body: { required: true, content: { "application/json": { schema: stateChangeBody } } },
  },
  responses: {
    200: {
      description: "The schema in its new state.",
      headers: requestIdHeader,
      content: { "application/json": { schema: schemaResource } },
    },
    ...errorResponses(404, 409, 413, 415),
  },
});

export function updateSchemaState(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const view = await service.updateState(
      parseSchemaRef(id),
      body.state,
      body.reason ?? null,
      writeContext(c),
    );
    return c.json(toSchemaResource(view.schema, { withContent: true, link: view.link }), 200);
  });
}

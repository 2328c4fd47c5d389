/**
 * POST /api/v1/schemas/{id}/validate: check JSON documents (a model's
 * output, say) against a stored schema by UUID or global_id.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  batchVerdict,
  dataVerdict,
  errorResponses,
  messageQuery,
  requestIdHeader,
  schemaIdParam,
  validationBody,
} from "../contract-schemas.ts";
import { VALIDATION_DESCRIPTION, validateBody } from "../data-validation.ts";

const route = createRoute({
  method: "post",
  path: `${API_PREFIX}/schemas/{id}/validate`,
  operationId: "validateAgainstSchema",
  tags: ["validation"],
  summary: "Validate documents against a schema",
  description: `${VALIDATION_DESCRIPTION}\n\nA soft-deleted schema answers 404.`,
  request: {
    params: schemaIdParam,
    query: z.object({ message: messageQuery }),
    body: { required: true, content: { "application/json": { schema: validationBody } } },
  },
  responses: {
    200: {
      description: "One verdict for a single document; the batch's verdicts for a batch.",
      headers: requestIdHeader,
      content: { "application/json": { schema: z.union([dataVerdict, batchVerdict]) } },
    },
    ...errorResponses(404, 413, 415, 422),
  },
});

export function validateSchemaData(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { message } = c.req.valid("query");
    const answer = await validateBody(service, { ref: parseSchemaRef(id) }, c.req.valid("json"), message);
    return c.json(answer, 200);
  });
}

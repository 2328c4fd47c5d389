/**
 * POST /api/v1/subjects/{subject}/versions/{version}/validate: check JSON
 * documents against a subject's version, or its latest with `latest`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { LATEST_ELIGIBLE_STATES } from "../../domain/lifecycle.ts";
import { isSemVer, MAX_VERSION_LENGTH } from "../../domain/semver.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  batchVerdict,
  dataVerdict,
  errorResponses,
  limitedSchemas,
  messageQuery,
  requestIdHeader,
  validationBody,
} from "../contract-schemas.ts";
import { VALIDATION_DESCRIPTION, validateBody } from "../data-validation.ts";

const versionOrLatest = z
  .string()
  .max(MAX_VERSION_LENGTH)
  .refine(
    (text) => text === "latest" || isSemVer(text),
    "must be latest or a Semantic Versioning 2.0.0 version",
  )
  .openapi({ description: "A version, or latest.", example: "latest" });

export function validateVersionData(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "post",
    path: `${API_PREFIX}/subjects/{subject}/versions/{version}/validate`,
    operationId: "validateAgainstVersion",
    tags: ["validation"],
    summary: "Validate documents against a subject's version",
    description: `${VALIDATION_DESCRIPTION}\n\nlatest is the highest version that is not deleted and is ${LATEST_ELIGIBLE_STATES.join(" or ")}, as GET …/versions/latest answers.`,
    request: {
      params: z.object({
        subject: limitedSchemas(service.limits).subject.openapi({ param: { name: "subject", in: "path" } }),
        version: versionOrLatest.openapi({ param: { name: "version", in: "path" } }),
      }),
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

  app.openapi(route, async (c) => {
    const { subject, version } = c.req.valid("param");
    const { message } = c.req.valid("query");
    const answer = await validateBody(service, { subject, version }, c.req.valid("json"), message);
    return c.json(answer, 200);
  });
}

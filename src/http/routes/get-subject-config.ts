/**
 * GET /api/v1/subjects/{subject}/config: the subject's own evolution
 * settings, or with `?effective=true` the settings in force for it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  booleanFlag,
  effectiveSettings,
  errorResponses,
  evolutionSettings,
  limitedSchemas,
  requestIdHeader,
  toSettingsResource,
} from "../contract-schemas.ts";

export function getSubjectConfig(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects/{subject}/config`,
    operationId: "getSubjectConfig",
    tags: ["compatibility"],
    summary: "A subject's compatibility level and semver policy",
    description:
      "Without effective: the settings the subject sets itself, only the fields it sets; 404 not_found when it sets none (it follows the global ones). With effective=true: the settings in force for it, every field: its own over the global ones over the configured defaults. The subject need not have versions: settings may be made before its first register.",
    request: {
      params: limitedSchemas(service.limits).subjectParam,
      query: z.object({
        effective: booleanFlag("Answer the settings in force for the subject rather than its own."),
      }),
    },
    responses: {
      200: {
        description:
          "The subject's own settings, or with effective=true the settings in force (every field).",
        headers: requestIdHeader,
        content: { "application/json": { schema: z.union([evolutionSettings, effectiveSettings]) } },
      },
      ...errorResponses(404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const { effective } = c.req.valid("query");
    return c.json(toSettingsResource(await service.subjectSettings(subject, { effective })), 200);
  });
}

/**
 * DELETE /api/v1/subjects/{subject}/config: remove the subject's own
 * settings, so it follows the global ones again.
 */
import { createRoute } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  evolutionSettings,
  limitedSchemas,
  requestIdHeader,
  toSettingsResource,
} from "../contract-schemas.ts";
import { writeContext } from "../write-context.ts";

export function deleteSubjectConfig(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "delete",
    path: `${API_PREFIX}/subjects/{subject}/config`,
    operationId: "deleteSubjectConfig",
    tags: ["compatibility"],
    summary: "Remove a subject's own settings",
    description:
      "The subject follows the global settings again. Answers the settings it had; 404 not_found when it had none.",
    request: { params: limitedSchemas(service.limits).subjectParam },
    responses: {
      200: {
        description: "The settings the subject had.",
        headers: requestIdHeader,
        content: { "application/json": { schema: evolutionSettings } },
      },
      ...errorResponses(404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    return c.json(toSettingsResource(await service.deleteSubjectSettings(subject, writeContext(c))), 200);
  });
}

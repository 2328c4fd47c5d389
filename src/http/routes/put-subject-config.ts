/**
 * PUT /api/v1/subjects/{subject}/config: set the subject's own compatibility
 * level, semver policy or both, over the global ones.
 */
import { createRoute } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  evolutionSettings,
  fromSettingsChange,
  limitedSchemas,
  requestIdHeader,
  settingsChange,
  toSettingsResource,
} from "../contract-schemas.ts";
import { writeContext } from "../write-context.ts";

export function putSubjectConfig(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "put",
    path: `${API_PREFIX}/subjects/{subject}/config`,
    operationId: "putSubjectConfig",
    tags: ["compatibility"],
    summary: "Set a subject's compatibility level or semver policy",
    description:
      "Merges the fields given (at least one; any other key is refused) into the subject's own settings and answers them; a field it does not set keeps following the global settings. The subject need not have versions yet. Registered versions are not checked again: the level applies from the next register on.",
    request: {
      params: limitedSchemas(service.limits).subjectParam,
      body: { required: true, content: { "application/json": { schema: settingsChange } } },
    },
    responses: {
      200: {
        description: "The subject's own settings after the change.",
        headers: requestIdHeader,
        content: { "application/json": { schema: evolutionSettings } },
      },
      ...errorResponses(413, 415),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const settings = await service.putSubjectSettings(
      subject,
      fromSettingsChange(c.req.valid("json")),
      writeContext(c),
    );
    return c.json(toSettingsResource(settings), 200);
  });
}

/**
 * PUT /api/v1/config: set the global compatibility level, semver policy or
 * both; a field left out keeps its value.
 */
import { createRoute } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  effectiveSettings,
  errorResponses,
  fromSettingsChange,
  requestIdHeader,
  settingsChange,
  toEffectiveResource,
} from "../contract-schemas.ts";
import { writeContext } from "../write-context.ts";

const route = createRoute({
  method: "put",
  path: `${API_PREFIX}/config`,
  operationId: "putGlobalConfig",
  tags: ["compatibility"],
  summary: "Set the global compatibility level or semver policy",
  description:
    "Sets the fields given (at least one; any other key is refused) for every subject without settings of its own, and answers the global settings in force after. Registered versions are not checked again: the new level applies from the next register on.",
  request: {
    body: { required: true, content: { "application/json": { schema: settingsChange } } },
  },
  responses: {
    200: {
      description: "The global settings in force after the change.",
      headers: requestIdHeader,
      content: { "application/json": { schema: effectiveSettings } },
    },
    ...errorResponses(413, 415),
  },
});

export function putGlobalConfig(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const settings = await service.putGlobalSettings(
      fromSettingsChange(c.req.valid("json")),
      writeContext(c),
    );
    return c.json(toEffectiveResource(settings), 200);
  });
}

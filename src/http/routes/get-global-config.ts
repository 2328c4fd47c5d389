/**
 * GET /api/v1/config: the global evolution settings in force, the stored ones
 * over the configured defaults (COMPATIBILITY_LEVEL, SEMVER_POLICY).
 */
import { createRoute } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  effectiveSettings,
  errorResponses,
  requestIdHeader,
  toEffectiveResource,
} from "../contract-schemas.ts";

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/config`,
  operationId: "getGlobalConfig",
  tags: ["compatibility"],
  summary: "The global compatibility level and semver policy",
  description:
    "What every subject without settings of its own follows: the settings stored with PUT /api/v1/config over the server's configured defaults (COMPATIBILITY_LEVEL, SEMVER_POLICY; BACKWARD and advise unless configured).",
  responses: {
    200: {
      description: "The global settings in force.",
      headers: requestIdHeader,
      content: { "application/json": { schema: effectiveSettings } },
    },
    ...errorResponses(),
  },
});

export function getGlobalConfig(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => c.json(toEffectiveResource(await service.globalSettings()), 200));
}

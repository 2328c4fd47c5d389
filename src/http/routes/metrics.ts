/**
 * GET /metrics: the Prometheus text exposition (format 0.0.4) of the
 * registry's metrics (src/observability/registry-metrics.ts). Outside the
 * API prefix, like the health probes, so a scraper needs no API path.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { PROMETHEUS_CONTENT_TYPE } from "../../observability/metrics-registry.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { requestIdHeader } from "../contract-schemas.ts";

export function metrics(app: RegistryApp, deps: AppDeps): void {
  const catalogue = deps.metrics.registry
    .describe()
    .map(({ name, type, help }) => `- \`${name}\` (${type}): ${help}`)
    .join("\n");
  const route = createRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    tags: ["operations"],
    summary: "Prometheus metrics",
    description: [
      `Prometheus text exposition format 0.0.4 (\`Content-Type: ${PROMETHEUS_CONTENT_TYPE}\`).`,
      "Labels never carry a schema id or subject; `route` is the route template (`/api/v1/schemas/:id`).",
      "Cache and S3 metrics appear once those tiers are configured.",
      "",
      catalogue,
    ].join("\n"),
    responses: {
      200: {
        description: "The metrics.",
        headers: requestIdHeader,
        content: {
          [PROMETHEUS_CONTENT_TYPE]: {
            schema: z.string().openapi({
              example:
                '# HELP schema_registry_schemas_registered_total Successful registrations\n# TYPE schema_registry_schemas_registered_total counter\nschema_registry_schemas_registered_total{schema_type="json",result="created"} 3\n',
            }),
          },
        },
      },
    },
  });
  // c.text would set its own Content-Type; the exposition format names a version in it.
  app.openapi(route, async (c) =>
    c.text(await deps.metrics.expose(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }),
  );
}

/**
 * GET /api/v1/stats: counts of schemas by state, subjects, storage bytes and
 * cache hit rates.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { RegistryStats } from "../../registry/registry-service.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../contract-schemas.ts";

const cacheTier = z.object({
  hits: z.number().int(),
  misses: z.number().int(),
  hit_rate: z.number().nullable(),
  evictions: z.number().int().optional(),
  errors: z.number().int().optional(),
  breaker: z
    .enum(["closed", "open", "half_open"])
    .optional()
    .openapi({ description: "State of the circuit breaker in front of the tier (L2)." }),
});

const stats = z
  .object({
    schemas: z.object({
      total: z.number().int(),
      draft: z.number().int(),
      active: z.number().int(),
      deprecated: z.number().int(),
      archived: z.number().int(),
      deleted: z.number().int(),
    }),
    subjects: z.number().int(),
    storage: z.object({
      inline_bytes: z.number().int(),
      object_store_bytes: z.number().int(),
      total_bytes: z.number().int(),
    }),
    cache: z
      .object({ hit_rate: z.number().nullable(), tiers: z.record(z.string(), cacheTier) })
      .nullable()
      .openapi({ description: "null when no cache runs in front of the database." }),
  })
  .openapi("Stats");

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/stats`,
  operationId: "getStats",
  tags: ["operations"],
  summary: "Registry statistics",
  description:
    "State counts (total, draft, active, deprecated, archived) are of schemas that are not deleted; deleted counts the soft-deleted ones.",
  responses: {
    200: {
      description: "The figures.",
      headers: requestIdHeader,
      content: { "application/json": { schema: stats } },
    },
    ...errorResponses(),
  },
});

function toStatsResource({ storage, cache }: RegistryStats): z.infer<typeof stats> {
  return {
    schemas: {
      total: storage.totalSchemas,
      draft: storage.draftSchemas,
      active: storage.activeSchemas,
      deprecated: storage.deprecatedSchemas,
      archived: storage.archivedSchemas,
      deleted: storage.deletedSchemas,
    },
    subjects: storage.subjects,
    storage: {
      inline_bytes: storage.inlineBytes,
      object_store_bytes: storage.objectStoreBytes,
      total_bytes: storage.inlineBytes + storage.objectStoreBytes,
    },
    cache: cache
      ? {
          hit_rate: cache.hitRate,
          tiers: Object.fromEntries(
            Object.entries(cache.tiers).map(([tier, figures]) => [
              tier,
              {
                hits: figures.hits,
                misses: figures.misses,
                hit_rate: figures.hitRate,
                ...(figures.evictions !== undefined ? { evictions: figures.evictions } : {}),
                ...(figures.errors !== undefined ? { errors: figures.errors } : {}),
                ...(figures.breaker !== undefined ? { breaker: figures.breaker } : {}),
              },
            ]),
          ),
        }
      : null,
  };
}

export function getStats(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => c.json(toStatsResource(await service.stats()), 200));
}

/**
 * The storage layer's records as API.md's resources: snake_case keys, ISO
 * 8601 timestamps. Every schema that leaves the registry goes through
 * `toSchemaResource`, so the resource has one shape everywhere.
 */
import type { SchemaRecord, SearchHit, StateTransition, SubjectSummary } from "../domain/types.ts";
import type { ContentLink } from "../registry/content-tier.ts";
import type { RegistryStats } from "../registry/registry-service.ts";

export interface SchemaResource {
  id: string;
  global_id: number;
  subject: string;
  version: string;
  schema_type: SchemaRecord["schemaType"];
  state: SchemaRecord["state"];
  content?: unknown;
  content_url?: string;
  content_url_expires_at?: string;
  content_hash: string;
  content_size: number;
  content_location: SchemaRecord["contentLocation"];
  metadata: SchemaRecord["metadata"];
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface ResourceOptions {
  /** Put `content` in (lists leave it out unless asked). */
  withContent: boolean;
  /** A direct URL to content the record does not hold. */
  link?: ContentLink | null;
}

export function toSchemaResource(schema: SchemaRecord, options: ResourceOptions): SchemaResource {
  const { link } = options;
  return {
    id: schema.id,
    global_id: schema.globalId,
    subject: schema.subject,
    version: schema.version,
    schema_type: schema.schemaType,
    state: schema.state,
    ...(options.withContent && schema.content !== null ? { content: schema.content } : {}),
    ...(link ? { content_url: link.url, content_url_expires_at: link.expiresAt.toISOString() } : {}),
    content_hash: schema.contentHash,
    content_size: schema.contentSize,
    content_location: schema.contentLocation,
    metadata: schema.metadata,
    created_at: schema.createdAt.toISOString(),
    updated_at: schema.updatedAt.toISOString(),
    deleted_at: schema.deletedAt ? schema.deletedAt.toISOString() : null,
  };
}

export function toSearchHitResource(
  hit: SearchHit,
  withContent: boolean,
): SchemaResource & { score: number | null } {
  return { ...toSchemaResource(hit, { withContent }), score: hit.score };
}

export function toSubjectResource(summary: SubjectSummary) {
  return {
    subject: summary.subject,
    latest_version: summary.latestVersion,
    version_count: summary.versionCount,
    created_at: summary.createdAt.toISOString(),
    updated_at: summary.updatedAt.toISOString(),
  };
}

export function toTransitionResource(transition: StateTransition) {
  return {
    from_state: transition.fromState,
    to_state: transition.toState,
    reason: transition.reason,
    changed_at: transition.changedAt.toISOString(),
  };
}

export function toStatsResource(stats: RegistryStats) {
  const { storage, cache } = stats;
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

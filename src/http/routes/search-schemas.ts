/**
 * GET /api/v1/search: fuzzy text, subject wildcards, type, tags, owner, state
 * and metadata containment, sorted and paged.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_OWNER_LENGTH } from "../../domain/limits.ts";
import { SCHEMA_TYPES, type SearchHit, type SearchSortField } from "../../domain/types.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { scopedPage, singlePrefix } from "../auth/scope.ts";
import {
  API_PREFIX,
  errorResponses,
  include,
  includeDeleted,
  limitedSchemas,
  page,
  pageOf,
  requestIdHeader,
  schemaResource,
  stateList,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";

/** Longest `q`. */
const MAX_QUERY_LENGTH = 256;

const SORT_FIELDS = [
  "relevance",
  "created_at",
  "subject",
  "version",
] as const satisfies readonly SearchSortField[];
const SORT_VALUES = SORT_FIELDS.flatMap((field) => [field, `-${field}`]) as [string, ...string[]];

const searchHit = schemaResource
  .extend({
    score: z
      .number()
      .nullable()
      .openapi({
        description:
          "Relevance to q (0 to 1; 1 for the schema whose subject is q); null without q. " +
          "Comparable within one search only.",
      }),
  })
  .openapi("SearchHit");

const searchResults = pageOf(searchHit, "SearchResults")
  .extend({
    total_exact: z.boolean().openapi({
      description:
        "False when the matches were counted only up to `total` (250 by default) and there are more: " +
        'show "at least total". Text searches rank the first 250 matches the index yields (and the ' +
        "schema whose subject is q): add words or filters to narrow a common word.",
    }),
  })
  .openapi("SearchResults");

function searchQuery({ tag }: ReturnType<typeof limitedSchemas>, maxSubjectLength: number) {
  return z.object({
    q: z
      .string()
      .max(MAX_QUERY_LENGTH)
      .optional()
      // An empty search box means no text filter, not an error.
      .transform((text) => (text?.trim() ? text.trim() : undefined))
      .openapi({
        description:
          "Words of the subject (split at . _ / : and camelCase), tags, description and owner; " +
          'websearch syntax ("quoted phrase", or, -word). A word no schema contains is read as a typo ' +
          "of the closest known words when fewer matches than the page are found.",
        type: "string",
        maxLength: MAX_QUERY_LENGTH,
      }),
    subject: z
      .string()
      .max(maxSubjectLength)
      // Any character a subject may hold (spaces, Unicode, `/`); the search matches it literally.
      .regex(/^[^\p{Cc}]+$/u, "a subject pattern: subject characters and * wildcards")
      .optional()
      .openapi({ description: "Subject pattern; * matches any run of characters.", example: "com.acme.*" }),
    schema_type: z.enum(SCHEMA_TYPES).optional(),
    tags: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined || text === "") return undefined;
        const tags = text.split(",").map((part) => part.trim());
        for (const item of tags) {
          const result = tag.safeParse(item);
          if (!result.success) {
            ctx.addIssue({
              code: "custom",
              message: `tag ${JSON.stringify(item)}: ${result.error.issues[0]?.message}`,
            });
            return z.NEVER;
          }
        }
        return tags;
      })
      .openapi({
        description: "Comma list; every tag must be present.",
        type: "string",
        example: "llm,production",
      }),
    owner: z.string().min(1).max(MAX_OWNER_LENGTH).optional(),
    state: stateList,
    metadata: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          ctx.addIssue({ code: "custom", message: "expected a JSON object, got text that is not JSON" });
          return z.NEVER;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          ctx.addIssue({ code: "custom", message: "expected a JSON object" });
          return z.NEVER;
        }
        return value as Record<string, unknown>;
      })
      .openapi({
        description: 'A JSON object the metadata must contain, such as {"custom":{"model_family":"gpt"}}.',
        type: "string",
      }),
    sort: z
      .enum(SORT_VALUES, { message: `expected one of ${SORT_VALUES.join(", ")}` })
      .optional()
      .openapi({
        description:
          "relevance (best match first; needs q), created_at, subject or version (semver precedence); a - prefix reverses the order. Default: relevance with q, else -created_at.",
      }),
    include,
    include_deleted: includeDeleted,
    ...page,
  });
}

/** The sort of a search: `relevance` is best first, a `-` prefix reverses any order. */
function parseSort(
  value: string | undefined,
  hasQuery: boolean,
): { field: SearchSortField; descending: boolean } {
  const text = value ?? (hasQuery ? "relevance" : "-created_at");
  const reversed = text.startsWith("-");
  const field = (reversed ? text.slice(1) : text) as SearchSortField;
  // Relevance reads best-first by default, which is the descending score.
  return { field, descending: field === "relevance" ? !reversed : reversed };
}

function toSearchHitResource(hit: SearchHit, withContent: boolean): z.infer<typeof searchHit> {
  return { ...toSchemaResource(hit, { withContent }), score: hit.score };
}

export function searchSchemas(app: RegistryApp, { service }: AppDeps): void {
  const { limits } = service;
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/search`,
    operationId: "searchSchemas",
    tags: ["search"],
    summary: "Search schemas",
    description: "Every filter given must match. Items carry no content unless include=content.",
    request: { query: searchQuery(limitedSchemas(limits), limits.maxSubjectLength) },
    responses: {
      200: {
        description: "A page of matches.",
        headers: requestIdHeader,
        content: { "application/json": { schema: searchResults } },
      },
      ...errorResponses(),
    },
  });

  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    const withContent = query.include === "content";
    // A caller limited to one subject prefix searches under it; with several, the results are filtered.
    const prefix = singlePrefix(c);
    const narrowed = prefix !== null && query.subject === undefined;
    const search = (page: { limit: number; offset: number }) =>
      service.search({
        q: query.q,
        subject: narrowed ? `${prefix}*` : query.subject,
        schemaType: query.schema_type,
        tags: query.tags,
        owner: query.owner,
        states: query.state,
        metadata: query.metadata,
        sort: parseSort(query.sort, query.q !== undefined),
        includeDeleted: query.include_deleted,
        withContent,
        limit: page.limit,
        offset: page.offset,
      });
    const request = { limit: query.limit, offset: query.offset };
    const found = narrowed ? await search(request) : await scopedPage(c, request, search);
    return c.json(
      {
        items: found.items.map((hit) => toSearchHitResource(hit, withContent)),
        limit: found.limit,
        offset: found.offset,
        total: found.total,
        total_exact: found.totalExact !== false,
      },
      200,
    );
  });
}

/**
 * The HTTP contract's zod schemas: request bodies, query strings, path
 * parameters and resources, in API.md's snake_case. Patterns and numbers come
 * from the domain (limits.ts, semver.ts, types.ts), so each rule is defined
 * once; the schemas are built from the configured limits, so validation and
 * the OpenAPI document both show the limits this instance enforces.
 */
import { z } from "@hono/zod-openapi";
import { LATEST_ELIGIBLE_STATES } from "../domain/lifecycle.ts";
import {
  type Limits,
  MAX_OWNER_LENGTH,
  SUBJECT_PATTERN,
  TAG_PATTERN,
  uploadLimitFor,
} from "../domain/limits.ts";
import { isSemVer, MAX_VERSION_LENGTH } from "../domain/semver.ts";
import type { SearchSortField } from "../domain/types.ts";
import { CONTENT_LOCATIONS, SCHEMA_STATES, SCHEMA_TYPES, type SchemaState } from "../domain/types.ts";

/** Page size of lists when `limit` is not given, and the most a client may ask for. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** Longest `reason` of a state change, and longest `q` of a search. */
export const MAX_REASON_LENGTH = 1024;
export const MAX_QUERY_LENGTH = 256;

/** Error codes of the envelope: API.md's, plus 405 for a known path with another method. */
const ERROR_CODES = [
  "invalid_request",
  "not_found",
  "version_exists",
  "invalid_transition",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_schema",
  "unavailable",
  "internal",
  "method_not_allowed",
] as const;

const SORT_FIELDS = [
  "relevance",
  "created_at",
  "subject",
  "version",
] as const satisfies readonly SearchSortField[];
const SORT_VALUES = SORT_FIELDS.flatMap((field) => [field, `-${field}`]) as [string, ...string[]];

/** `?flag=true|false`: anything else is a 400, so a typo is not read as false. */
const booleanFlag = (description: string) =>
  z
    .enum(["true", "false"], { message: "expected true or false" })
    .optional()
    .transform((value) => value === "true")
    .openapi({ description, type: "string", enum: ["true", "false"] });

const integerParam = (min: number, max: number, fallback: number, description: string) =>
  z
    .string()
    .regex(/^\d{1,10}$/, `expected an integer from ${min} to ${max}`)
    .optional()
    .transform((value) => (value === undefined ? fallback : Number(value)))
    .pipe(
      z
        .number()
        .int()
        .min(min, `expected an integer from ${min} to ${max}`)
        .max(max, `expected an integer from ${min} to ${max}`),
    )
    .openapi({ description, type: "integer", minimum: min, maximum: max, default: fallback });

/** `?state=active,deprecated`: a comma list of known states. */
const stateList = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text === "") return undefined;
    const states = text.split(",").map((part) => part.trim());
    for (const state of states) {
      if (!(SCHEMA_STATES as readonly string[]).includes(state)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown state ${JSON.stringify(state)}; expected any of ${SCHEMA_STATES.join(", ")}`,
        });
        return z.NEVER;
      }
    }
    return [...new Set(states)] as SchemaState[];
  })
  .openapi({
    description: `Comma list of states to keep: ${SCHEMA_STATES.join(", ")}.`,
    type: "string",
    example: "active,deprecated",
  });

export function createApiSchemas(limits: Limits) {
  const subject = z
    .string()
    .min(1)
    .max(limits.maxSubjectLength, `at most ${limits.maxSubjectLength} characters`)
    .regex(SUBJECT_PATTERN, `must match ${SUBJECT_PATTERN.source}`)
    .openapi({ example: "com.acme.chat.CompletionRequest" });

  const version = z
    .string()
    .max(MAX_VERSION_LENGTH)
    .refine(isSemVer, "must be a Semantic Versioning 2.0.0 version, such as 1.2.0 or 1.0.0-rc.1")
    .openapi({ description: "A Semantic Versioning 2.0.0 version.", example: "1.2.0" });

  const tag = z
    .string()
    .min(1)
    .max(limits.maxTagLength, `at most ${limits.maxTagLength} characters`)
    .regex(TAG_PATTERN, `must match ${TAG_PATTERN.source}`);

  const metadata = z
    .strictObject({
      description: z.string().max(limits.maxDescriptionLength).nullish(),
      tags: z.array(tag).max(limits.maxTags, `at most ${limits.maxTags} tags`).nullish(),
      owner: z.string().min(1).max(MAX_OWNER_LENGTH).nullish(),
      custom: z.record(z.string(), z.unknown()).nullish(),
    })
    .openapi("SchemaMetadata", {
      description: `Descriptive data, at most ${limits.maxMetadataBytes} bytes as JSON.`,
      example: {
        description: "Request body of the chat completion call",
        tags: ["llm", "production"],
        owner: "platform-team",
        custom: { model_family: "gpt" },
      },
    });

  const errorEnvelope = z
    .object({
      error: z.object({
        code: z.enum(ERROR_CODES),
        message: z.string(),
        details: z.record(z.string(), z.unknown()),
        request_id: z.string(),
      }),
    })
    .openapi("Error", {
      example: {
        error: {
          code: "not_found",
          message: "schema 5f0c2a4e-1b7d-4c3e-9a51-0d2f6b8e7c11 does not exist",
          details: { id: "5f0c2a4e-1b7d-4c3e-9a51-0d2f6b8e7c11" },
          request_id: "0b8f3c5e-7d2a-4f1b-8e6c-9a4d2b1c3e5f",
        },
      },
    });

  const schemaResource = z
    .object({
      id: z.uuid(),
      global_id: z.number().int().positive(),
      subject: z.string(),
      version: z.string(),
      schema_type: z.enum(SCHEMA_TYPES),
      state: z.enum(SCHEMA_STATES),
      content: z.unknown().optional().openapi({
        description:
          "The schema: a JSON value for json and avro, the .proto source string for protobuf. Left out of list items unless include=content, and of object-store schemas in favour of content_url.",
      }),
      content_url: z.url().optional().openapi({ description: "Presigned GET URL of object-store content." }),
      content_url_expires_at: z.iso.datetime().optional(),
      content_hash: z
        .string()
        .openapi({ example: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" }),
      content_size: z.number().int().nonnegative(),
      content_location: z.enum(CONTENT_LOCATIONS),
      metadata: z.object({
        description: z.string().optional(),
        tags: z.array(z.string()).optional(),
        owner: z.string().optional(),
        custom: z.record(z.string(), z.unknown()).optional(),
      }),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
      deleted_at: z.iso.datetime().nullable(),
    })
    .openapi("Schema");

  const pageOf = <T extends z.ZodType>(item: T, name: string) =>
    z
      .object({
        items: z.array(item),
        limit: z.number().int(),
        offset: z.number().int(),
        total: z.number().int(),
      })
      .openapi(name);

  const searchHit = schemaResource
    .extend({
      score: z
        .number()
        .nullable()
        .openapi({ description: "Trigram similarity to q (0 to 1); null without q." }),
    })
    .openapi("SearchHit");

  const subjectResource = z
    .object({
      subject: z.string(),
      latest_version: z
        .string()
        .nullable()
        .openapi({
          description: `The highest version that is not deleted and is ${LATEST_ELIGIBLE_STATES.join(" or ")}.`,
        }),
      version_count: z.number().int(),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
    })
    .openapi("Subject");

  const transition = z
    .object({
      from_state: z
        .enum(SCHEMA_STATES)
        .nullable()
        .openapi({ description: "null for the registration itself." }),
      to_state: z.enum(SCHEMA_STATES),
      reason: z.string().nullable(),
      changed_at: z.iso.datetime(),
    })
    .openapi("StateTransition");

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

  const registerBody = z
    .strictObject({
      subject,
      schema_type: z.enum(SCHEMA_TYPES),
      content: z.unknown().optional().openapi({
        description:
          "A JSON value for json and avro (a string holding the JSON text is accepted too); the .proto source string for protobuf. Required unless upload_id is given.",
      }),
      upload_id: z.uuid("must be the upload_id answered by POST /api/v1/uploads").optional().openapi({
        description:
          "In place of content: a direct upload (POST /api/v1/uploads) whose object holds the content as text (JSON text, an Avro type name, or .proto source). The server reads and validates it; the upload is removed once registered, and kept until it expires otherwise, so a register refused with 409 can be retried with another version.",
      }),
      version: version.optional().openapi({
        description: "Absent: 1.0.0 for a new subject, else the latest version's minor + 1.",
      }),
      state: z.enum(["draft", "active"]).optional().openapi({ description: "Default active." }),
      metadata: metadata.optional(),
    })
    .superRefine((body, ctx) => {
      if (body.content !== undefined && body.upload_id !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["upload_id"],
          message: "give either content or upload_id, not both",
        });
      } else if (body.content === undefined && body.upload_id === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["content"],
          message: "required, unless upload_id names content uploaded through POST /api/v1/uploads",
        });
      }
    })
    .openapi("RegisterSchema", {
      example: {
        subject: "com.acme.chat.CompletionRequest",
        schema_type: "json",
        content: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
        version: "1.0.0",
        metadata: { tags: ["llm"], owner: "platform-team" },
      },
    });

  const uploadLimit = uploadLimitFor(limits.maxSchemaBytes);
  const uploadRequest = z
    .strictObject({
      schema_type: z.enum(SCHEMA_TYPES),
      content_length: z
        .number()
        .int()
        .min(1)
        .openapi({
          description: `Bytes the client will PUT, at most ${uploadLimit} (twice the content limit, as for a request body: the uploaded text may be pretty printed; its canonical form is held to ${limits.maxSchemaBytes} bytes when registered). Over the limit: 413.`,
          example: 2_097_152,
        }),
    })
    .openapi("UploadRequest", { example: { schema_type: "json", content_length: 2_097_152 } });

  const uploadTicket = z
    .object({
      upload_id: z.uuid().openapi({ description: "Give it to POST /api/v1/schemas in place of content." }),
      url: z
        .url()
        .openapi({ description: "Presigned URL to PUT the content to, straight to the object store." }),
      method: z.literal("PUT"),
      headers: z.record(z.string(), z.string()).openapi({
        description: "Headers to send with the PUT, exactly: they are signed (Content-Type).",
        example: { "content-type": "application/schema+json" },
      }),
      expires_at: z.iso.datetime().openapi({
        description: "The URL works until then; an upload never registered is removed after it.",
      }),
    })
    .openapi("UploadTicket");

  const stateChangeBody = z
    .strictObject({
      state: z.enum(SCHEMA_STATES),
      reason: z.string().max(MAX_REASON_LENGTH).nullish(),
    })
    .openapi("StateChange", { example: { state: "deprecated", reason: "superseded by 2.0.0" } });

  const schemaIdParam = z.object({
    id: z.string().openapi({
      param: { name: "id", in: "path" },
      description: "The schema's UUID, or its global_id.",
      example: "17",
    }),
  });

  const subjectParam = z.object({
    subject: subject.openapi({ param: { name: "subject", in: "path" } }),
  });

  const page = {
    limit: integerParam(0, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, "Items per page."),
    offset: integerParam(0, 2_147_483_647, 0, "Items to skip."),
  };
  const include = z.enum(["content"], { message: "expected content" }).optional().openapi({
    description: "content: put each item's content in the list (and load object-store content).",
  });
  const includeDeleted = booleanFlag("Also show soft-deleted schemas.");

  const searchQuery = z.object({
    q: z
      .string()
      .max(MAX_QUERY_LENGTH)
      .optional()
      // An empty search box means no text filter, not an error.
      .transform((text) => (text?.trim() ? text.trim() : undefined))
      .openapi({
        description: "Fuzzy text over subject, description and tags.",
        type: "string",
        maxLength: MAX_QUERY_LENGTH,
      }),
    subject: z
      .string()
      .max(limits.maxSubjectLength)
      .regex(/^[A-Za-z0-9._*-]+$/, "a subject pattern: subject characters and * wildcards")
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

  return {
    subject,
    version,
    metadata,
    errorEnvelope,
    schemaResource,
    schemaList: pageOf(schemaResource, "SchemaList"),
    searchResults: pageOf(searchHit, "SearchResults"),
    subjectList: pageOf(subjectResource, "SubjectList"),
    subjectResource,
    transition,
    stats,
    registerBody,
    uploadRequest,
    uploadTicket,
    stateChangeBody,
    schemaIdParam,
    subjectParam,
    page,
    include,
    includeDeleted,
    stateList,
    searchQuery,
    booleanFlag,
  };
}

export type ApiSchemas = ReturnType<typeof createApiSchemas>;

/** The sort of a search: `relevance` is best first, a `-` prefix reverses any order. */
export function parseSort(
  value: string | undefined,
  hasQuery: boolean,
): { field: SearchSortField; descending: boolean } {
  const text = value ?? (hasQuery ? "relevance" : "-created_at");
  const reversed = text.startsWith("-");
  const field = (reversed ? text.slice(1) : text) as SearchSortField;
  // Relevance reads best-first by default, which is the descending score.
  return { field, descending: field === "relevance" ? !reversed : reversed };
}

/**
 * The zod side of the HTTP contract: the pieces more than one route uses (the
 * schema resource, the error envelope and the error responses, paging, the
 * common path and query parameters, and the schemas whose lengths come from
 * the configured limits). Each route file holds the rest of its own contract.
 * The plain values every request meets (the API prefix, page sizes) live in
 * contract.ts, which this module re-exports: the schema fast path, the
 * permission table and the rate limiter use them without building any zod
 * schema, so an edge isolate's first read builds none.
 *
 * Patterns and numbers come from the domain (limits.ts, semver.ts, types.ts,
 * errors.ts), so each rule is defined once, and the limit-dependent schemas
 * are built from the limits this instance enforces, so validation and the
 * OpenAPI document both show them.
 */
import { z } from "@hono/zod-openapi";
import {
  COMPATIBILITY_LEVELS,
  type EffectiveSettings,
  type EvolutionSettings,
  SEMVER_POLICIES,
} from "../domain/compatibility/index.ts";
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from "../domain/errors.ts";
import { type Limits, MAX_OWNER_LENGTH, SUBJECT_PATTERN, TAG_PATTERN } from "../domain/limits.ts";
import { REQUEST_ID_HEADER } from "../domain/request-id.ts";
import { isSemVer, MAX_VERSION_LENGTH } from "../domain/semver.ts";
import { CONTENT_LOCATIONS, SCHEMA_STATES, SCHEMA_TYPES, type SchemaState } from "../domain/types.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./contract.ts";

export { API_PREFIX, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./contract.ts";

// ---- resources -----------------------------------------------------------

/** A reference from a schema to a version of another subject, under the name the schema uses for it. */
export const schemaReference = z
  .strictObject({
    name: z.string().min(1).openapi({
      description:
        "What the schema calls it: an Avro named type's full name, a JSON Schema $ref value, a Protobuf import path.",
    }),
    subject: z.string().min(1),
    version: z
      .number()
      .int()
      .positive()
      .openapi({ description: "The referenced subject's integer version." }),
  })
  .openapi("SchemaReference");

export const schemaResource = z
  .object({
    id: z.uuid(),
    global_id: z.number().int().positive(),
    subject: z.string(),
    version: z.string(),
    content_id: z.number().int().positive().openapi({
      description:
        "The id of the content (type, canonical content and references): the same schema under any subject has one, and it is the schema id of the Confluent-compatible API.",
    }),
    subject_version: z.number().int().positive().openapi({
      description:
        "The subject's integer version (1, 2, 3 …; soft-deleted versions keep theirs), the version of the Confluent-compatible API.",
    }),
    references: z.array(schemaReference),
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

/** A schema as it leaves the registry (schema-representation.ts makes it). */
export type SchemaResource = z.infer<typeof schemaResource>;

// ---- content of a register or a dry run -----------------------------------

/** What a register and a compatibility dry run both take to name the content. */
export const contentFields = {
  schema_type: z.enum(SCHEMA_TYPES),
  content: z.unknown().optional().openapi({
    description:
      "A JSON value for json and avro (a string holding the JSON text is accepted too); the .proto source string for protobuf. Required unless upload_id is given.",
  }),
  upload_id: z.uuid("must be the upload_id answered by POST /api/v1/uploads").optional().openapi({
    description:
      "In place of content: a direct upload (POST /api/v1/uploads) whose object holds the content as text (JSON text, an Avro type name, or .proto source). The server reads and validates it.",
  }),
};

/** Exactly one of content and upload_id: the superRefine of a body with `contentFields`. */
export function requireContentOrUpload(
  body: { content?: unknown; upload_id?: string | undefined },
  ctx: z.RefinementCtx,
): void {
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
}

// ---- errors --------------------------------------------------------------

export const errorEnvelope = z
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

/** What a status means beyond its codes, for the statuses routes document (405 is the app's, not a route's). */
const STATUS_NOTES = {
  400: "malformed JSON, a field of the wrong type, an unknown query value",
  401: "no credentials, or credentials the registry does not accept (WWW-Authenticate names the schemes)",
  403: "the caller's role or subject prefixes do not allow the operation",
  404: "no such schema, subject or version",
  409: null,
  413: "body or content over the configured limit",
  415: "a body that is not JSON",
  422: "content that is not a valid schema of its schema_type, with the parser's message",
  500: "anything else; the message leaks no internals",
  503: "a backend the request needs is down",
} as const satisfies Partial<Record<(typeof ERROR_STATUS)[ErrorCode], string | null>>;

export type ErrorStatus = keyof typeof STATUS_NOTES;

/** One named example of an error envelope, for a status whose codes need telling apart. */
export interface ErrorExample {
  summary: string;
  value: {
    error: { code: ErrorCode; message: string; details: Record<string, unknown>; request_id: string };
  };
}

/** `not_found: no such …`, or for a status of several codes `a, b or c`. */
function describeStatus(status: ErrorStatus): string {
  const codes = ERROR_CODES.filter((code) => ERROR_STATUS[code] === status);
  const names = codes.length > 1 ? `${codes.slice(0, -1).join(", ")} or ${codes.at(-1)}` : codes[0];
  const note = STATUS_NOTES[status];
  return note === null ? `${names}` : `${names}: ${note}`;
}

type ErrorResponse = {
  description: string;
  content: { "application/json": { schema: typeof errorEnvelope; examples?: Record<string, ErrorExample> } };
};

/** The error envelope under each status a route answers with: 400, 500 and 503 can answer any route; add the route's own. */
export function errorResponses(...statuses: ErrorStatus[]): Record<ErrorStatus, ErrorResponse> {
  const all = new Set<ErrorStatus>([400, ...statuses, 500, 503]);
  const entries = [...all]
    .sort((a, b) => a - b)
    .map((status) => [
      status,
      { description: describeStatus(status), content: { "application/json": { schema: errorEnvelope } } },
    ]);
  return Object.fromEntries(entries) as Record<ErrorStatus, ErrorResponse>;
}

/**
 * One status of `errorResponses` told in a route's own words, with examples:
 * spread after `errorResponses(...)` so it replaces that status's entry.
 */
export function errorResponse(
  status: ErrorStatus,
  description: string,
  examples: Record<string, ErrorExample>,
): Record<ErrorStatus, ErrorResponse> {
  return {
    [status]: { description, content: { "application/json": { schema: errorEnvelope, examples } } },
  } as Record<ErrorStatus, ErrorResponse>;
}

export const requestIdHeader = {
  [REQUEST_ID_HEADER]: {
    description: "The request's id: the client's when it was sane, else a generated UUID.",
    schema: { type: "string" as const },
  },
};

// ---- paging and common parameters ----------------------------------------

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

/** `?limit=&offset=`, to spread into a route's query object. */
export const page = {
  limit: integerParam(0, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, "Items per page."),
  offset: integerParam(0, 2_147_483_647, 0, "Items to skip."),
};

/** A page of `item`s, as every list answers. */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      limit: z.number().int(),
      offset: z.number().int(),
      total: z.number().int(),
    })
    .openapi(name);

/** `?flag=true|false`: anything else is a 400, so a typo is not read as false. */
export const booleanFlag = (description: string) =>
  z
    .enum(["true", "false"], { message: "expected true or false" })
    .optional()
    .transform((value) => value === "true")
    .openapi({ description, type: "string", enum: ["true", "false"] });

export const include = z.enum(["content"], { message: "expected content" }).optional().openapi({
  description: "content: put each item's content in the list (and load object-store content).",
});

export const includeDeleted = booleanFlag("Also show soft-deleted schemas.");

/** `?state=active,deprecated`: a comma list of known states. */
export const stateList = z
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

export const schemaIdParam = z.object({
  id: z.string().openapi({
    param: { name: "id", in: "path" },
    description: "The schema's UUID, or its global_id.",
    example: "17",
  }),
});

export const version = z
  .string()
  .max(MAX_VERSION_LENGTH)
  .refine(isSemVer, "must be a Semantic Versioning 2.0.0 version, such as 1.2.0 or 1.0.0-rc.1")
  .openapi({ description: "A Semantic Versioning 2.0.0 version.", example: "1.2.0" });

// ---- schemas sized by the limits ----------------------------------------

function schemasFor(limits: Limits) {
  const subject = z
    .string()
    .min(1)
    .max(limits.maxSubjectLength, `at most ${limits.maxSubjectLength} characters`)
    .regex(SUBJECT_PATTERN, "must hold no control characters and not be only whitespace")
    .openapi({ example: "com.acme.chat.CompletionRequest" });

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

  const subjectParam = z.object({
    subject: subject.openapi({ param: { name: "subject", in: "path" } }),
  });

  return { subject, tag, metadata, subjectParam };
}

const sized = new WeakMap<Limits, ReturnType<typeof schemasFor>>();

/** The schemas whose lengths are the instance's limits, built once per limits object. */
export function limitedSchemas(limits: Limits): ReturnType<typeof schemasFor> {
  let schemas = sized.get(limits);
  if (schemas === undefined) {
    schemas = schemasFor(limits);
    sized.set(limits, schemas);
  }
  return schemas;
}

// ---- evolution settings --------------------------------------------------

/** A zod enum whose message lists the allowed values and what was sent, so a typo is fixed at once. */
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) =>
      `expected one of ${values.join(", ")} (got ${JSON.stringify(issue.input) ?? "nothing"})`,
  });

export const compatibilityLevel = enumOf(COMPATIBILITY_LEVELS).openapi("CompatibilityLevel", {
  description:
    "BACKWARD: consumers on the new schema read data written with the previous version (the new schema is the reader); FORWARD: consumers on the previous version read data written with the new one; FULL: both. The _TRANSITIVE levels compare with every version that is not deleted instead of the latest alone. NONE checks nothing.",
  example: "BACKWARD",
});

export const semverPolicy = enumOf(SEMVER_POLICIES).openapi("SemverPolicy", {
  description:
    "advise: an explicit version on a register is taken as long as it is free. enforce: an explicit version must be at least as large a step above the latest version as the change calls for (major for a breaking change), else 409 version_policy.",
  example: "advise",
});

/** Settings as stored for a subject: only the fields it sets. */
export const evolutionSettings = z
  .object({ compatibility: compatibilityLevel.optional(), semver_policy: semverPolicy.optional() })
  .openapi("EvolutionSettings", { example: { compatibility: "FULL" } });

/** The settings in force: every field. */
export const effectiveSettings = z
  .object({ compatibility: compatibilityLevel, semver_policy: semverPolicy })
  .openapi("EffectiveSettings", { example: { compatibility: "BACKWARD", semver_policy: "advise" } });

/** The body of both PUTs: at least one field, no other key. */
export const settingsChange = z
  .strictObject({ compatibility: compatibilityLevel.optional(), semver_policy: semverPolicy.optional() })
  .refine((body) => body.compatibility !== undefined || body.semver_policy !== undefined, {
    message: "give compatibility, semver_policy or both",
  })
  .openapi("EvolutionSettingsChange", {
    example: { compatibility: "FULL_TRANSITIVE", semver_policy: "enforce" },
  });

export function toSettingsResource(settings: EvolutionSettings): z.infer<typeof evolutionSettings> {
  return {
    ...(settings.compatibility !== undefined ? { compatibility: settings.compatibility } : {}),
    ...(settings.semverPolicy !== undefined ? { semver_policy: settings.semverPolicy } : {}),
  };
}

export function toEffectiveResource(settings: EffectiveSettings): z.infer<typeof effectiveSettings> {
  return { compatibility: settings.compatibility, semver_policy: settings.semverPolicy };
}

export function fromSettingsChange(body: z.infer<typeof settingsChange>): EvolutionSettings {
  return {
    ...(body.compatibility !== undefined ? { compatibility: body.compatibility } : {}),
    ...(body.semver_policy !== undefined ? { semverPolicy: body.semver_policy } : {}),
  };
}

// ---- data validation -----------------------------------------------------

/**
 * The body of both validate routes. Any JSON value is a document; an object
 * whose only key is `documents`, holding an array, is a batch of them.
 */
export const validationBody = z.unknown().openapi("ValidationRequest", {
  description:
    'The JSON document to check, or a batch: an object whose only key is "documents", holding an array of documents. A single document of exactly that shape must itself be wrapped: {"documents": [doc]}.',
  example: { documents: [{ prompt: "Hello" }, { prompt: 42 }] },
});

const dataError = z
  .object({
    path: z.string().openapi({ description: 'JSON pointer into the document: "" for its root.' }),
    message: z.string(),
  })
  .openapi("DataError", { example: { path: "/prompt", message: "must be string" } });

export const dataVerdict = z
  .object({ valid: z.boolean(), errors: z.array(dataError) })
  .openapi("DataVerdict", {
    example: { valid: false, errors: [{ path: "/prompt", message: "must be string" }] },
  });

export const batchVerdict = z
  .object({
    valid: z.boolean().openapi({ description: "True when every document is valid." }),
    results: z.array(dataVerdict).openapi({ description: "One verdict per document, in the order sent." }),
  })
  .openapi("BatchVerdict", {
    example: {
      valid: false,
      results: [
        { valid: true, errors: [] },
        { valid: false, errors: [{ path: "/prompt", message: "must be string" }] },
      ],
    },
  });

/** A Protobuf full name, optionally absolute (leading dot). */
const MESSAGE_NAME = /^\.?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const MAX_MESSAGE_NAME_LENGTH = 512;

/** `?message=`: the Protobuf message the documents are. */
export const messageQuery = z
  .string()
  .max(MAX_MESSAGE_NAME_LENGTH, `at most ${MAX_MESSAGE_NAME_LENGTH} characters`)
  .regex(MESSAGE_NAME, "must be a Protobuf message name such as acme.v1.Order")
  .optional()
  .openapi({
    description:
      "Protobuf: the message the documents are, by full name (acme.v1.Order) or relative to the package (Order); by default the first message the file declares. Given for a JSON Schema or an Avro schema, it answers 400.",
    example: "acme.Order",
  });

/**
 * The registry's limits, defined once. The HTTP layer's zod schemas reuse the
 * patterns and numbers from here; the service calls the check functions, so
 * every entry point enforces the same rules with the same messages.
 *
 * Patterns hold the character rules only; lengths come from `Limits` so that a
 * configured limit is the one enforced (the documented tag pattern `{0,49}` is the
 * default `maxTagLength` of 50 written into the pattern).
 */
import { RegistryError } from "./errors.ts";
import type { SchemaMetadata } from "./types.ts";

/**
 * A subject: any Unicode text without control characters that is not only
 * whitespace. Confluent's clients name subjects after topics and records
 * (`orders-value`, `com.acme.Order`) and some use spaces and `/` (sent in a
 * path as `%2F`), so both APIs take what Confluent's registry takes.
 */
export const SUBJECT_PATTERN = /^(?!\s*$)[^\p{Cc}]+$/u;

/** A tag: starts with a letter or digit, then letters, digits, `_`, `.`, `:`, `-`. */
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export interface Limits {
  /** UTF-8 bytes of the canonical content (`MAX_SCHEMA_BYTES`). */
  maxSchemaBytes: number;
  /** Characters of a subject. */
  maxSubjectLength: number;
  maxTags: number;
  /** Characters of one tag. */
  maxTagLength: number;
  /** Characters (code points) of `metadata.description`. */
  maxDescriptionLength: number;
  /** UTF-8 bytes of the metadata object written as JSON. */
  maxMetadataBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxSchemaBytes: 16 * 1024 * 1024,
  maxSubjectLength: 255,
  maxTags: 50,
  maxTagLength: 50,
  maxDescriptionLength: 4096,
  maxMetadataBytes: 16 * 1024,
});

/**
 * The largest direct upload for a content limit: the allowance a request body
 * gets, twice the content, since the uploaded text may be pretty printed and
 * only its canonical form is held to `maxSchemaBytes`.
 */
export function uploadLimitFor(maxSchemaBytes: number): number {
  return 2 * maxSchemaBytes;
}

/** Characters (code points) of `metadata.owner`; not configurable. */
export const MAX_OWNER_LENGTH = 255;

/**
 * Deepest nesting of arrays and objects accepted in JSON content. Far beyond
 * any real schema, and low enough that every recursive step (canonical form,
 * meta-schema validation, Avro parsing) stays clear of the call stack limit.
 */
export const MAX_CONTENT_DEPTH = 1000;

/**
 * Deepest nesting of arrays and objects in `metadata.custom`. Metadata is a
 * few labels (16 KiB at most); a bound far below MAX_CONTENT_DEPTH keeps
 * every walk of it (the size check's JSON.stringify, the database's JSONB)
 * shallow whatever the caller sends.
 */
export const MAX_METADATA_DEPTH = 32;

/**
 * Where a JSON value cannot be stored as it is: nested deeper than
 * `maxDepth`, or holding U+0000 in a string or a key (PostgreSQL's JSONB and
 * text refuse it, and the registry serves what it stores exactly as it was
 * registered, so it refuses rather than alter it). `path` is a JSON pointer
 * to the place. Iterative, so no value can overflow the stack here.
 */
export function unstorableJson(
  value: unknown,
  maxDepth: number,
): { problem: "depth" | "nul"; path: string } | null {
  const stack: [unknown, number, string][] = [[value, 0, ""]];
  while (stack.length > 0) {
    const [item, depth, path] = stack.pop()!;
    if (typeof item === "string") {
      if (item.includes("\u0000")) return { problem: "nul", path: excerpt(path) };
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    if (depth + 1 > maxDepth) return { problem: "depth", path: excerpt(path) };
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], depth + 1, `${path}/${i}`]);
      continue;
    }
    for (const [key, child] of Object.entries(item)) {
      const at = `${path}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      if (key.includes("\u0000")) return { problem: "nul", path: excerpt(at) };
      stack.push([child, depth + 1, at]);
    }
  }
  return null;
}

/** A pointer short enough for an error message: keys may be megabytes long. */
function excerpt(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/** Keys `metadata` may hold; anything else is rejected rather than silently stored. */
export const METADATA_KEYS = ["description", "tags", "owner", "custom"] as const;

export function validateSubject(subject: string, limits: Limits = DEFAULT_LIMITS): void {
  if (typeof subject !== "string") throw RegistryError.invalidRequest("subject must be a string");
  // Characters are code points, as the database's char_length counts them.
  const length = codePoints(subject);
  if (length < 1 || length > limits.maxSubjectLength) {
    throw RegistryError.invalidRequest(
      `subject must be 1 to ${limits.maxSubjectLength} characters long (got ${length})`,
      { field: "subject", resource: "subject", max_length: limits.maxSubjectLength },
    );
  }
  if (!SUBJECT_PATTERN.test(subject)) {
    throw RegistryError.invalidRequest("subject must hold no control characters and not be only whitespace", {
      field: "subject",
      resource: "subject",
      pattern: SUBJECT_PATTERN.source,
    });
  }
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Checks `metadata` against the limits and returns it with only the known keys.
 *
 * `undefined` or `null` (the whole object or one field) means "not given".
 * Metadata over `maxMetadataBytes` is `invalid_request` (400), not
 * `payload_too_large`: the API keeps 413 for the body and the content (docs/api.md).
 * Duplicate tags are rejected, not merged, so what is stored is what was sent.
 */
export function validateMetadata(metadata: unknown, limits: Limits = DEFAULT_LIMITS): SchemaMetadata {
  if (metadata === undefined || metadata === null) return {};
  if (!isPlainObject(metadata)) throw RegistryError.invalidRequest("metadata must be an object");

  const unknown = Object.keys(metadata).filter((key) => !(METADATA_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw RegistryError.invalidRequest(
      `metadata has unknown keys: ${unknown.join(", ")}; allowed keys are ${METADATA_KEYS.join(", ")}`,
      { field: "metadata", unknown_keys: unknown },
    );
  }

  const result: SchemaMetadata = {};
  const { description, tags, owner, custom } = metadata;

  if (description !== undefined && description !== null) {
    if (typeof description !== "string") {
      throw RegistryError.invalidRequest("metadata.description must be a string", {
        field: "metadata.description",
      });
    }
    checkNoNul(description, "metadata.description");
    const length = codePointLength(description);
    if (length > limits.maxDescriptionLength) {
      throw RegistryError.invalidRequest(
        `metadata.description must be at most ${limits.maxDescriptionLength} characters long (got ${length})`,
        { field: "metadata.description", max_length: limits.maxDescriptionLength },
      );
    }
    result.description = description;
  }

  if (tags !== undefined && tags !== null) result.tags = validateTags(tags, limits);

  if (owner !== undefined && owner !== null) {
    if (typeof owner !== "string") {
      throw RegistryError.invalidRequest("metadata.owner must be a string", { field: "metadata.owner" });
    }
    checkNoNul(owner, "metadata.owner");
    const length = codePointLength(owner);
    if (length < 1 || length > MAX_OWNER_LENGTH) {
      throw RegistryError.invalidRequest(
        `metadata.owner must be 1 to ${MAX_OWNER_LENGTH} characters long (got ${length})`,
        { field: "metadata.owner", max_length: MAX_OWNER_LENGTH },
      );
    }
    result.owner = owner;
  }

  if (custom !== undefined && custom !== null) {
    if (!isPlainObject(custom)) {
      throw RegistryError.invalidRequest("metadata.custom must be an object", { field: "metadata.custom" });
    }
    // Before the size check below: JSON.stringify recurses, and custom may nest arbitrarily deep.
    const unstorable = unstorableJson(custom, MAX_METADATA_DEPTH);
    if (unstorable?.problem === "depth") {
      throw RegistryError.invalidRequest(
        `metadata.custom is nested more than ${MAX_METADATA_DEPTH} levels deep (at ${unstorable.path || "/"})`,
        { field: "metadata.custom", max_depth: MAX_METADATA_DEPTH },
      );
    }
    if (unstorable?.problem === "nul") {
      throw RegistryError.invalidRequest(
        `metadata.custom holds the character U+0000 (at ${unstorable.path}), which the registry cannot store`,
        { field: "metadata.custom", path: unstorable.path },
      );
    }
    result.custom = custom;
  }

  const size = new TextEncoder().encode(JSON.stringify(result)).length;
  if (size > limits.maxMetadataBytes) {
    throw RegistryError.invalidRequest(
      `metadata must be at most ${limits.maxMetadataBytes} bytes as JSON (got ${size})`,
      { field: "metadata", limit_bytes: limits.maxMetadataBytes, size_bytes: size },
    );
  }
  return result;
}

function validateTags(tags: unknown, limits: Limits): string[] {
  if (!Array.isArray(tags)) {
    throw RegistryError.invalidRequest("metadata.tags must be an array of strings", {
      field: "metadata.tags",
    });
  }
  if (tags.length > limits.maxTags) {
    throw RegistryError.invalidRequest(
      `metadata.tags must hold at most ${limits.maxTags} tags (got ${tags.length})`,
      { field: "metadata.tags", max_items: limits.maxTags },
    );
  }
  const seen = new Map<string, number>();
  tags.forEach((tag: unknown, i) => {
    const field = `metadata.tags[${i}]`;
    if (typeof tag !== "string") throw RegistryError.invalidRequest(`${field} must be a string`, { field });
    if (tag.length < 1 || tag.length > limits.maxTagLength) {
      throw RegistryError.invalidRequest(
        `${field} must be 1 to ${limits.maxTagLength} characters long (got ${tag.length})`,
        { field, max_length: limits.maxTagLength },
      );
    }
    if (!TAG_PATTERN.test(tag)) {
      throw RegistryError.invalidRequest(
        `${field} must match ${TAG_PATTERN.source} (got ${JSON.stringify(tag)})`,
        {
          field,
          pattern: TAG_PATTERN.source,
        },
      );
    }
    const first = seen.get(tag);
    if (first !== undefined) {
      throw RegistryError.invalidRequest(
        `${field} repeats metadata.tags[${first}] (${JSON.stringify(tag)})`,
        {
          field,
        },
      );
    }
    seen.set(tag, i);
  });
  return [...tags] as string[];
}

/** Content over `maxSchemaBytes` is `payload_too_large` (413), as docs/api.md says. */
export function checkContentSize(bytes: number, limits: Limits = DEFAULT_LIMITS): void {
  if (bytes > limits.maxSchemaBytes) {
    throw new RegistryError(
      "payload_too_large",
      `content is ${bytes} bytes, over the limit of ${limits.maxSchemaBytes} bytes`,
      { limit_bytes: limits.maxSchemaBytes, size_bytes: bytes },
    );
  }
}

/** U+0000 in a text field: PostgreSQL's text and JSONB refuse it, so the registry says so first. */
function checkNoNul(text: string, field: string): void {
  if (text.includes("\u0000")) {
    throw RegistryError.invalidRequest(
      `${field} holds the character U+0000, which the registry cannot store`,
      {
        field,
      },
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

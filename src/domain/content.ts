/**
 * Turns the `content` of a register request into what the registry stores:
 * the parsed value, its canonical text, the content hash and size. Runs the
 * type's validation, so content that comes out of here is a valid schema.
 *
 * Input rules (docs/api.md): for json and avro, `content` is a JSON value or a JSON
 * string holding JSON text; for protobuf it is the `.proto` source string.
 *
 * Avro strings: a string that is an Avro type name ("string", "null",
 * "com.acme.Event") is that name, a primitive or named type; any other string
 * is read as JSON text. Names are tried first because `null` is both a JSON
 * literal and an Avro primitive, and the user who sends "null" means the type.
 */

import { canonicalJson, normalizeProtobufSource, sha256HexOfBytes } from "./canonical.ts";
import type { SchemaDocument } from "./compatibility/types.ts";
import { RegistryError } from "./errors.ts";
import { checkContentSize, DEFAULT_LIMITS, type Limits } from "./limits.ts";
import type { ContentLocation, SchemaType } from "./types.ts";
import { checkContentDepth } from "./validation/content-depth.ts";
import { invalidSchema, messageOf } from "./validation/invalid-schema.ts";

export interface PreparedContent {
  schemaType: SchemaType;
  /** The parsed JSON value (json, avro) or the normalised `.proto` source string (protobuf). */
  value: unknown;
  /** The text the hash is taken over: canonical JSON, or the normalised source. */
  canonicalText: string;
  /** `sha256:` + hex SHA-256 of `canonicalText`. */
  contentHash: string;
  /** UTF-8 bytes of `canonicalText`: what the size limit and `content_size` measure. */
  contentSize: number;
  /** The UTF-8 encoding of `canonicalText`, kept so large content is not encoded twice (object store). */
  canonicalBytes: Uint8Array;
}

const JSON_ERROR_POSITION = /\(line (\d+) column (\d+)\)/;

const AVRO_TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Parses, canonicalises, size-checks (`payload_too_large`), validates
 * (`invalid_schema`) and hashes `raw`. Wrong input shapes are `invalid_request`.
 * The size is checked before validation so oversized content costs no parser time.
 */
/** What a schema row records about where its content is. */
export interface PlacedContent {
  contentLocation: ContentLocation;
  /** The value kept in the row; null when it lives in the object store. */
  content: unknown | null;
  contentKey: string | null;
}

/** A URL the client fetches the content from without passing through the registry. */
export interface ContentLink {
  url: string;
  expiresAt: Date;
}

export async function prepareContent(
  schemaType: SchemaType,
  raw: unknown,
  limits: Limits = DEFAULT_LIMITS,
  references: SchemaDocument["references"] = [],
): Promise<PreparedContent> {
  if (raw === undefined) throw RegistryError.invalidRequest("content is required", { field: "content" });

  let value: unknown;
  let canonicalText: string;
  if (schemaType === "protobuf") {
    if (typeof raw !== "string") {
      throw RegistryError.invalidRequest(
        "content must be a string holding the .proto source for schema_type protobuf",
        { field: "content" },
      );
    }
    value = canonicalText = normalizeProtobufSource(raw);
  } else {
    value = decodeJsonContent(schemaType, raw);
    checkContentDepth(schemaType, value);
    canonicalText = canonicalJson(value);
  }

  const bytes = new TextEncoder().encode(canonicalText);
  checkContentSize(bytes.length, limits);
  // The validators (avsc, ajv, protobufjs) load on the first content validated, not with the registry.
  const { validateSchemaContent } = await import("./validation/index.ts");
  validateSchemaContent(schemaType, value, references);
  return {
    schemaType,
    value,
    canonicalText,
    contentHash: `sha256:${await sha256HexOfBytes(bytes)}`,
    contentSize: bytes.length,
    canonicalBytes: bytes,
  };
}

function decodeJsonContent(schemaType: "json" | "avro", raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  if (schemaType === "avro" && AVRO_TYPE_NAME.test(raw)) return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    const expected = schemaType === "avro" ? "neither JSON text nor an Avro type name" : "not JSON text";
    const message = messageOf(error);
    // V8 (Deno, Node) says where the text went wrong; JavaScriptCore (Bun) does not.
    const at = JSON_ERROR_POSITION.exec(message);
    const details = at ? { line: Number(at[1]), column: Number(at[2]) } : {};
    throw invalidSchema(schemaType, `content is a string but ${expected}: ${message}`, details, error);
  }
}

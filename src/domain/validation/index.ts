/**
 * Validation of schema content by type, run on register. A schema that does
 * not parse or is not valid for its type is an `invalid_schema` RegistryError
 * (422) carrying the parser's message; see `invalid-schema.ts` for the details.
 */
import type { SchemaDocument } from "../compatibility/types.ts";
import { RegistryError } from "../errors.ts";
import { MAX_CONTENT_DEPTH, unstorableJson } from "../limits.ts";
import { SCHEMA_TYPES, type SchemaType } from "../types.ts";
import { validateAvroSchema } from "./avro.ts";
import { invalidSchema } from "./invalid-schema.ts";
import { validateJsonSchema } from "./json-schema.ts";
import { validateProtobufSchema } from "./protobuf.ts";

export { checkContentDepth } from "./content-depth.ts";
export { DEFAULT_JSON_SCHEMA_DIALECT, JSON_SCHEMA_DIALECTS, jsonSchemaDialect } from "./json-schema.ts";
export type { JsonSchemaDialect } from "./json-schema-structure.ts";

/**
 * Throws `invalid_schema` unless `content` is a valid schema of `schemaType`.
 * `content` is the parsed JSON value for json and avro, the source string for protobuf;
 * `references` are the schemas it uses by name (Avro named types, JSON Schema
 * `$ref` values, Protobuf import paths), resolved before it is.
 */
export function validateSchemaContent(
  schemaType: SchemaType,
  content: unknown,
  references: SchemaDocument["references"] = [],
): void {
  switch (schemaType) {
    case "json":
      checkStorableContent(schemaType, content);
      validateJsonSchema(content, references);
      return;
    case "avro":
      checkStorableContent(schemaType, content);
      validateAvroSchema(content, references);
      return;
    case "protobuf":
      if (typeof content === "string" && content.includes("\u0000")) {
        throw invalidSchema(
          schemaType,
          "the .proto source holds the character U+0000, which the registry cannot store",
        );
      }
      validateProtobufSchema(content, references);
      return;
    default:
      throw RegistryError.invalidRequest(
        `schema_type must be one of ${SCHEMA_TYPES.join(", ")} (got ${JSON.stringify(schemaType)})`,
        { field: "schema_type" },
      );
  }
}

/**
 * Rejects JSON content the registry cannot store as it is: nested deeper
 * than MAX_CONTENT_DEPTH, or holding U+0000 in a string or a key, which
 * PostgreSQL's JSONB refuses. Content is served exactly as registered, so it
 * is refused with a clear message before the database, never altered.
 */
export function checkStorableContent(schemaType: SchemaType, content: unknown): void {
  const unstorable = unstorableJson(content, MAX_CONTENT_DEPTH);
  if (unstorable?.problem === "depth") {
    throw invalidSchema(schemaType, `content is nested more than ${MAX_CONTENT_DEPTH} levels deep`, {
      max_depth: MAX_CONTENT_DEPTH,
    });
  }
  if (unstorable?.problem === "nul") {
    throw invalidSchema(
      schemaType,
      `content holds the character U+0000 (\\u0000) at ${unstorable.path || "/"}, which the registry cannot store`,
      { path: unstorable.path },
    );
  }
}

/**
 * Avro content: valid when avsc builds a type from it. The content is the
 * parsed schema JSON: an object (record, enum, ...), an array (a union) or a
 * string (a primitive type name).
 */
import { type Schema, Type } from "avsc";
import type { SchemaDocument } from "../compatibility/types.ts";
import { registerReferences } from "../data-validation/avro.ts";
import { invalidSchema, messageOf } from "./invalid-schema.ts";

/** `references`: the referenced schemas, whose named types the schema may use by name. */
export function validateAvroSchema(content: unknown, references: SchemaDocument["references"] = []): void {
  const isContainer = typeof content === "object" && content !== null;
  if (!isContainer && typeof content !== "string") {
    const kind = content === null ? "null" : typeof content;
    throw invalidSchema(
      "avro",
      `an Avro schema must be an object, an array (a union) or a string (a type name) (got ${kind})`,
      { path: "" },
    );
  }
  try {
    // A fresh registry per call keeps named types of one schema from leaking
    // into the next; the references' named types are registered in it first.
    // The Avro specification requires records, enums and fixed types to have
    // names; avsc only does when asked.
    const registry = references && references.length > 0 ? registerReferences(references) : {};
    Type.forSchema(content as Schema, { noAnonymousTypes: true, registry });
  } catch (error) {
    throw invalidSchema("avro", messageOf(error), {}, error);
  }
}

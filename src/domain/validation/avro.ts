/**
 * Avro content: valid when avsc builds a type from it. The content is the
 * parsed schema JSON: an object (record, enum, ...), an array (a union) or a
 * string (a primitive type name).
 */
import { type Schema, Type } from "avsc";
import { invalidSchema, messageOf } from "./invalid-schema.ts";

export function validateAvroSchema(content: unknown): void {
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
    // A fresh registry per call (avsc's default) keeps named types of one
    // schema from leaking into the next. The Avro specification requires
    // records, enums and fixed types to have names; avsc only does when asked.
    Type.forSchema(content as Schema, { noAnonymousTypes: true });
  } catch (error) {
    throw invalidSchema("avro", messageOf(error), {}, error);
  }
}

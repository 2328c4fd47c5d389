/**
 * Confluent's shapes, written exactly as Confluent writes them: keys with no
 * value are left out rather than null, `schemaType` is left out for AVRO
 * (Confluent's default), `references` only when there are some, `deleted`
 * only on a soft-deleted version read with `deleted=true`. `guid` is never
 * written: Confluent 7.x has no such field and its strict clients would trip
 * on it (GET /schemas/guids/{guid} still answers).
 *
 * Bodies of a schema by id are memoised per record the port hands back, so
 * an L1 hit that returns the same record object costs one WeakMap lookup.
 * The candidate a register, lookup or compatibility check sends is read here
 * too, with Confluent's codes for what is wrong with it.
 */
import { SCHEMA_TYPES, type SchemaType } from "../../domain/types.ts";
import type {
  ConfluentCandidate,
  ConfluentSchema,
  SchemaReference,
} from "../../registry/confluent-registry.ts";
import { ConfluentError } from "./errors.ts";

const TYPE_NAMES: Record<SchemaType, string> = { avro: "AVRO", json: "JSON", protobuf: "PROTOBUF" };
const TYPES_BY_NAME: Record<string, SchemaType> = { AVRO: "avro", JSON: "json", PROTOBUF: "protobuf" };

/** `GET /schemas/types`, in Confluent's order. */
export const SCHEMA_TYPE_NAMES = ["JSON", "PROTOBUF", "AVRO"] as const;
// A type added to the domain must get a Confluent name before it can be served.
void (SCHEMA_TYPES satisfies readonly (keyof typeof TYPE_NAMES)[]);

function references(refs: readonly SchemaReference[]): SchemaReference[] {
  return refs.map((ref) => ({ name: ref.name, subject: ref.subject, version: ref.version }));
}

/** `{schemaType?, schema, references?}`: a schema by id or by guid. */
export function schemaStringShape(schema: ConfluentSchema): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (schema.schemaType !== "avro") body.schemaType = TYPE_NAMES[schema.schemaType];
  body.schema = schema.schema;
  if (schema.references.length > 0) body.references = references(schema.references);
  return body;
}

const schemaStringBodies = new WeakMap<ConfluentSchema, string>();

/** The JSON text of `schemaStringShape`, written once per record object. */
export function schemaStringBody(schema: ConfluentSchema): string {
  let body = schemaStringBodies.get(schema);
  if (body === undefined) {
    body = JSON.stringify(schemaStringShape(schema));
    schemaStringBodies.set(schema, body);
  }
  return body;
}

/** `{subject, version, id, schemaType?, references?, schema, deleted?}`: a subject's version. */
export function subjectVersionShape(schema: ConfluentSchema, subject?: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    subject: schema.subject ?? subject,
    version: schema.version,
    id: schema.id,
  };
  if (schema.schemaType !== "avro") body.schemaType = TYPE_NAMES[schema.schemaType];
  if (schema.references.length > 0) body.references = references(schema.references);
  body.schema = schema.schema;
  if (schema.deleted === true) body.deleted = true;
  return body;
}

function invalidBody(message: string): ConfluentError {
  return new ConfluentError(400, 400, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * The schema a register, lookup or compatibility check sends:
 * `{schema, schemaType?, references?, id?, version?}`. Metadata and rule sets
 * are refused rather than dropped: the registry stores neither, and a client
 * that relies on them must hear so.
 */
export function readCandidate(body: unknown, options: { allowIdentity: boolean }): ConfluentCandidate {
  if (!isRecord(body)) throw invalidBody("request body must be a JSON object");
  const { schema, schemaType, references: refs, id, version, metadata, ruleSet } = body;
  if (isAbsent(schema) || schema === "") throw new ConfluentError(422, 42201, "Empty schema");
  if (typeof schema !== "string") throw invalidBody("schema must be a string");
  let type: SchemaType = "avro";
  if (!isAbsent(schemaType)) {
    const known = typeof schemaType === "string" ? TYPES_BY_NAME[schemaType.toUpperCase()] : undefined;
    if (known === undefined)
      throw new ConfluentError(422, 42201, `Invalid schema type ${String(schemaType)}`);
    type = known;
  }
  if (!isAbsent(metadata) || !isAbsent(ruleSet)) {
    throw new ConfluentError(422, 42201, "Schema metadata and rule sets are not supported by this registry");
  }
  const candidate: ConfluentCandidate = { schema, schemaType: type, references: readReferences(refs) };
  if (options.allowIdentity) {
    if (!isAbsent(id)) candidate.id = positiveInteger(id, "id");
    // Confluent's clients send version 0 or -1 for "none".
    if (!isAbsent(version) && version !== 0 && version !== -1)
      candidate.version = positiveInteger(version, "version");
  }
  return candidate;
}

function readReferences(value: unknown): SchemaReference[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) throw invalidBody("references must be an array");
  return value.map((ref, index) => {
    if (!isRecord(ref) || typeof ref.name !== "string" || typeof ref.subject !== "string") {
      throw invalidBody(`references[${index}] must have a string name and subject and an integer version`);
    }
    return {
      name: ref.name,
      subject: ref.subject,
      version: positiveInteger(ref.version, `references[${index}].version`),
    };
  });
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 2_147_483_647)
    return value;
  throw invalidBody(`${field} must be a positive integer`);
}

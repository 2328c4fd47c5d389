/**
 * Documents against an Avro schema. avsc parses the schema (references'
 * named types registered first); the document, a JSON value, is then walked
 * along the avsc type tree here.
 *
 * Why a walk rather than `type.isValid(document, {errorHook})`: isValid
 * checks avsc's in-memory representation, not JSON. Bytes and fixed must be
 * Buffers there, a union value must be in one form (wrapped or not, chosen
 * per union by avsc), and the hook reports a failing union or record with an
 * undeclared field as a whole, once. A JSON document has neither Buffers nor
 * a way to say which form it uses, and one error per problem with the
 * document's own path is the point of validating.
 *
 * What is accepted, so that what an LLM writes for a record validates as
 * a reader would read it:
 * - int / long: JSON integers within the 32- / 64-bit range (a long past
 *   2^53 has already lost precision in JSON.parse, but is in range);
 *   float / double: any JSON number.
 * - bytes / fixed: strings of code points U+0000–U+00FF, one per byte (Avro's
 *   JSON encoding); fixed must have exactly `size` of them.
 * - enum: one of the symbols.
 * - unions: both Avro's JSON encoding, `{"string": "x"}` (the key a branch's
 *   type name, full or short name for named types), and the plain value
 *   `"x"`, taken by the first branch that accepts it; null for a null branch.
 *   When an object could be either, the wrapped reading is tried first.
 * - records: every field present, except fields with a default (a reader
 *   would fill them in); a field the record does not declare is an error.
 * - maps: objects; arrays: arrays. Logical types are checked as their
 *   underlying type.
 */
import { type Schema, Type, type types } from "avsc";
import type { SchemaDocument } from "../compatibility/types.ts";
import { invalidSchema, messageOf } from "../validation/invalid-schema.ts";
import { describeValue, isObject, token } from "./documents.ts";
import type { DataError, TypeChecker } from "./index.ts";

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2 ** 63);
const LONG_LIMIT = 2 ** 63; // exclusive

export function compileAvroChecker(schema: SchemaDocument, maxErrors: number): TypeChecker {
  const registry = registerReferences(schema.references ?? []);
  let type: Type;
  try {
    type = Type.forSchema(schema.content as Schema, { registry });
  } catch (error) {
    throw invalidSchema("avro", messageOf(error), {}, error);
  }
  return {
    // The walk recurses with the document wherever the type does (a
    // recursive record follows a linked list to its end).
    descendsWithDocument: true,
    check(document: unknown): DataError[] | undefined {
      const errors: DataError[] = [];
      checkValue(type, document, "", errors, maxErrors);
      return errors.length === 0 ? undefined : errors;
    },
  };
}

/**
 * Parses the references into one registry so the schema can use their named
 * types. They may depend on each other in any order, so each round parses
 * those whose dependencies are there, until none is left or a round makes no
 * progress (then the first failure is reported). A failed attempt's partly
 * registered names are removed before the next try.
 */
export function registerReferences(references: SchemaDocument["references"] & object): Record<string, Type> {
  const registry: Record<string, Type> = {};
  let pending = [...references];
  while (pending.length > 0) {
    const failed: typeof pending = [];
    let firstError: unknown;
    for (const reference of pending) {
      const before = new Set(Object.keys(registry));
      try {
        Type.forSchema(reference.content as Schema, { registry });
      } catch (error) {
        for (const name of Object.keys(registry)) if (!before.has(name)) delete registry[name];
        failed.push(reference);
        firstError ??= error;
      }
    }
    if (failed.length === pending.length) {
      const name = failed[0]!.name;
      throw invalidSchema("avro", `reference ${JSON.stringify(name)}: ${messageOf(firstError)}`, {
        reference: name,
      });
    }
    pending = failed;
  }
  return registry;
}

/** The name a type goes by in messages: its full name if named, else its type name. */
function typeLabel(type: Type): string {
  return type.name ?? type.typeName;
}

function fail(errors: DataError[], path: string, message: string): void {
  errors.push({ path, message });
}

function expected(errors: DataError[], path: string, type: Type, value: unknown, note = ""): void {
  fail(errors, path, `expected ${typeLabel(type)}, got ${describeValue(value)}${note}`);
}

/** Whether `value` is a string of code points U+0000–U+00FF (Avro's JSON encoding of bytes). */
function isByteString(value: unknown): value is string {
  if (typeof value !== "string") return false;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Appends to `errors` every problem of `value` as a `type`, stopping at `max` errors. */
function checkValue(type: Type, value: unknown, path: string, errors: DataError[], max: number): void {
  if (errors.length >= max) return;
  switch (type.typeName) {
    case "null":
      if (value !== null) expected(errors, path, type, value);
      return;
    case "boolean":
      if (typeof value !== "boolean") expected(errors, path, type, value);
      return;
    case "int":
    case "long": {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        expected(errors, path, type, value);
        return;
      }
      const inRange =
        type.typeName === "int"
          ? value >= INT_MIN && value <= INT_MAX
          : value >= LONG_MIN && value < LONG_LIMIT;
      if (!inRange) expected(errors, path, type, value, " (out of range)");
      return;
    }
    case "float":
    case "double":
      if (typeof value !== "number") expected(errors, path, type, value);
      return;
    case "string":
      if (typeof value !== "string") expected(errors, path, type, value);
      return;
    case "bytes":
      if (!isByteString(value)) {
        expected(errors, path, type, value, " (bytes are strings of characters U+0000–U+00FF in JSON)");
      }
      return;
    case "fixed": {
      const size = (type as types.FixedType).size;
      if (!isByteString(value)) {
        expected(
          errors,
          path,
          type,
          value,
          ` (a fixed is a string of ${size} characters U+0000–U+00FF in JSON)`,
        );
      } else if (value.length !== size) {
        fail(errors, path, `expected ${typeLabel(type)}, ${size} bytes, got ${value.length}`);
      }
      return;
    }
    case "enum": {
      const symbols = (type as types.EnumType).symbols;
      if (typeof value !== "string" || !symbols.includes(value)) {
        fail(
          errors,
          path,
          `expected one of the symbols of enum ${typeLabel(type)} (${symbols.join(", ")}), got ${describeValue(value)}`,
        );
      }
      return;
    }
    case "array": {
      if (!Array.isArray(value)) {
        expected(errors, path, type, value);
        return;
      }
      const items = (type as types.ArrayType).itemsType;
      for (let i = 0; i < value.length && errors.length < max; i++) {
        checkValue(items, value[i], `${path}/${i}`, errors, max);
      }
      return;
    }
    case "map": {
      if (!isObject(value)) {
        expected(errors, path, type, value);
        return;
      }
      const values = (type as types.MapType).valuesType as Type;
      for (const key in value) {
        if (errors.length >= max) return;
        checkValue(values, value[key], `${path}/${token(key)}`, errors, max);
      }
      return;
    }
    case "record":
    case "error":
      checkRecord(type as types.RecordType, value, path, errors, max);
      return;
    case "union:wrapped":
    case "union:unwrapped":
      checkUnion(type as types.WrappedUnionType, value, path, errors, max);
      return;
    default:
      // Logical types (only when avsc is given implementations, which this
      // module does not do) are checked as their underlying type.
      if ("underlyingType" in type) {
        checkValue((type as types.LogicalType).underlyingType, value, path, errors, max);
        return;
      }
      fail(errors, path, `cannot check values of Avro type ${type.typeName}`);
  }
}

function checkRecord(type: types.RecordType, value: unknown, path: string, errors: DataError[], max: number) {
  if (!isObject(value)) {
    expected(errors, path, type, value);
    return;
  }
  const fields = type.fields;
  for (const field of fields) {
    if (errors.length >= max) return;
    if (!Object.hasOwn(value, field.name)) {
      if (field.defaultValue() === undefined) fail(errors, path, `missing required field '${field.name}'`);
      continue;
    }
    checkValue(field.type, value[field.name], `${path}/${token(field.name)}`, errors, max);
  }
  for (const key in value) {
    if (errors.length >= max) return;
    if (type.field(key) === undefined) {
      fail(errors, path, `unknown field '${key}' (record ${typeLabel(type)} does not declare it)`);
    }
  }
}

/** The JSON kind each Avro type's values have, to pick the branch whose errors to report. */
function jsonKind(type: Type): string {
  switch (type.typeName) {
    case "null":
      return "null";
    case "boolean":
      return "boolean";
    case "int":
    case "long":
    case "float":
    case "double":
      return "number";
    case "array":
      return "array";
    case "map":
    case "record":
    case "error":
      return "object";
    default:
      return "string";
  }
}

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function accepts(type: Type, value: unknown, path: string): boolean {
  const errors: DataError[] = [];
  checkValue(type, value, path, errors, 1);
  return errors.length === 0;
}

function checkUnion(
  type: types.WrappedUnionType,
  value: unknown,
  path: string,
  errors: DataError[],
  max: number,
): void {
  const branches = type.types;
  // Avro's JSON encoding: {"<branch name>": value}.
  let wrapped: { branch: Type; key: string } | undefined;
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0]!;
      const branch = branches.find(
        (b) => b.typeName !== "null" && (b.branchName === key || b.branchName?.split(".").pop() === key),
      );
      if (branch) {
        wrapped = { branch, key };
        if (accepts(branch, value[key], path)) return;
      }
    }
  }
  // The plain value, for the first branch that takes it.
  for (const branch of branches) if (accepts(branch, value, path)) return;

  if (wrapped) {
    // Most likely meant as the wrapped form: report what is wrong inside.
    const inner = (value as Record<string, unknown>)[wrapped.key];
    checkValue(wrapped.branch, inner, `${path}/${token(wrapped.key)}`, errors, max);
    return;
  }
  const sameKind = branches.filter((b) => jsonKind(b) === kindOf(value));
  if (sameKind.length === 1) {
    checkValue(sameKind[0]!, value, path, errors, max);
    return;
  }
  const names = branches.map((b) => b.branchName ?? b.typeName);
  fail(errors, path, `expected one of the union's types (${names.join(", ")}), got ${describeValue(value)}`);
}

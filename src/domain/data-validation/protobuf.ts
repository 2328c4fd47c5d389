/**
 * Documents against a Protobuf schema: the document is the proto3 JSON
 * mapping of one message, by default the first message declared in the
 * schema's file (Confluent's default), or the one `messageName` names.
 *
 * protobufjs parses the `.proto` source and its references (imported files,
 * named by import path) into one root; imports of Google's well-known types
 * that no reference supplies come from protobufjs' bundled copies. The
 * document is then walked along the reflected types here, not checked with
 * `Type.verify` or `fromObject`: those work on protobufjs' in-memory form
 * (enum numbers, Long objects, byte arrays) rather than the JSON mapping,
 * stop at the first problem, give no path, and pass fields the message does
 * not declare, which the JSON mapping says parsers reject.
 *
 * Accepted, per the proto3 JSON mapping: fields by their JSON name (lower
 * camel case or `json_name`) or their name in the `.proto`; null for "not
 * set"; 64-bit integers as numbers or decimal strings, 32-bit ones too;
 * floating point as numbers, numeric strings, "NaN", "Infinity",
 * "-Infinity"; bytes as base64 (standard or URL-safe, padding optional);
 * enums by value name or number (any int32: proto3 enums are open); map keys
 * as strings of their key type; the well-known types in their special JSON
 * forms (Timestamp, Duration, Struct, Value, ListValue, wrappers, FieldMask,
 * Empty, Any). Rejected: unknown fields, a field given twice (by both names),
 * two members of one oneof set, a proto2 `required` field missing.
 */
import {
  common,
  Enum,
  type Field,
  type IParserResult,
  type MapField,
  type Namespace,
  type OneOf,
  parse,
  Root,
  Type,
} from "protobufjs";
import type { SchemaDocument } from "../compatibility/types.ts";
import { isRegistryError, RegistryError } from "../errors.ts";
import { invalidSchema, messageOf } from "../validation/invalid-schema.ts";
import { describeValue, isObject, token } from "./documents.ts";
import type { DataError, TypeChecker } from "./index.ts";

export function compileProtobufChecker(
  schema: SchemaDocument,
  maxErrors: number,
  messageName?: string,
): TypeChecker {
  const { root, first } = parseSchema(schema);
  let type: Type;
  if (messageName !== undefined) {
    try {
      type = root.lookupType(messageName);
    } catch {
      throw RegistryError.invalidRequest(
        `messageName ${JSON.stringify(messageName)} names no message of the schema`,
        { field: "messageName" },
      );
    }
  } else if (first) {
    type = first;
  } else {
    throw invalidSchema("protobuf", "the schema declares no message to validate documents against", {});
  }

  const walker = new Walker(root, maxErrors);
  return {
    // Message types may contain themselves; the walk follows the document down.
    descendsWithDocument: true,
    check(document: unknown): DataError[] | undefined {
      const errors: DataError[] = [];
      walker.message(type, document, "", errors);
      return errors.length === 0 ? undefined : errors;
    },
  };
}

/** The schema and its references parsed into one root and resolved; `invalid_schema` when they do not. */
export function parseSchema(schema: SchemaDocument): { root: Root; first: Type | undefined } {
  if (typeof schema.content !== "string") {
    throw invalidSchema("protobuf", "a Protobuf schema must be a string holding the .proto source", {});
  }
  const root = new Root();
  try {
    const imports: string[] = [];
    const collect = (parsed: IParserResult) =>
      imports.push(...(parsed.imports ?? []), ...(parsed.weakImports ?? []));
    collect(parse(schema.content, root, { keepCase: true }));
    // Found before anything else is parsed into the root, so it is the main file's.
    const first = firstMessage(root);
    const supplied = new Set<string>();
    for (const reference of schema.references ?? []) {
      if (typeof reference.content !== "string") {
        throw invalidSchema("protobuf", `reference ${JSON.stringify(reference.name)} is not .proto source`, {
          reference: reference.name,
        });
      }
      supplied.add(reference.name);
      collect(parse(reference.content, root, { keepCase: true }));
    }
    for (const name of new Set(imports)) {
      const bundled = supplied.has(name) ? undefined : common.get(name);
      if (bundled?.nested) root.addJSON(bundled.nested);
    }
    root.resolveAll();
    return { root, first };
  } catch (error) {
    if (isRegistryError(error)) throw error;
    throw invalidSchema("protobuf", messageOf(error), {}, error);
  }
}

/** The first top-level message in declaration order, looking inside packages. */
function firstMessage(namespace: Namespace): Type | undefined {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof Type) return nested;
    if (nested instanceof Enum || !("nestedArray" in nested)) continue;
    const found = firstMessage(nested as Namespace);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------

const INT32: readonly [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const UINT32: readonly [bigint, bigint] = [0n, 2n ** 32n - 1n];
const INT64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const UINT64: readonly [bigint, bigint] = [0n, 2n ** 64n - 1n];

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: INT32,
  sint32: INT32,
  sfixed32: INT32,
  uint32: UINT32,
  fixed32: UINT32,
  int64: INT64,
  sint64: INT64,
  sfixed64: INT64,
  uint64: UINT64,
  fixed64: UINT64,
};

const FLOAT_MAX = 3.4028234663852886e38;

// Fixed expressions, each unambiguous (every repetition is delimited), so
// linear on the backtracking engine.
const DECIMAL_INTEGER = /^-?\d+$/;
const DECIMAL_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DURATION = /^-?(\d+)(?:\.\d{1,9})?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000;

/** Wrapper messages and the scalar type their JSON form is. */
const WRAPPERS: Readonly<Record<string, string>> = {
  ".google.protobuf.DoubleValue": "double",
  ".google.protobuf.FloatValue": "float",
  ".google.protobuf.Int64Value": "int64",
  ".google.protobuf.UInt64Value": "uint64",
  ".google.protobuf.Int32Value": "int32",
  ".google.protobuf.UInt32Value": "uint32",
  ".google.protobuf.BoolValue": "bool",
  ".google.protobuf.StringValue": "string",
  ".google.protobuf.BytesValue": "bytes",
};

/** A message's name without protobufjs' leading dot. */
function nameOf(reflected: { fullName: string }): string {
  return reflected.fullName.replace(/^\./, "");
}

/** proto3 `optional` fields sit in a synthetic oneof of their own, which is no constraint. */
function isRealOneof(oneof: OneOf): boolean {
  const fields = oneof.fieldsArray;
  return !(fields.length === 1 && fields[0]!.options?.proto3_optional === true);
}

function isValueType(field: Field): boolean {
  return field.resolvedType?.fullName === ".google.protobuf.Value";
}

/** Walks documents along reflected types; holds per-message lookup tables, built on first use. */
class Walker {
  private readonly tables = new Map<Type, Map<string, Field>>();

  constructor(
    private readonly root: Root,
    private readonly max: number,
  ) {}

  private table(type: Type): Map<string, Field> {
    let table = this.tables.get(type);
    if (!table) {
      table = new Map();
      for (const field of type.fieldsArray) {
        table.set(field.name, field);
        if (field.jsonName) table.set(field.jsonName, field);
      }
      this.tables.set(type, table);
    }
    return table;
  }

  message(type: Type, value: unknown, path: string, errors: DataError[]): void {
    if (errors.length >= this.max) return;
    if (this.wellKnown(type, value, path, errors)) return;
    if (!isObject(value)) {
      errors.push({
        path,
        message: `expected an object (message ${nameOf(type)}), got ${describeValue(value)}`,
      });
      return;
    }
    const table = this.table(type);
    const seen = new Map<Field, string>();
    const oneofs = new Map<OneOf, string>();
    for (const key in value) {
      if (errors.length >= this.max) return;
      const field = table.get(key);
      if (!field) {
        errors.push({ path, message: `unknown field '${key}' (message ${nameOf(type)} has no such field)` });
        continue;
      }
      const earlier = seen.get(field);
      if (earlier !== undefined) {
        errors.push({ path, message: `field '${field.name}' is given twice, as '${earlier}' and '${key}'` });
        continue;
      }
      seen.set(field, key);
      const item = value[key];
      // null is "not set" in the JSON mapping (for Value, the null value).
      if (item === null) continue;
      if (field.partOf && isRealOneof(field.partOf)) {
        const other = oneofs.get(field.partOf);
        if (other !== undefined) {
          errors.push({
            path,
            message: `'${other}' and '${key}' are both set, but belong to oneof '${field.partOf.name}': at most one may be`,
          });
        } else oneofs.set(field.partOf, key);
      }
      this.field(field, item, `${path}/${token(key)}`, errors);
    }
    for (const field of type.fieldsArray) {
      if (field.required && !seen.has(field)) {
        errors.push({ path, message: `missing required field '${field.name}'` });
      }
    }
  }

  private field(field: Field, value: unknown, path: string, errors: DataError[]): void {
    if (field.map) {
      const keyType = (field as unknown as MapField).keyType;
      if (!isObject(value)) {
        errors.push({
          path,
          message: `expected an object (map<${keyType}, ${field.type}>), got ${describeValue(value)}`,
        });
        return;
      }
      for (const key in value) {
        if (errors.length >= this.max) return;
        const keyProblem = mapKeyProblem(keyType, key);
        if (keyProblem) errors.push({ path, message: keyProblem });
        this.element(field, value[key], `${path}/${token(key)}`, errors);
      }
    } else if (field.repeated) {
      if (!Array.isArray(value)) {
        errors.push({
          path,
          message: `expected an array (repeated ${field.type}), got ${describeValue(value)}`,
        });
        return;
      }
      for (let i = 0; i < value.length && errors.length < this.max; i++) {
        this.element(field, value[i], `${path}/${i}`, errors);
      }
    } else {
      this.single(field, value, path, errors);
    }
  }

  /** A map value or repeated element: like a single value, but null is not "not set" there. */
  private element(field: Field, value: unknown, path: string, errors: DataError[]): void {
    if (value === null && !isValueType(field)) {
      errors.push({
        path,
        message: `expected ${field.type}, got null (not allowed in maps and repeated fields)`,
      });
      return;
    }
    this.single(field, value, path, errors);
  }

  private single(field: Field, value: unknown, path: string, errors: DataError[]): void {
    const resolved = field.resolvedType;
    if (resolved instanceof Type) this.message(resolved, value, path, errors);
    else if (resolved instanceof Enum) enumValue(resolved, value, path, errors);
    else scalar(field.type, value, path, errors);
  }

  /** Checks the special JSON forms of Google's well-known types; false when `type` is not one. */
  private wellKnown(type: Type, value: unknown, path: string, errors: DataError[]): boolean {
    const name = type.fullName;
    if (!name.startsWith(".google.protobuf.")) return false;
    const wrapped = WRAPPERS[name];
    if (wrapped) {
      scalar(wrapped, value, path, errors);
      return true;
    }
    const problem = (message: string) => {
      errors.push({ path, message: `${message}, got ${describeValue(value)}` });
      return true;
    };
    switch (name) {
      case ".google.protobuf.Timestamp":
        return isTimestamp(value) || problem('expected an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"');
      case ".google.protobuf.Duration":
        return isDuration(value) || problem('expected a duration in seconds such as "1.5s"');
      case ".google.protobuf.FieldMask":
        return typeof value === "string" || problem('expected a field mask string such as "user.name,photo"');
      case ".google.protobuf.Struct":
        return isObject(value) || problem("expected an object (google.protobuf.Struct)");
      case ".google.protobuf.ListValue":
        return Array.isArray(value) || problem("expected an array (google.protobuf.ListValue)");
      case ".google.protobuf.Value":
        return true;
      case ".google.protobuf.Empty":
        return (
          (isObject(value) && Object.keys(value).length === 0) ||
          problem("expected {} (google.protobuf.Empty)")
        );
      case ".google.protobuf.Any":
        this.any(value, path, errors);
        return true;
      default:
        return false;
    }
  }

  /** `{"@type": "type.googleapis.com/pkg.Msg", ...fields}`; checked when the type is in the schema. */
  private any(value: unknown, path: string, errors: DataError[]): void {
    if (!isObject(value) || typeof value["@type"] !== "string") {
      errors.push({
        path,
        message: `expected an object with an "@type" string (google.protobuf.Any), got ${describeValue(value)}`,
      });
      return;
    }
    const typeName = value["@type"].slice(value["@type"].lastIndexOf("/") + 1);
    const found = this.root.lookup(typeName);
    // A type the schema does not define cannot be checked; the JSON mapping
    // allows any registered type there.
    if (!(found instanceof Type)) return;
    const { "@type": _, ...rest } = value;
    if (found.fullName.startsWith(".google.protobuf.") && "value" in rest) {
      this.message(found, rest.value, `${path}/value`, errors);
    } else {
      this.message(found, rest, path, errors);
    }
  }
}

function enumValue(type: Enum, value: unknown, path: string, errors: DataError[]): void {
  if (typeof value === "string" && typeof type.values[value] === "number") return;
  if (typeof value === "number" && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return;
  const names = Object.keys(type.values).filter((key) => typeof type.values[key] === "number");
  errors.push({
    path,
    message: `expected a value of enum ${nameOf(type)} (${names.join(", ")}), got ${describeValue(value)}`,
  });
}

function scalar(type: string, value: unknown, path: string, errors: DataError[]): void {
  const problem = scalarProblem(type, value);
  if (problem) errors.push({ path, message: problem });
}

/** Why `value` is not the JSON form of scalar `type`, or undefined. */
function scalarProblem(type: string, value: unknown): string | undefined {
  const got = () => `expected ${type}, got ${describeValue(value)}`;
  const range = INTEGER_RANGES[type];
  if (range) {
    let integer: bigint;
    if (typeof value === "number" && Number.isInteger(value)) integer = BigInt(value);
    else if (typeof value === "string" && DECIMAL_INTEGER.test(value)) integer = BigInt(value);
    else return got();
    return integer < range[0] || integer > range[1] ? `${got()} (out of range)` : undefined;
  }
  switch (type) {
    case "double":
    case "float": {
      let number: number;
      if (typeof value === "number") number = value;
      else if (value === "NaN" || value === "Infinity" || value === "-Infinity") return undefined;
      else if (typeof value === "string" && DECIMAL_NUMBER.test(value)) number = Number(value);
      else return got();
      if (type === "float" && Math.abs(number) > FLOAT_MAX) return `${got()} (out of range)`;
      if (!Number.isFinite(number)) return `${got()} (out of range)`;
      return undefined;
    }
    case "bool":
      return typeof value === "boolean" ? undefined : got();
    case "string":
      return typeof value === "string" ? undefined : got();
    case "bytes":
      return typeof value === "string" && BASE64.test(value) && value.replace(/=+$/, "").length % 4 !== 1
        ? undefined
        : `${got()} (bytes are base64 in JSON)`;
    default:
      return `cannot check values of type ${type}`;
  }
}

/** Map keys are JSON object keys, so strings: decimal for integer key types, "true"/"false" for bool. */
function mapKeyProblem(keyType: string, key: string): string | undefined {
  if (keyType === "string") return undefined;
  if (keyType === "bool")
    return key === "true" || key === "false" ? undefined : `map key '${key}' is not a bool`;
  const range = INTEGER_RANGES[keyType];
  if (range && DECIMAL_INTEGER.test(key)) {
    const integer = BigInt(key);
    if (integer >= range[0] && integer <= range[1]) return undefined;
  }
  return `map key '${key}' is not a ${keyType}`;
}

function isTimestamp(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const parts = TIMESTAMP.exec(value);
  if (!parts) return false;
  const [month, day, hour, minute, second] = parts.slice(2, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59;
}

function isDuration(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const parts = DURATION.exec(value);
  return parts !== null && Number(parts[1]) <= MAX_DURATION_SECONDS;
}

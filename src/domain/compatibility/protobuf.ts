/**
 * Protobuf compatibility: whether a consumer compiled against the reader
 * `.proto` decodes correctly the bytes a producer wrote with the writer
 * `.proto` (binary wire compatibility, as the language guide's "Updating A
 * Message Type" and buf's WIRE rules describe), and whether two files differ
 * only in documentation.
 *
 * Messages and enums are matched by full name (package included; when the
 * package changed, the writer's own types are matched under the reader's
 * package so that one `package_changed` is reported instead of every type),
 * fields by number and enum values by number. The writer's types compared are
 * those its own file declares plus every type they reach through fields,
 * imported ones included; imports resolve against `references` (name = import
 * path) and, for the well-known `google/protobuf/*.proto` files, protobufjs's
 * bundled definitions.
 *
 * Decisions:
 * - string and bytes: a bytes reader reads string data (and embedded-message
 *   data) as is; a string reader of bytes data, or a message reader of bytes
 *   data, only works if the bytes happen to be valid UTF-8 / an encoded
 *   message, which nothing enforces, so those are violations of their own
 *   (`field_bytes_read_as_string`, `field_bytes_read_as_message`).
 * - Singular read as repeated is compatible for every type (parsers accept a
 *   lone element, packed or not); repeated read as singular is a violation
 *   for every type: packed numbers do not parse, and strings, bytes and
 *   messages lose all but the last element (or get merged).
 * - A field the writer declares and the reader neither declares nor reserves
 *   is harmless to read (an unknown field), but its number could later be
 *   reused: `field_removed_not_reserved` is a hygiene rule, returned as a
 *   violation. The pair alone does not say which side is newer, so it is
 *   reported only where the reader shows a removal: the number lies below the
 *   reader's highest field number, or the reader reserved the number or the
 *   name but not both. A field a newer writer appended (above every number
 *   the older reader uses) is not a removal. The reserved-reuse rules are
 *   read the same way: a reader field on a number (or name) the writer
 *   reserves is reported unless the writer reserves both, which is what
 *   retiring exactly that field looks like.
 * - Presence is not on the wire (an implicit-presence writer just omits
 *   zeros), so adding or dropping proto3 `optional`, or moving one field into
 *   a new oneof, is compatible; what an omitted field reads as is compared
 *   instead (`field_default_changed`: proto2/editions `default` options).
 * - Oneofs are judged from the reader too: a reader oneof may only gather
 *   fields the writer kept mutually exclusive (one writer oneof, or a single
 *   field from outside, as the guide allows), and a writer oneof that lives
 *   on in the reader must keep all its members. Dissolving or splitting a
 *   oneof is therefore fine to read; the reverse direction reports it.
 * - A writer enum value the reader lacks is a violation even though proto3
 *   readers keep unknown numbers: consumer code meets a value it has no name
 *   for (and proto2's closed enums drop it into unknown fields).
 * - A message or enum the writer's file declares and the reader lacks is a
 *   violation (a consumer cannot decode, or name, that type), so adding a
 *   type fails the check where the old schema reads the new one, as in
 *   Confluent's registry.
 * - Renaming a field, an enum value or a oneof keeps the wire format and is
 *   not a violation (it is not `sameMeaning` either); `json_name` and
 *   `packed` changes are wire compatible too. Services and extensions are
 *   not compared (they still count for `sameMeaning`), nor are options other
 *   than `default`, `packed`, `json_name` and editions features.
 *
 * Paths: `#/syntax`, `#/package`, `#/messages/<full name>` (nested messages
 * by their full name, `acme.Order.Item`), `#/messages/<full name>/fields/<number>`,
 * `#/messages/<full name>/oneofs/<oneof name>`, `#/enums/<full name>` and
 * `#/enums/<full name>/values/<number>`. The reader's names are used where
 * the reader has the type, the writer's where only the writer does.
 */
import {
  common,
  Enum,
  Field,
  type IParserResult,
  MapField,
  Namespace,
  parse,
  type ReflectionObject,
  Root,
  Service,
  Type,
} from "protobufjs";
import type { CompatibilityRules, RuleTable, SchemaDocument, SchemaNames, Violation } from "./types.ts";

export const RULES: RuleTable = {
  syntax_changed:
    "The file's syntax (proto2, proto3 or an edition) differs, which changes field presence, enum openness and packed defaults.",
  package_changed:
    "The package differs, so every message's full name changes (type URLs, gRPC paths and lookups by name break).",
  message_removed:
    "A message the writer's file declares does not exist in the reader, which cannot decode that type.",
  enum_removed: "An enum the writer's file declares does not exist in the reader.",
  field_removed_not_reserved:
    "A writer field was removed from the reader without reserving both its number and its name, so either could be reused.",
  field_number_reused:
    "The same field number has a different name and type in the reader: it now means another field.",
  field_number_changed:
    "A field kept its name but moved to another number, so the reader ignores the values written under the old one.",
  field_type_incompatible:
    "The field's types (or a map's key or value types) are in different wire-compatibility groups, e.g. int32 read as string.",
  field_bytes_read_as_string:
    "A string reader field reads bytes the writer wrote; bytes need not be valid UTF-8, which string requires.",
  field_bytes_read_as_message:
    "A message reader field reads bytes the writer wrote; nothing guarantees the bytes hold an encoded message.",
  field_message_type_changed: "A message-typed field refers to a differently named message in the reader.",
  field_enum_type_changed:
    "An enum-typed field refers to another enum in the reader (a different name, or one lacking the writer's values).",
  field_cardinality_changed:
    "A field the writer repeats is singular in the reader: packed numbers fail to parse, other types keep only the last.",
  required_field_added:
    "The reader requires a field (proto2 `required`) that the writer does not declare or does not require.",
  field_default_changed:
    "An omitted field reads as another value in the reader: the `default` option (or implicit presence's zero) differs.",
  field_moved_into_oneof:
    "A reader oneof holds fields the writer declares outside any oneof, so the writer may set several and the reader keeps one.",
  field_moved_between_oneofs:
    "A reader oneof holds fields the writer splits across different oneofs, so the writer may set several of them.",
  oneof_field_removed:
    "A writer oneof member is missing from the reader's oneof, which then reads as unset when the writer chose that member.",
  reserved_number_reused: "A reader field or enum value uses a number the writer reserves.",
  reserved_name_reused: "A reader field or enum value uses a name the writer reserves.",
  enum_value_removed: "A value number of a writer enum is missing from the reader's enum.",
  enum_value_number_changed: "An enum value kept its name but has another number in the reader.",
};

/** A field's value type. `group` is a message in tag-delimited encoding (proto2 groups, DELIMITED). */
type TypeRef =
  | { kind: "scalar"; name: string }
  | { kind: "message" | "group" | "enum"; name: string }
  | { kind: "unresolved"; name: string };

/** `implicit`/`explicit`: singular without/with presence tracking. */
type Cardinality = "implicit" | "explicit" | "required" | "repeated" | "map";

interface FieldInfo {
  readonly name: string;
  readonly number: number;
  readonly cardinality: Cardinality;
  /** The value type for maps. */
  readonly type: TypeRef;
  readonly keyType?: string;
  /** A real oneof's name; proto3 `optional` fields' synthetic oneofs are not kept. */
  readonly oneof?: string;
  /** The `default` option, as JSON, for fields with explicit presence. */
  readonly defaultValue?: string;
  readonly jsonName: string;
  /** Packed encoding in effect, for repeated scalar numbers only. */
  readonly packed?: boolean;
}

interface Reservations {
  readonly reservedRanges: readonly (readonly [number, number])[];
  readonly reservedNames: ReadonlySet<string>;
}

interface MessageInfo extends Reservations {
  readonly fullName: string;
  readonly local: boolean;
  readonly group: boolean;
  readonly fields: ReadonlyMap<number, FieldInfo>;
  readonly fieldsByName: ReadonlyMap<string, FieldInfo>;
  /** Real oneofs, by name, with their members' numbers. */
  readonly oneofs: ReadonlyMap<string, readonly number[]>;
  readonly maxNumber: number;
}

interface EnumInfo extends Reservations {
  readonly fullName: string;
  readonly local: boolean;
  /** Names by number; more than one name when `allow_alias` is on. */
  readonly values: ReadonlyMap<number, readonly string[]>;
  readonly numbersByName: ReadonlyMap<string, number>;
}

/** A parsed `.proto` file with its imports, indexed for the comparisons. */
export interface ProtobufPrepared {
  /** "proto2", "proto3" or "edition 2023". */
  readonly syntax: string;
  readonly package: string;
  /** The file's own messages and enums and every type they reach, by full name without the leading dot. */
  readonly messages: ReadonlyMap<string, MessageInfo>;
  readonly enums: ReadonlyMap<string, EnumInfo>;
  /** Full names of the file's own types, for the package translation. */
  readonly localTypes: ReadonlySet<string>;
  /** Canonical form of the file's services and extensions, which `sameMeaning` also compares. */
  readonly extras: string;
}

const SCALARS = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

// The language guide's groups of scalar types that decode each other's wire data.
const WIRE_GROUP: Readonly<Record<string, string>> = {
  int32: "varint",
  uint32: "varint",
  int64: "varint",
  uint64: "varint",
  bool: "varint",
  sint32: "zigzag",
  sint64: "zigzag",
  fixed32: "fixed32",
  sfixed32: "fixed32",
  fixed64: "fixed64",
  sfixed64: "fixed64",
  float: "float",
  double: "double",
  string: "string",
  bytes: "bytes",
};

// Enums are varints, and the guide pairs them with these integer types (bool excluded).
const ENUM_COMPATIBLE = new Set(["int32", "uint32", "int64", "uint64"]);

const MAX_FIELD_NUMBER = 536870911;
const MAX_ENUM_NUMBER = 2147483647;

// The `syntax` or `edition` statement comes first, after comments and whitespace only.
const SYNTAX_STATEMENT = /^(?:\s|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(syntax|edition)\s*=\s*(["'])(.*?)\2/;

interface FileMeta {
  local: boolean;
  syntax: string;
}

function syntaxOf(source: string): string {
  const match = SYNTAX_STATEMENT.exec(source);
  if (!match) return "proto2"; // protoc's default for a file without a syntax statement
  return match[1] === "edition" ? `edition ${match[3]}` : match[3]!;
}

const isEdition = (syntax: string): boolean => syntax.startsWith("edition");

// protobufjs marks the type of a proto2 group with `group`, which its typings omit.
const isGroup = (type: Type): boolean => (type as Type & { group?: boolean }).group === true;

/** Full name without protobufjs's leading dot. */
const fullNameOf = (object: ReflectionObject): string => object.fullName.replace(/^\./, "");

// --- preparation -----------------------------------------------------------

function prepare(document: SchemaDocument): ProtobufPrepared {
  const source = String(document.content);
  const root = new Root();
  const meta = new Map<ReflectionObject, FileMeta>();
  const parsed = parseInto(source, root);
  register(root, meta, { local: true, syntax: syntaxOf(source) });

  const references = new Map<string, unknown>();
  for (const reference of document.references ?? []) {
    references.set(importPath(reference.name), reference.content);
  }
  const queue = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  const loaded = new Set<string>();
  while (queue.length > 0) {
    const path = importPath(queue.shift()!);
    if (loaded.has(path)) continue;
    loaded.add(path);
    const content = references.get(path);
    // A reference that fails to parse or clashes with another file leaves its types unresolved, as a
    // missing import would: the comparison then matches those fields by type name only.
    if (typeof content === "string") {
      try {
        const imported = parseInto(content, root);
        queue.push(...(imported.imports ?? []), ...(imported.weakImports ?? []));
      } catch {}
      register(root, meta, { local: false, syntax: syntaxOf(content) });
    } else {
      const json = common.get(path);
      if (json?.nested) {
        try {
          root.addJSON(json.nested);
        } catch {}
        register(root, meta, { local: false, syntax: "proto3" });
      }
    }
  }

  const syntax = syntaxOf(source);
  const messages = new Map<string, MessageInfo>();
  const enums = new Map<string, EnumInfo>();
  const localTypes = new Set<string>();
  const pending: (Type | Enum)[] = [];
  const services: Service[] = [];
  const extensions: Field[] = [];
  for (const [object, file] of meta) {
    if (!file.local) continue;
    if (object instanceof Type || object instanceof Enum) {
      pending.push(object);
      localTypes.add(fullNameOf(object));
    } else if (object instanceof Service) services.push(object);
    else if (object instanceof Field) extensions.push(object);
  }
  // Breadth-first over field types: the file's own types first, then what they reach.
  const seen = new Set<ReflectionObject>(pending);
  for (let i = 0; i < pending.length; i++) {
    const object = pending[i]!;
    const local = meta.get(object)?.local ?? false;
    if (object instanceof Enum) {
      const info = enumInfo(object, local);
      enums.set(info.fullName, info);
      continue;
    }
    const info = messageInfo(object, local, meta, (found) => {
      if (!seen.has(found)) {
        seen.add(found);
        pending.push(found);
      }
    });
    messages.set(info.fullName, info);
  }

  return {
    syntax,
    package: parsed.package ?? "",
    messages,
    enums,
    localTypes,
    extras: extrasOf(services, extensions, meta),
  };
}

type FieldIndexed = Type & { _fieldsById: Record<number, Field> | null };
const addToType = Type.prototype.add;

/**
 * Adds a field to a type keeping protobufjs's by-number index current. The
 * stock `add` drops the index and rebuilds it for its duplicate-number check
 * on every field, which makes a 200-field message take milliseconds to parse.
 */
function addKeepingIndex(this: FieldIndexed, object: ReflectionObject): Type {
  const index = this._fieldsById;
  const type = addToType.call(this, object);
  if (object instanceof Field && object.extend === undefined) {
    if (index) {
      index[object.id] = object;
      this._fieldsById = index;
    } else void this.fieldsById; // built once; later adds extend it
  }
  return type;
}

/** Parses one file into `root` with field names as written. */
function parseInto(source: string, root: Root): IParserResult {
  // Swapped in for this synchronous call only: nothing else can run before `finally` puts it back.
  Type.prototype.add = addKeepingIndex;
  try {
    return parse(source, root, { keepCase: true });
  } finally {
    Type.prototype.add = addToType;
  }
}

function importPath(name: string): string {
  return name.replace(/^\.\//, "");
}

/** Records the file each not yet seen type, service and extension comes from. */
function register(namespace: Namespace, meta: Map<ReflectionObject, FileMeta>, file: FileMeta): void {
  for (const object of namespace.nestedArray) {
    if (
      object instanceof Type ||
      object instanceof Enum ||
      object instanceof Service ||
      object instanceof Field
    ) {
      if (!meta.has(object)) meta.set(object, file);
    }
    if (object instanceof Namespace) register(object, meta, file);
  }
}

/** The syntax of the file a nested object was declared in. */
function syntaxFor(object: ReflectionObject, meta: ReadonlyMap<ReflectionObject, FileMeta>): string {
  for (let current: ReflectionObject | null = object; current; current = current.parent) {
    const file = meta.get(current);
    if (file) return file.syntax;
  }
  return "proto2";
}

/**
 * An editions feature set for `object`: its own option, else its oneof's or
 * enclosing types' (protobufjs copies file options onto top-level types);
 * undefined leaves the edition's default to the caller.
 */
function featureOf(object: ReflectionObject, name: string): string | undefined {
  const field = object instanceof Field ? object : undefined;
  let current: ReflectionObject | null = object;
  while (current) {
    const features = current.options?.features as Record<string, unknown> | undefined;
    const value = features?.[name];
    if (typeof value === "string") return value;
    current = current === field && field.partOf ? field.partOf : current.parent;
  }
  return undefined;
}

function messageInfo(
  type: Type,
  local: boolean,
  meta: ReadonlyMap<ReflectionObject, FileMeta>,
  reach: (found: Type | Enum) => void,
): MessageInfo {
  const syntax = syntaxFor(type, meta);
  const fields = new Map<number, FieldInfo>();
  const fieldsByName = new Map<string, FieldInfo>();
  const oneofs = new Map<string, number[]>();
  let maxNumber = 0;
  for (const field of type.fieldsArray) {
    // Extensions declared elsewhere appear as ".pkg.name" sister fields; they are not the message's own.
    if (field.declaringField || field.name.startsWith(".")) continue;
    const info = fieldInfo(field, syntax, reach);
    fields.set(info.number, info);
    fieldsByName.set(info.name, info);
    if (info.oneof !== undefined) {
      const members = oneofs.get(info.oneof);
      if (members) members.push(info.number);
      else oneofs.set(info.oneof, [info.number]);
    }
    if (info.number > maxNumber) maxNumber = info.number;
  }
  return {
    fullName: fullNameOf(type),
    local,
    group: isGroup(type),
    fields,
    fieldsByName,
    oneofs,
    maxNumber,
    ...reservations(type.reserved, MAX_FIELD_NUMBER),
  };
}

function fieldInfo(field: Field, syntax: string, reach: (found: Type | Enum) => void): FieldInfo {
  const options = field.options ?? {};
  const isMap = field instanceof MapField;
  const type = resolveType(field, syntax, reach);
  const realOneof = field.partOf && options.proto3_optional !== true ? field.partOf.name : undefined;
  const cardinality = cardinalityOf(field, type, syntax, realOneof !== undefined, isMap);
  const info: {
    -readonly [K in keyof FieldInfo]: FieldInfo[K];
  } = {
    name: field.name,
    number: field.id,
    cardinality,
    type,
    jsonName: typeof options.json_name === "string" ? options.json_name : jsonNameOf(field.name),
  };
  if (isMap) info.keyType = (field as MapField).keyType;
  if (realOneof !== undefined) info.oneof = realOneof;
  if (options.default !== undefined && (cardinality === "explicit" || cardinality === "required")) {
    info.defaultValue = JSON.stringify(options.default);
  }
  if (cardinality === "repeated" && type.kind !== "message" && type.kind !== "group") {
    const packable =
      type.kind === "enum" || (type.kind === "scalar" && type.name !== "string" && type.name !== "bytes");
    if (packable) info.packed = packedOf(field, syntax);
  }
  return info;
}

function resolveType(field: Field, syntax: string, reach: (found: Type | Enum) => void): TypeRef {
  const name = field.type;
  if (SCALARS.has(name)) return { kind: "scalar", name };
  const scope = field.parent as Namespace | null;
  const found = scope?.lookup(name, [Type, Enum]) ?? null;
  if (found instanceof Enum) {
    reach(found);
    return { kind: "enum", name: fullNameOf(found) };
  }
  if (found instanceof Type) {
    reach(found);
    const delimited =
      isGroup(found) || (isEdition(syntax) && featureOf(field, "message_encoding") === "DELIMITED");
    return { kind: delimited ? "group" : "message", name: fullNameOf(found) };
  }
  return { kind: "unresolved", name: name.replace(/^\./, "") };
}

function cardinalityOf(
  field: Field,
  type: TypeRef,
  syntax: string,
  inOneof: boolean,
  isMap: boolean,
): Cardinality {
  if (isMap) return "map";
  if (field.rule === "repeated") return "repeated";
  const presence = isEdition(syntax) ? featureOf(field, "field_presence") : undefined;
  if (field.rule === "required" || presence === "LEGACY_REQUIRED") return "required";
  // Messages, oneof members and proto3 `optional` fields always track presence.
  if (
    type.kind === "message" ||
    type.kind === "group" ||
    inOneof ||
    field.options?.proto3_optional === true
  ) {
    return "explicit";
  }
  if (syntax === "proto3") return "implicit";
  if (isEdition(syntax)) return presence === "IMPLICIT" ? "implicit" : "explicit";
  return "explicit";
}

function packedOf(field: Field, syntax: string): boolean {
  const option = field.options?.packed;
  if (typeof option === "boolean") return option;
  if (isEdition(syntax)) return featureOf(field, "repeated_field_encoding") !== "EXPANDED";
  return syntax === "proto3";
}

/** protoc's default JSON name: underscores dropped, the letter after each upper-cased. */
function jsonNameOf(name: string): string {
  if (!name.includes("_")) return name;
  return name.replace(/_+([a-z0-9]?)/g, (_, next: string) => next.toUpperCase());
}

function enumInfo(type: Enum, local: boolean): EnumInfo {
  const values = new Map<number, string[]>();
  const numbersByName = new Map<string, number>();
  for (const [name, number] of Object.entries(type.values)) {
    if (typeof number !== "number") continue;
    numbersByName.set(name, number);
    const names = values.get(number);
    if (names) names.push(name);
    else values.set(number, [name]);
  }
  return {
    fullName: fullNameOf(type),
    local,
    values,
    numbersByName,
    ...reservations(type.reserved, MAX_ENUM_NUMBER),
  };
}

function reservations(reserved: (number[] | string)[] | undefined, max: number): Reservations {
  const ranges: [number, number][] = [];
  const names = new Set<string>();
  for (const entry of reserved ?? []) {
    if (typeof entry === "string") names.add(entry);
    else if (Array.isArray(entry)) ranges.push([entry[0] ?? 0, Math.min(entry[1] ?? entry[0] ?? 0, max)]);
  }
  // Sorted and merged, so that `reserved 2, 3;` and `reserved 2 to 3;` compare equal.
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return { reservedRanges: merged, reservedNames: names };
}

function isReserved(on: Reservations, number: number): boolean {
  for (const [start, end] of on.reservedRanges) if (number >= start && number <= end) return true;
  return false;
}

const byName = (a: { n: string }, b: { n: string }): number => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0);

/** Services and extensions in canonical form, taken while their protobufjs objects are at hand. */
function extrasOf(
  services: readonly Service[],
  extensions: readonly Field[],
  meta: ReadonlyMap<ReflectionObject, FileMeta>,
): string {
  if (services.length === 0 && extensions.length === 0) return "";
  const serviceForms = services
    .map((s) => ({
      n: fullNameOf(s),
      v: s.methodsArray
        .map((m) => ({
          n: m.name,
          v: [
            qualify(s, m.requestType),
            Boolean(m.requestStream),
            qualify(s, m.responseType),
            Boolean(m.responseStream),
          ],
        }))
        .sort(byName),
    }))
    .sort(byName);
  const extensionForms = extensions
    .map((f) => ({
      n: `${qualify(f.parent, f.extend ?? "")}/${f.id}`,
      v: [f.name, f.rule ?? null, qualify(f.parent, f.type), syntaxFor(f, meta)],
    }))
    .sort(byName);
  return JSON.stringify([serviceForms, extensionForms]);
}

// Computed on first use: most prepared forms only ever meet `readerViolations`.
const fingerprints = new WeakMap<ProtobufPrepared, string>();

/**
 * Everything with meaning in canonical form: declaration order, comments and
 * documentation options are gone, and options live on only through what they
 * change (presence, packing, defaults, JSON names, encodings).
 */
function fingerprintOf(prepared: ProtobufPrepared): string {
  const cached = fingerprints.get(prepared);
  if (cached !== undefined) return cached;
  const reservedOf = (r: Reservations) => [r.reservedRanges, [...r.reservedNames].sort()];
  const messageForms = [...prepared.messages.values()]
    .map((m) => ({
      n: m.fullName,
      v: [
        m.group,
        [...m.fields.values()]
          .sort((a, b) => a.number - b.number)
          .map((f) => [
            f.number,
            f.name,
            f.cardinality,
            f.type.kind,
            f.type.name,
            f.keyType ?? null,
            f.oneof ?? null,
            f.defaultValue ?? null,
            f.jsonName,
            f.packed ?? null,
          ]),
        reservedOf(m),
      ],
    }))
    .sort(byName);
  const enumForms = [...prepared.enums.values()]
    .map((e) => ({
      n: e.fullName,
      v: [
        [...e.values.entries()].sort((a, b) => a[0] - b[0]).map(([n, names]) => [n, [...names].sort()]),
        reservedOf(e),
      ],
    }))
    .sort(byName);
  const fingerprint = JSON.stringify([
    prepared.syntax,
    prepared.package,
    messageForms,
    enumForms,
    prepared.extras,
  ]);
  fingerprints.set(prepared, fingerprint);
  return fingerprint;
}

/** A referenced type's full name when it resolves, else the name as written. */
function qualify(scope: ReflectionObject | null, name: string): string {
  if (SCALARS.has(name) || !(scope instanceof Namespace)) return name;
  const found = scope.lookup(name, [Type, Enum]);
  return found ? fullNameOf(found) : name;
}

// --- comparison ------------------------------------------------------------

interface Context {
  readonly reader: ProtobufPrepared;
  readonly writer: ProtobufPrepared;
  readonly r: string;
  readonly w: string;
  /** A writer type's name as the reader would call it (differs only when the package changed). */
  readonly rename: (name: string) => string;
  readonly out: Violation[];
}

function readerViolations(
  reader: ProtobufPrepared,
  writer: ProtobufPrepared,
  names?: SchemaNames,
): Violation[] {
  const ctx: Context = {
    reader,
    writer,
    r: names?.reader ?? "the reader schema",
    w: names?.writer ?? "the writer schema",
    rename: renamer(reader, writer),
    out: [],
  };
  if (reader.syntax !== writer.syntax) {
    add(
      ctx,
      "#/syntax",
      "syntax_changed",
      `The syntax is ${reader.syntax} in ${ctx.r} but ${writer.syntax} in ${ctx.w}: field presence, enum openness and packed ` +
        "defaults differ between them. Keep the syntax, or publish the other syntax under a new subject.",
    );
  }
  if (reader.package !== writer.package) {
    add(
      ctx,
      "#/package",
      "package_changed",
      `The package is ${packageLabel(reader.package)} in ${ctx.r} but ${packageLabel(writer.package)} in ${ctx.w}: ` +
        "every message's full name changes, which breaks Any type URLs, gRPC paths and lookups by name. Keep the " +
        "package, or publish the new package under a new subject.",
    );
  }
  for (const wm of writer.messages.values()) {
    const rm = reader.messages.get(ctx.rename(wm.fullName));
    if (rm) compareMessages(ctx, rm, wm);
    // A group's type goes with its field, and types imported from elsewhere are judged through the fields using them.
    else if (wm.local && !wm.group) {
      add(
        ctx,
        `#/messages/${wm.fullName}`,
        "message_removed",
        `Message ${wm.fullName} exists in ${ctx.w} but not in ${ctx.r}, which cannot decode data of that type. Keep ` +
          "the message (mark it deprecated rather than deleting it).",
      );
    }
  }
  for (const we of writer.enums.values()) {
    const re = reader.enums.get(ctx.rename(we.fullName));
    if (re) compareEnums(ctx, re, we);
    else if (we.local) {
      add(
        ctx,
        `#/enums/${we.fullName}`,
        "enum_removed",
        `Enum ${we.fullName} exists in ${ctx.w} but not in ${ctx.r}, which has no names for its values. Keep the ` +
          "enum (mark it deprecated rather than deleting it).",
      );
    }
  }
  return ctx.out;
}

function add(ctx: Context, path: string, rule: string, message: string): void {
  ctx.out.push({ path, rule, message });
}

function packageLabel(pkg: string): string {
  return pkg === "" ? "none" : JSON.stringify(pkg);
}

function renamer(reader: ProtobufPrepared, writer: ProtobufPrepared): (name: string) => string {
  if (reader.package === writer.package) return (name) => name;
  const from = writer.package === "" ? "" : `${writer.package}.`;
  const to = reader.package === "" ? "" : `${reader.package}.`;
  return (name) =>
    writer.localTypes.has(name) && name.startsWith(from) ? to + name.slice(from.length) : name;
}

const fieldLabel = (f: FieldInfo, m: MessageInfo): string =>
  `Field ${f.number} ${JSON.stringify(f.name)} of ${m.fullName}`;

function compareMessages(ctx: Context, rm: MessageInfo, wm: MessageInfo): void {
  const base = `#/messages/${rm.fullName}`;
  const handled = compareOneofs(ctx, rm, wm, base);

  for (const wf of wm.fields.values()) {
    const rf = rm.fields.get(wf.number);
    if (rf) compareFields(ctx, rm, rf, wf, `${base}/fields/${wf.number}`);
    else if (!handled.has(wf.number)) fieldMissing(ctx, rm, wm, wf, `${base}/fields/${wf.number}`);
  }

  for (const rf of rm.fields.values()) {
    if (wm.fields.has(rf.number)) continue;
    const path = `${base}/fields/${rf.number}`;
    if (rf.cardinality === "required") {
      add(
        ctx,
        path,
        "required_field_added",
        `${fieldLabel(rf, rm)} is required in ${ctx.r} but not declared in ${ctx.w}, so data written with it never ` +
          "carries the field and fails to parse. Make the field optional.",
      );
    }
    if (wm.reservedRanges.length > 0 || wm.reservedNames.size > 0) {
      reservedReuse(ctx, wm, rf.number, rf.name, path, fieldLabel(rf, rm), "field");
    }
  }
}

/** A writer field the reader does not declare: harmless to read, but flagged when the reader removed it carelessly. */
function fieldMissing(ctx: Context, rm: MessageInfo, wm: MessageInfo, wf: FieldInfo, path: string): void {
  if (numberChanged(ctx, rm, wf, path)) return;
  const numberReserved = isReserved(rm, wf.number);
  const nameReserved = rm.reservedNames.has(wf.name);
  if (numberReserved && nameReserved) return;
  if (!numberReserved && !nameReserved && wf.number > rm.maxNumber) return; // appended by the writer, not removed
  const missing = [
    numberReserved ? "" : `reserved ${wf.number};`,
    nameReserved ? "" : `reserved ${JSON.stringify(wf.name)};`,
  ]
    .filter(Boolean)
    .join(" ");
  const what = numberReserved ? "its name" : nameReserved ? "its number" : "its number and name";
  add(
    ctx,
    path,
    "field_removed_not_reserved",
    `${fieldLabel(wf, wm)} was removed in ${ctx.r} without reserving ${what}: add \`${missing}\` so it is never reused.`,
  );
}

/** Reports a writer field whose name the reader gives another number (moved, or swapped with another field). */
function numberChanged(ctx: Context, rm: MessageInfo, wf: FieldInfo, path: string): boolean {
  const moved = rm.fieldsByName.get(wf.name);
  if (!moved || moved.number === wf.number) return false;
  add(
    ctx,
    path,
    "field_number_changed",
    `Field ${JSON.stringify(wf.name)} of ${rm.fullName} has number ${moved.number} in ${ctx.r} but ${wf.number} in ` +
      `${ctx.w}, so ${ctx.r} does not read the values written under ${wf.number} as ${JSON.stringify(wf.name)}. ` +
      `Field numbers must never change: restore number ${wf.number}.`,
  );
  return true;
}

/** A reader field or enum value on something the writer reserves, unless the writer retired exactly it. */
function reservedReuse(
  ctx: Context,
  writer: Reservations,
  number: number,
  name: string,
  path: string,
  label: string,
  noun: "field" | "value",
): void {
  const numberReserved = isReserved(writer, number);
  const nameReserved = writer.reservedNames.has(name);
  if (numberReserved && !nameReserved) {
    add(
      ctx,
      path,
      "reserved_number_reused",
      `${label} uses number ${number}, which ${ctx.w} reserves: data from versions that used it for a retired ${noun} ` +
        `would be misread. Give the ${noun} an unused number; if ${ctx.w} retired this very ${noun}, reserve its name ` +
        `there too (\`reserved ${JSON.stringify(name)};\`).`,
    );
  } else if (nameReserved && !numberReserved) {
    add(
      ctx,
      path,
      "reserved_name_reused",
      `${label} uses the name ${JSON.stringify(name)}, which ${ctx.w} reserves: JSON and text data from versions ` +
        `that used it for a retired ${noun} would be misread. Rename the ${noun}; if ${ctx.w} retired this very ` +
        `${noun}, reserve its number there too (\`reserved ${number};\`).`,
    );
  }
}

function compareFields(ctx: Context, rm: MessageInfo, rf: FieldInfo, wf: FieldInfo, path: string): void {
  const label = fieldLabel(rf, rm);
  if (rf.name !== wf.name && numberChanged(ctx, rm, wf, path)) return;
  if (rf.name !== wf.name && !sameDeclaredType(ctx, rf, wf)) {
    add(
      ctx,
      path,
      "field_number_reused",
      `Field ${rf.number} of ${rm.fullName} is ${JSON.stringify(rf.name)} (${typeLabel(rf)}) in ${ctx.r} but ` +
        `${JSON.stringify(wf.name)} (${typeLabel(wf)}) in ${ctx.w}: the number now means another field, whose values ` +
        `${ctx.r} would misread. Give ${JSON.stringify(rf.name)} a new number and reserve ${rf.number} and ` +
        `${JSON.stringify(wf.name)}.`,
    );
    return;
  }

  if ((rf.cardinality === "map") !== (wf.cardinality === "map")) {
    add(
      ctx,
      path,
      "field_type_incompatible",
      `${label} is ${typeLabel(rf)} in ${ctx.r} but ${typeLabel(wf)} in ${ctx.w}: a map is only read as a map. ` +
        "Keep the field's type, or add a new field with a new number.",
    );
    return;
  }
  if (rf.cardinality === "map") {
    const keyRule = scalarRule(rf.keyType ?? "", wf.keyType ?? "");
    const valueRule = typeRule(ctx, rf.type, wf.type);
    if (keyRule || valueRule) {
      const part = keyRule && valueRule ? "keys and values" : keyRule ? "keys" : "values";
      add(
        ctx,
        path,
        keyRule ?? valueRule!,
        `${label} is ${typeLabel(rf)} in ${ctx.r} but ${typeLabel(wf)} in ${ctx.w}: ${ctx.r} cannot decode the map ` +
          `${part} written with ${ctx.w}. Keep the map's types, or add a new field with a new number.`,
      );
    }
    return;
  }

  const rule = typeRule(ctx, rf.type, wf.type);
  if (rule) add(ctx, path, rule, typeMessage(ctx, rule, label, rf, wf));

  if (wf.cardinality === "repeated" && rf.cardinality !== "repeated") {
    add(
      ctx,
      path,
      "field_cardinality_changed",
      `${label} is singular in ${ctx.r} but repeated in ${ctx.w}: ${ctx.r} keeps only the last of the values (merges ` +
        "them, for messages) and cannot parse packed numbers at all. Keep the field repeated.",
    );
  }
  if (rf.cardinality === "required" && wf.cardinality !== "required") {
    add(
      ctx,
      path,
      "required_field_added",
      `${label} is required in ${ctx.r} but not in ${ctx.w}, which may omit it: ${ctx.r} then fails to parse the ` +
        "message. Keep the field optional.",
    );
  }
  // Presence itself is not on the wire (an implicit-presence writer merely omits zeros), so only what an
  // omitted field reads as matters: the writer meant its default, the reader substitutes its own.
  if (!rule && rf.cardinality !== "repeated" && wf.cardinality !== "repeated") {
    const readerDefault = rf.defaultValue ?? zeroOf(rf.type);
    const writerDefault = wf.defaultValue ?? zeroOf(wf.type);
    // Without a `default` option on either side, both read the zero value, whatever the types call it.
    const explicit = rf.defaultValue !== undefined || wf.defaultValue !== undefined;
    const differs =
      explicit &&
      (readerDefault !== undefined && writerDefault !== undefined
        ? asNumber(readerDefault) !== asNumber(writerDefault)
        : rf.defaultValue !== wf.defaultValue);
    if (differs) {
      add(
        ctx,
        path,
        "field_default_changed",
        `${label} defaults to ${readerDefault ?? "its first value"} in ${ctx.r} but to ${writerDefault ?? "its first value"} ` +
          `in ${ctx.w}: a value the writer leaves out means the writer's default, and ${ctx.r} reads it as its own. ` +
          "Keep the default unchanged.",
      );
    }
  }
}

/**
 * What a field without a `default` option reads as when absent, as JSON. An
 * enum's is its first value, which a number-only comparison cannot name, so
 * enums compare their explicit defaults only.
 */
/** bool and the integer types share the varint encoding, where false is 0 and true is 1. */
function asNumber(value: string): string {
  return value === "false" ? "0" : value === "true" ? "1" : value;
}

function zeroOf(type: TypeRef): string | undefined {
  if (type.kind !== "scalar") return undefined;
  if (type.name === "bool") return "false";
  if (type.name === "string" || type.name === "bytes") return '""';
  return "0";
}

function sameDeclaredType(ctx: Context, rf: FieldInfo, wf: FieldInfo): boolean {
  if ((rf.cardinality === "map") !== (wf.cardinality === "map") || rf.keyType !== wf.keyType) return false;
  const r = rf.type;
  const w = wf.type;
  if (r.kind === "scalar" || w.kind === "scalar") return r.kind === w.kind && r.name === w.name;
  if (r.kind === "unresolved" || w.kind === "unresolved") return sameNamedType(ctx, r.name, w.name);
  return r.kind === w.kind && ctx.rename(w.name) === r.name;
}

/** Whether two type names denote the same type, one of them possibly unresolved (as written, partly qualified). */
function sameNamedType(ctx: Context, readerName: string, writerName: string): boolean {
  const translated = ctx.rename(writerName);
  return (
    translated === readerName ||
    writerName === readerName ||
    translated.endsWith(`.${readerName}`) ||
    readerName.endsWith(`.${translated}`)
  );
}

function scalarRule(reader: string, writer: string): string | undefined {
  if (reader === writer) return undefined;
  if (reader === "bytes" && writer === "string") return undefined;
  if (reader === "string" && writer === "bytes") return "field_bytes_read_as_string";
  return WIRE_GROUP[reader] === WIRE_GROUP[writer] ? undefined : "field_type_incompatible";
}

/** The rule a reader type of a writer type breaks, if any. */
function typeRule(ctx: Context, r: TypeRef, w: TypeRef): string | undefined {
  if (r.kind === "scalar" && w.kind === "scalar") return scalarRule(r.name, w.name);
  if (r.kind === "unresolved" || w.kind === "unresolved") {
    const other = r.kind === "unresolved" ? w : r;
    if (other.kind === "scalar") return "field_type_incompatible";
    if (sameNamedType(ctx, r.name, w.name)) return undefined;
    return other.kind === "enum" ? "field_enum_type_changed" : "field_message_type_changed";
  }
  if (r.kind === "enum" && w.kind === "enum") return enumTypeRule(ctx, r.name, w.name);
  if (r.kind === "enum" && w.kind === "scalar")
    return ENUM_COMPATIBLE.has(w.name) ? undefined : "field_type_incompatible";
  if (r.kind === "scalar" && w.kind === "enum")
    return ENUM_COMPATIBLE.has(r.name) ? undefined : "field_type_incompatible";
  // Embedded messages are bytes on the wire; the reverse needs bytes that hold a message.
  if (r.kind === "scalar" && r.name === "bytes" && w.kind === "message") return undefined;
  if (r.kind === "message" && w.kind === "scalar" && w.name === "bytes") return "field_bytes_read_as_message";
  if (r.kind === w.kind && (r.kind === "message" || r.kind === "group")) {
    return ctx.rename(w.name) === r.name ? undefined : "field_message_type_changed";
  }
  return "field_type_incompatible";
}

/** An enum moved or renamed (same short name) is still read correctly when the reader's has all the writer's values. */
function enumTypeRule(ctx: Context, readerName: string, writerName: string): string | undefined {
  if (ctx.rename(writerName) === readerName) return undefined;
  const shortName = (name: string) => name.slice(name.lastIndexOf(".") + 1);
  const re = ctx.reader.enums.get(readerName);
  const we = ctx.writer.enums.get(writerName);
  if (re && we && shortName(readerName) === shortName(writerName)) {
    if ([...we.values.keys()].every((number) => re.values.has(number))) return undefined;
  }
  return "field_enum_type_changed";
}

function typeLabel(f: FieldInfo): string {
  const type = f.type.kind === "group" ? `group ${f.type.name}` : f.type.name;
  if (f.cardinality === "map") return `map<${f.keyType}, ${type}>`;
  return f.cardinality === "repeated" ? `repeated ${type}` : type;
}

function typeMessage(ctx: Context, rule: string, label: string, rf: FieldInfo, wf: FieldInfo): string {
  const sides = `${label} is ${typeLabel(rf)} in ${ctx.r} but ${typeLabel(wf)} in ${ctx.w}`;
  switch (rule) {
    case "field_bytes_read_as_string":
      return (
        `${sides}: bytes need not be valid UTF-8, and ${ctx.r} rejects or mangles bytes that are not. Keep the ` +
        "field bytes, or add a new string field with a new number."
      );
    case "field_bytes_read_as_message":
      return (
        `${sides}: only bytes that hold an encoded ${rf.type.name} decode, and nothing guarantees that. Keep the ` +
        "field bytes, or add a new message field with a new number."
      );
    case "field_message_type_changed":
      return (
        `${sides}: a different message is a different contract, whatever its fields. Keep ${wf.type.name}, or add a ` +
        "new field with a new number."
      );
    case "field_enum_type_changed":
      return (
        `${sides}: ${ctx.r} interprets the numbers with another enum, which may lack the writer's values. Keep ` +
        `${wf.type.name}, or add a new field with a new number.`
      );
    default:
      return (
        `${sides}: the two types do not share a wire encoding, so ${ctx.r} cannot decode the values written with ` +
        `${ctx.w}. Keep the type (or a wire-compatible one, see the language guide), or add a new field with a new number.`
      );
  }
}

/**
 * The oneof rules, read from the reader: a reader oneof may only gather
 * fields the writer already kept mutually exclusive (one writer oneof, or at
 * most one field from outside), and a writer oneof that lives on in the
 * reader must keep all its members. Returns the writer field numbers already
 * reported, so that they are not reported again as removed fields.
 */
function compareOneofs(ctx: Context, rm: MessageInfo, wm: MessageInfo, base: string): Set<number> {
  const handled = new Set<number>();
  for (const [name, members] of rm.oneofs) {
    const shared = members.filter((number) => wm.fields.has(number));
    if (shared.length < 2) continue;
    const counts = new Map<string, number>();
    let outside = 0;
    for (const number of shared) {
      const home = wm.fields.get(number)!.oneof;
      if (home === undefined) outside++;
      else counts.set(home, (counts.get(home) ?? 0) + 1);
    }
    if (outside === 0 && counts.size === 1) continue;
    let home = counts.has(name) ? name : undefined;
    if (home === undefined) {
      let best = 0;
      for (const [candidate, count] of counts) {
        if (count > best) [home, best] = [candidate, count];
      }
    }
    const path = `${base}/oneofs/${name}`;
    for (const number of shared) {
      const wf = wm.fields.get(number)!;
      const rf = rm.fields.get(number)!;
      // A field outside any writer oneof can be set with every other; a member, with fields outside its oneof.
      const others = shared
        .filter(
          (other) => other !== number && (wf.oneof === undefined || wm.fields.get(other)!.oneof !== wf.oneof),
        )
        .map((other) => `${other} ${JSON.stringify(wm.fields.get(other)!.name)}`);
      const together = others.length > 0 ? `field ${others.join(", field ")}` : "other members";
      if (wf.oneof === undefined) {
        add(
          ctx,
          path,
          "field_moved_into_oneof",
          `${fieldLabel(rf, rm)} belongs to oneof ${JSON.stringify(name)} in ${ctx.r} but to no oneof in ${ctx.w}, ` +
            `which can set it together with ${together}: ${ctx.r} keeps only the last one it reads. Move at most ` +
            "one existing field into a new oneof, and never into an existing one; add new fields to it instead.",
        );
      } else if (wf.oneof !== home) {
        add(
          ctx,
          path,
          "field_moved_between_oneofs",
          `${fieldLabel(rf, rm)} belongs to oneof ${JSON.stringify(name)} in ${ctx.r} but to oneof ` +
            `${JSON.stringify(wf.oneof)} in ${ctx.w}, which can set it together with ${together}: ${ctx.r} keeps ` +
            "only the last one it reads. Keep the field in its oneof.",
        );
      }
    }
  }

  for (const [name, members] of wm.oneofs) {
    // The reader oneof that continues this one (possibly renamed): where the writer's surviving members went.
    let continued: string | undefined;
    for (const number of members) continued ??= rm.fields.get(number)?.oneof;
    if (continued === undefined) continue;
    for (const number of members) {
      if (rm.fields.has(number)) continue;
      const wf = wm.fields.get(number)!;
      handled.add(number);
      add(
        ctx,
        `${base}/oneofs/${continued}`,
        "oneof_field_removed",
        `${fieldLabel(wf, wm)}, a member of oneof ${JSON.stringify(name)} in ${ctx.w}, is missing from the oneof in ` +
          `${ctx.r}, which sees the oneof as unset when the writer chose this member. Keep the field in the oneof.`,
      );
    }
  }
  return handled;
}

function compareEnums(ctx: Context, re: EnumInfo, we: EnumInfo): void {
  const base = `#/enums/${re.fullName}`;
  for (const [number, names] of we.values) {
    // The number is all the wire carries: aliases and renames keep it, a name moved elsewhere does not.
    if (names.some((name) => re.numbersByName.get(name) === number)) continue;
    const moved = names.map((name) => re.numbersByName.get(name)).find((n) => n !== undefined);
    if (moved === undefined && re.values.has(number)) continue;
    if (moved !== undefined) {
      add(
        ctx,
        `${base}/values/${number}`,
        "enum_value_number_changed",
        `Value ${names.join(", ")} of enum ${re.fullName} is ${moved} in ${ctx.r} but ${number} in ${ctx.w}, so ` +
          `${ctx.r} reads the ${number} written with ${ctx.w} as an unknown value. Enum numbers must never change: ` +
          `restore ${number}.`,
      );
    } else {
      add(
        ctx,
        `${base}/values/${number}`,
        "enum_value_removed",
        `Value ${number} (${names.join(", ")}) of enum ${re.fullName} is declared in ${ctx.w} but missing from ${ctx.r}, whose consumers meet a number they have no name ` +
          "for (proto3 keeps it as an unrecognized value, proto2 moves it to unknown fields). Keep the value, and " +
          "mark it deprecated if it is retired.",
      );
    }
  }
  for (const [number, names] of re.values) {
    if (we.values.has(number)) continue;
    for (const name of names) {
      reservedReuse(
        ctx,
        we,
        number,
        name,
        `${base}/values/${number}`,
        `Value ${name} = ${number} of enum ${re.fullName}`,
        "value",
      );
    }
  }
}

function sameMeaning(a: ProtobufPrepared, b: ProtobufPrepared): boolean {
  return a === b || fingerprintOf(a) === fingerprintOf(b);
}

export const protobufRules: CompatibilityRules<ProtobufPrepared> = { prepare, readerViolations, sameMeaning };

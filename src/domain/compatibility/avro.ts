/**
 * Avro compatibility: whether a reader can decode what a writer wrote, by the
 * Avro specification's "Schema Resolution", and whether two schemas differ only
 * in documentation.
 *
 * The schema JSON is walked directly into a graph of nodes (named types are
 * shared objects, so recursive types are cycles): an order of magnitude
 * faster than building avsc types, which compile codecs this never uses, and
 * it keeps what resolution reads: aliases, defaults, enum defaults and
 * logical types.
 *
 * Paths follow the reader schema from its root `#`: `/fields/<name>` for a
 * record field (the reader's field name), `/items` for array items, `/values`
 * for map values, `/symbols/<symbol>` for an enum symbol and `/branches/<i>`
 * for the branch of a reader union that reads the writer's value. A writer
 * union read by a single reader type adds no step: the violation sits at the
 * reader type's path and its message names the writer's branch. So
 * `#/fields/contact/branches/1/fields/zip` is field `zip` of the record in
 * branch 1 of the reader's union field `contact`.
 */
import { canonicalJson } from "../canonical.ts";
import type { CompatibilityRules, RuleTable, SchemaDocument, SchemaNames, Violation } from "./types.ts";

export const RULES: RuleTable = {
  type_mismatch:
    "The writer's type cannot be read as the reader's type at all (e.g. string read as int, a record read as an array).",
  type_narrowed:
    "The reader's numeric type is narrower than the writer's (e.g. long read as int, double read as float); Avro only widens.",
  name_mismatch:
    "A record, enum or fixed type has a different name in the reader and the writer, and no reader alias names the writer's type.",
  reader_field_missing_default:
    "A reader record field has no default and the writer has no field of that name (or of one of its aliases) to read it from.",
  enum_symbol_missing:
    "The writer's enum has a symbol the reader's enum lacks, and the reader's enum has no default symbol to read it as.",
  fixed_size_mismatch: "A fixed type has a different size in the reader and the writer.",
  union_branch_missing:
    "The writer can write a type here (its type, or a branch of its union) that the reader's type or union has no branch to read.",
  decimal_scale_changed:
    "A decimal has a different scale in the reader and the writer, so the same bytes mean a different number.",
  decimal_precision_changed:
    "A decimal has a different precision in the reader and the writer; the specification only matches decimals whose precision and scale both agree.",
};

type Primitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

interface Logical {
  type: string;
  /** Set for `decimal` only; scale defaults to 0 as the specification says. */
  precision?: number;
  scale?: number;
}

interface PrimitiveNode {
  kind: Primitive;
  logical?: Logical;
}

interface Named {
  /** Fullname, namespace included. */
  fullname: string;
  /** The unqualified name, which resolution compares. */
  name: string;
  /** Fullnames, relative aliases qualified by the type's namespace. */
  aliases: readonly string[];
}

interface Field {
  name: string;
  aliases: readonly string[];
  /** Its path from the record, `#/fields/<name>`, and how messages call it, made once here. */
  path: string;
  subject: string;
  type: AvroNode;
  hasDefault: boolean;
  default: unknown;
  order: string;
}

interface RecordNode extends Named {
  kind: "record";
  error: boolean;
  fields: Field[];
  byName: Map<string, Field>;
}

interface EnumNode extends Named {
  kind: "enum";
  symbols: readonly string[];
  symbolSet: ReadonlySet<string>;
  default: string | undefined;
}

interface FixedNode extends Named {
  kind: "fixed";
  size: number;
  logical?: Logical;
}

interface ArrayNode {
  kind: "array";
  items: AvroNode;
}

interface MapNode {
  kind: "map";
  values: AvroNode;
}

interface UnionNode {
  kind: "union";
  branches: AvroNode[];
}

/**
 * A name no definition was found for (a reference that was not supplied). It
 * only matches the same name: what it stands for is unknown, so nothing can
 * be concluded about its contents.
 */
interface UnresolvedNode extends Named {
  kind: "unresolved";
}

type NamedNode = RecordNode | EnumNode | FixedNode | UnresolvedNode;
type AvroNode = PrimitiveNode | NamedNode | ArrayNode | MapNode | UnionNode;

/** A parsed Avro schema: the type graph of its root type. */
export interface AvroPrepared {
  readonly root: AvroNode;
}

/**
 * Normalised forms, made on the first `sameMeaning` that needs one: most
 * prepared versions are only ever resolved against, and the form costs about
 * as much as parsing. Kept beside the prepared value so that stays unchanged.
 */
const normalizedForms = new WeakMap<AvroPrepared, string>();

function normalizedOf(prepared: AvroPrepared): string {
  let text = normalizedForms.get(prepared);
  if (text === undefined) {
    text = normalize(prepared.root, new Set());
    normalizedForms.set(prepared, text);
  }
  return text;
}

const PRIMITIVES = new Set<string>(["null", "boolean", "int", "long", "float", "double", "bytes", "string"]);
// Plain primitives carry nothing of their own, so one shared node each saves allocations.
const PLAIN: Record<string, PrimitiveNode> = Object.create(null);
for (const p of PRIMITIVES) PLAIN[p] = { kind: p as Primitive };

const NO_ALIASES: readonly string[] = Object.freeze([]);

const NUMERIC_RANK: Partial<Record<string, number>> = { int: 0, long: 1, float: 2, double: 3 };

// ---------------------------------------------------------------------------
// Parsing

type Registry = Map<string, NamedNode>;
type JsonObject = Record<string, unknown>;

function namespaceOf(fullname: string): string {
  const dot = fullname.lastIndexOf(".");
  return dot < 0 ? "" : fullname.slice(0, dot);
}

function unqualified(fullname: string): string {
  return fullname.slice(fullname.lastIndexOf(".") + 1);
}

function qualify(name: string, namespace: string): string {
  return name.includes(".") || namespace === "" ? name : `${namespace}.${name}`;
}

function named(schema: JsonObject, enclosing: string): Named {
  const raw = String(schema.name);
  // An explicit namespace, even "", replaces the enclosing one; a dotted name ignores both.
  const namespace = typeof schema.namespace === "string" ? schema.namespace : enclosing;
  const fullname = qualify(raw, namespace);
  const own = namespaceOf(fullname);
  const aliases = Array.isArray(schema.aliases)
    ? schema.aliases.filter((a): a is string => typeof a === "string").map((a) => qualify(a, own))
    : NO_ALIASES;
  return { fullname, name: unqualified(fullname), aliases };
}

function lookup(name: string, namespace: string, registry: Registry): NamedNode {
  const fullname = qualify(name, namespace);
  const found = registry.get(fullname) ?? registry.get(name);
  if (found) return found;
  return { kind: "unresolved", fullname, name: unqualified(fullname), aliases: NO_ALIASES };
}

function logicalOf(schema: JsonObject): Logical | undefined {
  const type = schema.logicalType;
  if (typeof type !== "string") return undefined;
  if (type !== "decimal") return { type };
  const precision = typeof schema.precision === "number" ? schema.precision : Number.NaN;
  const scale = typeof schema.scale === "number" ? schema.scale : 0;
  return { type, precision, scale };
}

function parse(schema: unknown, namespace: string, registry: Registry): AvroNode {
  if (typeof schema === "string") {
    return PLAIN[schema] ?? lookup(schema, namespace, registry);
  }
  if (Array.isArray(schema)) {
    return { kind: "union", branches: schema.map((branch) => parse(branch, namespace, registry)) };
  }
  if (schema === null || typeof schema !== "object") {
    throw new TypeError(`not an Avro schema: ${JSON.stringify(schema)}`);
  }
  const object = schema as JsonObject;
  const type = object.type;
  // `{"type": {...}}` and `{"type": ["null", ...]}` wrap a schema without adding to it.
  if (typeof type !== "string") return parse(type, namespace, registry);
  switch (type) {
    case "record":
    case "error":
      return parseRecord(object, type === "error", namespace, registry);
    case "enum": {
      const symbols = Array.isArray(object.symbols) ? (object.symbols as string[]) : [];
      const node: EnumNode = {
        kind: "enum",
        ...named(object, namespace),
        symbols,
        symbolSet: new Set(symbols),
        default: typeof object.default === "string" ? object.default : undefined,
      };
      registry.set(node.fullname, node);
      return node;
    }
    case "fixed": {
      const node: FixedNode = { kind: "fixed", ...named(object, namespace), size: Number(object.size) };
      const logical = logicalOf(object);
      if (logical) node.logical = logical;
      registry.set(node.fullname, node);
      return node;
    }
    case "array":
      return { kind: "array", items: parse(object.items, namespace, registry) };
    case "map":
      return { kind: "map", values: parse(object.values, namespace, registry) };
    default: {
      const plain = PLAIN[type];
      if (!plain) return lookup(type, namespace, registry);
      const logical = logicalOf(object);
      return logical ? { kind: plain.kind, logical } : plain;
    }
  }
}

function parseRecord(schema: JsonObject, error: boolean, enclosing: string, registry: Registry): RecordNode {
  const node: RecordNode = {
    kind: "record",
    error,
    ...named(schema, enclosing),
    fields: [],
    byName: new Map(),
  };
  // Registered before its fields are parsed, so a field can refer to the record itself.
  registry.set(node.fullname, node);
  const namespace = namespaceOf(node.fullname);
  const fields = Array.isArray(schema.fields) ? (schema.fields as JsonObject[]) : [];
  for (const raw of fields) {
    const name = String(raw.name);
    const field: Field = {
      name,
      aliases: Array.isArray(raw.aliases)
        ? raw.aliases.filter((a): a is string => typeof a === "string")
        : NO_ALIASES,
      path: `#/fields/${name}`,
      subject: `field "${name}" of record ${node.fullname}`,
      type: parse(raw.type, namespace, registry),
      hasDefault: raw.default !== undefined,
      default: raw.default,
      order: typeof raw.order === "string" ? raw.order : "ascending",
    };
    node.fields.push(field);
    node.byName.set(field.name, field);
  }
  return node;
}

// ---------------------------------------------------------------------------
// Normalised form
//
// The Parsing Canonical Form keeps what decodes data (names, types, fields,
// symbols, sizes) and drops the rest. Resolution also reads aliases, defaults,
// enum defaults and sort order, and logical types change what values mean, so
// those are kept too; `doc` and custom properties are not. Keys are written in
// a fixed order, aliases sorted, and a named type is spelled out at its first
// occurrence only, as in the canonical form.

function normalize(node: AvroNode, seen: Set<NamedNode>): string {
  switch (node.kind) {
    case "record": {
      if (seen.has(node)) return JSON.stringify(node.fullname);
      seen.add(node);
      let text = `{"type":"${node.error ? "error" : "record"}","name":${JSON.stringify(node.fullname)}`;
      text += aliasesText(node.aliases);
      text += `,"fields":[`;
      node.fields.forEach((field, i) => {
        if (i > 0) text += ",";
        text += `{"name":${JSON.stringify(field.name)}${aliasesText(field.aliases)},"type":${normalize(field.type, seen)}`;
        if (field.hasDefault) text += `,"default":${defaultText(field.default)}`;
        if (field.order !== "ascending") text += `,"order":${JSON.stringify(field.order)}`;
        text += "}";
      });
      return `${text}]}`;
    }
    case "enum": {
      if (seen.has(node)) return JSON.stringify(node.fullname);
      seen.add(node);
      let text = `{"type":"enum","name":${JSON.stringify(node.fullname)}${aliasesText(node.aliases)}`;
      text += `,"symbols":${JSON.stringify(node.symbols)}`;
      if (node.default !== undefined) text += `,"default":${JSON.stringify(node.default)}`;
      return `${text}}`;
    }
    case "fixed": {
      if (seen.has(node)) return JSON.stringify(node.fullname);
      seen.add(node);
      const name = JSON.stringify(node.fullname);
      return `{"type":"fixed","name":${name}${aliasesText(node.aliases)},"size":${node.size}${logicalText(node.logical)}}`;
    }
    case "unresolved":
      return JSON.stringify(node.fullname);
    case "array":
      return `{"type":"array","items":${normalize(node.items, seen)}}`;
    case "map":
      return `{"type":"map","values":${normalize(node.values, seen)}}`;
    case "union":
      return `[${node.branches.map((branch) => normalize(branch, seen)).join(",")}]`;
    default:
      return node.logical ? `{"type":"${node.kind}"${logicalText(node.logical)}}` : `"${node.kind}"`;
  }
}

function defaultText(value: unknown): string {
  // Only objects have a key order to settle; the rest is written as is, much faster.
  return value !== null && typeof value === "object" ? canonicalJson(value) : JSON.stringify(value);
}

function aliasesText(aliases: readonly string[]): string {
  return aliases.length === 0 ? "" : `,"aliases":${JSON.stringify([...aliases].sort())}`;
}

function logicalText(logical: Logical | undefined): string {
  if (!logical) return "";
  let text = `,"logicalType":${JSON.stringify(logical.type)}`;
  if (logical.precision !== undefined) text += `,"precision":${canonicalJson(logical.precision)}`;
  if (logical.scale !== undefined) text += `,"scale":${logical.scale}`;
  return text;
}

// ---------------------------------------------------------------------------
// Resolution

const IN_PROGRESS = Symbol("in progress");

interface Context {
  reader: string;
  writer: string;
  /**
   * Violations of record pairs already compared, with paths relative to the
   * record, so a type used in many places is compared once. A pair still being
   * compared is assumed fine where it recurs: whatever is wrong with it is
   * reported where its comparison started.
   */
  records: Map<RecordNode, Map<RecordNode, Violation[] | typeof IN_PROGRESS>>;
}

function isPrimitive(node: AvroNode): node is PrimitiveNode {
  return PRIMITIVES.has(node.kind);
}

/** Whether a writer of `writer` can be read by `reader` of the same primitive family, without looking deeper. */
function promotes(writer: string, reader: string): boolean {
  if (writer === reader) return true;
  const from = NUMERIC_RANK[writer];
  const to = NUMERIC_RANK[reader];
  if (from !== undefined && to !== undefined) return from < to;
  return (writer === "string" && reader === "bytes") || (writer === "bytes" && reader === "string");
}

/**
 * Whether two types are alike enough that comparing them further says more
 * than "different types": same kind, both numeric, or string and bytes.
 */
function sameFamily(reader: AvroNode, writer: AvroNode): boolean {
  if (reader.kind === writer.kind) return true;
  if (NUMERIC_RANK[reader.kind] !== undefined && NUMERIC_RANK[writer.kind] !== undefined) return true;
  return promotes(writer.kind, reader.kind);
}

/**
 * Names compare unqualified, as the specification (1.11 on) and the reference
 * implementations do: moving a type to another namespace keeps it readable.
 */
function namesMatch(reader: Named, writer: Named): boolean {
  if (reader.name === writer.name) return true;
  for (const alias of reader.aliases) {
    if (alias === writer.fullname || unqualified(alias) === writer.name) return true;
  }
  return false;
}

function describe(node: AvroNode): string {
  switch (node.kind) {
    case "record":
      return `record ${node.fullname}`;
    case "enum":
      return `enum ${node.fullname}`;
    case "fixed":
      return `fixed ${node.fullname} (${node.size} bytes${node.logical ? `, ${logicalName(node.logical)}` : ""})`;
    case "unresolved":
      return `type ${node.fullname}`;
    case "array":
      return `array of ${describe(node.items)}`;
    case "map":
      return `map of ${describe(node.values)}`;
    case "union":
      return `union [${node.branches.map(describe).join(", ")}]`;
    default:
      return node.logical ? `${node.kind} (${logicalName(node.logical)})` : node.kind;
  }
}

function logicalName(logical: Logical): string {
  return logical.type === "decimal" ? `decimal(${logical.precision}, ${logical.scale})` : logical.type;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Resolves `writer` against `reader` at `path`. `subject` names the place in
 * words for the messages ("field \"zip\" of record acme.Address").
 */
function resolve(
  reader: AvroNode,
  writer: AvroNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): void {
  // Plain primitives are shared nodes, so this settles most fields at once.
  if (reader === writer) return;
  if (writer.kind === "union") {
    // Each branch the writer may have written must be readable on its own.
    writer.branches.forEach((branch, i) => {
      const unresolved = reader.kind === "unresolved" || branch.kind === "unresolved";
      if (reader.kind === "union") {
        readIntoUnion(reader, branch, path, subject, context, out, i);
      } else if (unresolved ? sameName(reader, branch) : sameFamily(reader, branch)) {
        resolve(reader, branch, path, subject, context, out);
      } else {
        out.push({
          path,
          rule: "union_branch_missing",
          message:
            `${capitalize(subject)} can hold ${describe(branch)} in ${context.writer} (branch ${i} of its union), ` +
            `which ${describe(reader)} in ${context.reader} cannot read: ${describe(branch)} must be readable ` +
            `wherever it can be written, so make it a union with a branch for ${describe(branch)} in ${context.reader}, ` +
            `or do not write ${describe(branch)} here in ${context.writer}.`,
        });
      }
    });
    return;
  }
  if (reader.kind === "union") {
    readIntoUnion(reader, writer, path, subject, context, out, undefined);
    return;
  }
  if (reader.kind === "unresolved" || writer.kind === "unresolved") {
    if (!sameName(reader, writer)) typeMismatch(reader, writer, path, subject, context, out);
    return;
  }
  if (isPrimitive(reader) && isPrimitive(writer)) {
    if (promotes(writer.kind, reader.kind)) {
      if (writer.kind === "bytes" && reader.kind === "bytes")
        decimals(reader, writer, path, subject, context, out);
    } else if (NUMERIC_RANK[reader.kind] !== undefined && NUMERIC_RANK[writer.kind] !== undefined) {
      out.push({
        path,
        rule: "type_narrowed",
        message:
          `${capitalize(subject)} is ${describe(writer)} in ${context.writer} but ${describe(reader)} in ` +
          `${context.reader}, which cannot hold every ${writer.kind} value: Avro widens int to long, float or ` +
          `double, long to float or double and float to double, never the other way, so read it as ` +
          `${writer.kind} or wider.`,
      });
    } else {
      typeMismatch(reader, writer, path, subject, context, out);
    }
    return;
  }
  if (reader.kind !== writer.kind) {
    typeMismatch(reader, writer, path, subject, context, out);
    return;
  }
  switch (reader.kind) {
    case "record":
      resolveRecord(reader, writer as RecordNode, path, subject, context, out);
      return;
    case "enum":
      resolveEnum(reader, writer as EnumNode, path, subject, context, out);
      return;
    case "fixed": {
      const w = writer as FixedNode;
      checkName(reader, w, "fixed", path, subject, context, out);
      if (reader.size !== w.size) {
        out.push({
          path,
          rule: "fixed_size_mismatch",
          message:
            `${capitalize(subject)} is fixed ${w.fullname} of ${w.size} bytes in ${context.writer} but ` +
            `${reader.size} bytes in ${context.reader}: a fixed type's size cannot change, so keep ${w.size} ` +
            `bytes, or define a new fixed type for a new field.`,
        });
      }
      decimals(reader, w, path, subject, context, out);
      return;
    }
    case "array":
      resolve(
        reader.items,
        (writer as ArrayNode).items,
        `${path}/items`,
        `the item type of ${subject}`,
        context,
        out,
      );
      return;
    case "map":
      resolve(
        reader.values,
        (writer as MapNode).values,
        `${path}/values`,
        `the value type of ${subject}`,
        context,
        out,
      );
      return;
  }
}

function sameName(reader: AvroNode, writer: AvroNode): boolean {
  return "fullname" in reader && "fullname" in writer && namesMatch(reader, writer);
}

/**
 * Reads one writer type (a non-union, or one branch of the writer's union)
 * with a reader union: some branch must read it. When none reads it cleanly,
 * the first branch of the same kind (and name) is the one a developer meant,
 * so its own violations explain the failure better than "no branch".
 */
function readIntoUnion(
  reader: UnionNode,
  writer: AvroNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
  writerBranch: number | undefined,
): void {
  let closest: Violation[] | undefined;
  for (let j = 0; j < reader.branches.length; j++) {
    const branch = reader.branches[j]!;
    if (branch === writer) return;
    const candidate =
      "fullname" in branch || "fullname" in writer
        ? sameName(branch, writer) &&
          (branch.kind === writer.kind || branch.kind === "unresolved" || writer.kind === "unresolved")
        : sameFamily(branch, writer);
    if (!candidate) continue;
    const found: Violation[] = [];
    resolve(branch, writer, `${path}/branches/${j}`, `branch ${j} of ${subject}`, context, found);
    if (found.length === 0) return;
    closest ??= found;
  }
  if (closest) {
    out.push(...closest);
    return;
  }
  const written = writerBranch === undefined ? "" : ` (branch ${writerBranch} of its union)`;
  out.push({
    path,
    rule: "union_branch_missing",
    message:
      `${capitalize(subject)} can hold ${describe(writer)} in ${context.writer}${written}, which no branch of ` +
      `the ${describe(reader)} in ${context.reader} can read: the union in ${context.reader} needs a branch ` +
      `for ${describe(writer)} (or for a type it promotes to), or ${context.writer} must not write it here.`,
  });
}

function typeMismatch(
  reader: AvroNode,
  writer: AvroNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): void {
  out.push({
    path,
    rule: "type_mismatch",
    message:
      `${capitalize(subject)} is ${describe(writer)} in ${context.writer} but ${describe(reader)} in ` +
      `${context.reader}, and Avro cannot read one as the other: keep ${describe(writer)}, or add a field ` +
      `with a new name and a default for the new type.`,
  });
}

function checkName(
  reader: Named,
  writer: Named,
  kind: string,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): boolean {
  if (namesMatch(reader, writer)) return true;
  out.push({
    path,
    rule: "name_mismatch",
    message:
      `${capitalize(subject)} is ${kind} ${writer.fullname} in ${context.writer} but ${kind} ${reader.fullname} ` +
      `in ${context.reader}, and Avro matches ${kind} types by name: keep the name ${writer.name}, or list ` +
      `"${writer.fullname}" in the aliases of ${reader.fullname}.`,
  });
  return false;
}

function resolveRecord(
  reader: RecordNode,
  writer: RecordNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): void {
  // With another name the fields are not compared: they belong to another type.
  if (!checkName(reader, writer, "record", path, subject, context, out)) return;
  let byWriter = context.records.get(reader);
  if (!byWriter) {
    byWriter = new Map();
    context.records.set(reader, byWriter);
  }
  let found = byWriter.get(writer);
  if (found === IN_PROGRESS) return;
  if (!found) {
    byWriter.set(writer, IN_PROGRESS);
    found = [];
    resolveFields(reader, writer, context, found);
    byWriter.set(writer, found);
  }
  for (const violation of found) {
    out.push(path === "#" ? violation : { ...violation, path: path + violation.path.slice(1) });
  }
}

/** Violations of the fields of two records of the same name, with paths from the record (`#/fields/...`). */
function resolveFields(reader: RecordNode, writer: RecordNode, context: Context, out: Violation[]): void {
  for (const field of reader.fields) {
    let written = writer.byName.get(field.name);
    for (let i = 0; written === undefined && i < field.aliases.length; i++) {
      written = writer.byName.get(field.aliases[i]!);
    }
    if (written === undefined) {
      // A writer field the reader lacks is skipped; a reader field the writer lacks needs a default.
      if (!field.hasDefault) {
        out.push({
          path: field.path,
          rule: "reader_field_missing_default",
          message:
            `Field "${field.name}" of record ${reader.fullname} in ${context.reader} has no default and ` +
            `${context.writer} does not write it: give it a default, or make it optional with a union with ` +
            `null and default null (if it renames a field, list the old name in its aliases); otherwise ` +
            `${context.writer} must write it.`,
        });
      }
      continue;
    }
    resolve(field.type, written.type, field.path, field.subject, context, out);
  }
}

function resolveEnum(
  reader: EnumNode,
  writer: EnumNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): void {
  if (!checkName(reader, writer, "enum", path, subject, context, out)) return;
  // An unknown symbol reads as the reader's default, when it has one.
  if (reader.default !== undefined) return;
  for (const symbol of writer.symbols) {
    if (reader.symbolSet.has(symbol)) continue;
    out.push({
      path: `${path}/symbols/${symbol}`,
      rule: "enum_symbol_missing",
      message:
        `Enum ${reader.fullname} (${subject}) in ${context.reader} has no symbol "${symbol}", which ` +
        `${context.writer} can write: add "${symbol}" to its symbols, or give the enum a default symbol ` +
        `to read unknown symbols as.`,
    });
  }
}

/**
 * The specification matches two decimals only when precision and scale both
 * agree; a decimal on one side only is the underlying type on the other, which
 * reads the same bytes.
 */
function decimals(
  reader: PrimitiveNode | FixedNode,
  writer: PrimitiveNode | FixedNode,
  path: string,
  subject: string,
  context: Context,
  out: Violation[],
): void {
  const r = reader.logical;
  const w = writer.logical;
  if (r?.type !== "decimal" || w?.type !== "decimal") return;
  if (r.scale !== w.scale) {
    out.push({
      path,
      rule: "decimal_scale_changed",
      message:
        `${capitalize(subject)} is a decimal of scale ${w.scale} in ${context.writer} but scale ${r.scale} in ` +
        `${context.reader}, so every value would be read as a different number: keep scale ${w.scale}, or ` +
        `add a new field for the new scale.`,
    });
  }
  if (r.precision !== w.precision) {
    out.push({
      path,
      rule: "decimal_precision_changed",
      message:
        `${capitalize(subject)} is a decimal of precision ${w.precision} in ${context.writer} but precision ` +
        `${r.precision} in ${context.reader}, and Avro only matches decimals whose precision and scale agree: ` +
        `keep precision ${w.precision}, or add a new field for the new precision.`,
    });
  }
}

// ---------------------------------------------------------------------------

export const avroRules: CompatibilityRules<AvroPrepared> = {
  prepare(document: SchemaDocument): AvroPrepared {
    const registry: Registry = new Map();
    // Referenced schemas define the named types the main schema uses by name, in dependency order.
    for (const reference of document.references ?? []) parse(reference.content, "", registry);
    const root = parse(document.content, "", registry);
    return { root };
  },

  readerViolations(reader: AvroPrepared, writer: AvroPrepared, names?: SchemaNames): Violation[] {
    const context: Context = {
      reader: names?.reader ?? "the reader schema",
      writer: names?.writer ?? "the writer schema",
      records: new Map(),
    };
    const out: Violation[] = [];
    resolve(reader.root, writer.root, "#", "the top-level type", context, out);
    return out;
  },

  sameMeaning(a: AvroPrepared, b: AvroPrepared): boolean {
    return a === b || normalizedOf(a) === normalizedOf(b);
  },
};

/**
 * JSON Schema compatibility rules. `readerViolations` lists the ways a document valid under the writer
 * schema may be invalid under the reader schema: the reader must accept at least what the writer
 * produces. The comparison is structural. It walks both schemas side by side, resolving `$ref`s (local
 * pointers, anchors, and other schemas by their reference name), and checks each constraint the reader
 * asserts against what the writer guarantees. Questions that would need a full subschema decision
 * (containment of regular expressions, overlap of `oneOf` branches, `not`, `if`/`then`/`else`) are
 * settled only where a cheap argument proves them and reported otherwise, so a violation can now and
 * then be a false alarm while a clean verdict can be trusted, with two exceptions: the open content
 * model choice below, and `unevaluatedProperties`, which counts a property as evaluated when any subschema
 * applied in place declares it, whether or not that subschema matched. Recursive schemas terminate
 * because each pair of subschemas is compared once; a pair met again while in progress counts as
 * compatible, the usual reading of recursive types.
 *
 * Open content models: a property the reader declares that an implicitly open writer (no
 * `additionalProperties`, or `true`) never declared is compatible. Strictly, such a writer may send that
 * property with any value, and Confluent's registry reports the addition as incompatible; but that
 * forbids the most common evolution, adding an optional field, while producers on the old schema do not
 * in practice send properties it never mentions. Where the writer does constrain undeclared names (an
 * `additionalProperties` schema, or `patternProperties` matching the new name), the new property's schema
 * must accept what that constraint accepted. Pattern properties the reader adds are treated alike.
 * Closing the model, or constraining every additional property, still narrows the writer's open model.
 *
 * Paths point at the subschema of the reader where the problem lies, as JSON pointers into the reader's
 * document: `#` is the root, then `#/properties/address/properties/zip`, `#/items`, `#/prefixItems/0`,
 * `#/anyOf/1`. A problem inside a `$ref` target is reported where the target is defined
 * (`#/$defs/Address/properties/zip`), one inside a schema referenced by name carries that name before the
 * `#` (`address.json#/properties/zip`). A problem about a property the reader gives no subschema of its
 * own (a new `required` entry, a property dropped from a closed model) points at `<object>/properties/<name>`.
 */

import { canonicalJson } from "../canonical.ts";
import type { CompatibilityRules, RuleTable, SchemaDocument, SchemaNames, Violation } from "./types.ts";

export const RULES: RuleTable = {
  type_narrowed: "The reader accepts fewer JSON types than the writer (integer is part of number).",
  false_schema: "The reader schema is `false` (accepts nothing) where the writer accepts values.",
  enum_value_removed:
    "A value the writer allows is not among the reader's `enum` (or fails its constraints).",
  enum_added: "The reader restricts values with an `enum` the writer did not have.",
  const_changed: "The reader's `const` differs from a value the writer allows.",
  const_added: "The reader pins a value with a `const` the writer did not have.",
  minimum_increased: "The reader's lower bound on numbers (minimum, exclusiveMinimum) is higher or new.",
  maximum_decreased: "The reader's upper bound on numbers (maximum, exclusiveMaximum) is lower or new.",
  multiple_of_changed: "The reader's `multipleOf` is new or does not divide the writer's.",
  min_length_increased: "The reader's `minLength` is higher than the writer's.",
  max_length_decreased: "The reader's `maxLength` is lower than the writer's, or new.",
  pattern_changed: "The reader's `pattern` is new or differs from the writer's.",
  format_changed: "The reader's `format` is new or does not include the writer's.",
  min_items_increased: "The reader's `minItems` is higher than the writer's.",
  max_items_decreased: "The reader's `maxItems` is lower than the writer's, or new.",
  unique_items_added: "The reader requires `uniqueItems` where the writer did not.",
  items_narrowed: "The reader allows no array items at positions where the writer allows them.",
  contains_narrowed: "The reader's `contains` (or min/maxContains) is not guaranteed by the writer.",
  required_property_added: "The reader requires a property the writer does not guarantee.",
  property_removed_from_closed_model:
    "A property the writer may send is no longer declared by a reader that rejects undeclared properties.",
  property_forbidden: "The reader forbids (`false`) a property the writer may send.",
  content_model_closed: "The reader rejects undeclared properties where the writer allows them.",
  additional_properties_narrowed:
    "The reader constrains undeclared properties where the writer left them open.",
  min_properties_increased: "The reader's `minProperties` is higher than the writer guarantees.",
  max_properties_decreased: "The reader's `maxProperties` is lower than the writer's, or new.",
  property_names_narrowed: "The reader's `propertyNames` rejects names the writer may use.",
  dependency_added: "The reader adds a property dependency the writer does not guarantee.",
  any_of_branch_removed: "A kind of value the writer allows matches no branch of the reader's `anyOf`.",
  one_of_branch_removed: "A kind of value the writer allows matches no branch of the reader's `oneOf`.",
  one_of_ambiguous: "Values the writer allows match more than one branch of the reader's `oneOf`.",
  not_narrowed: "The reader's `not` may exclude values the writer allows.",
  conditional_narrowed: "The reader's `if`/`then`/`else` may reject values the writer allows.",
  reference_unresolved:
    "One side refers to a schema that is not among its references, so the two cannot be compared there.",
};

// Type bits. `number` is NUM | INT so that integer is a subset of it; NUM alone means non-integral numbers.
const NULL = 1;
const BOOL = 2;
const OBJ = 4;
const ARR = 8;
const NUM = 16;
const INT = 32;
const STR = 64;
const ALL = 127;
const NUMBERS = NUM | INT;

// Maps, not object literals: the keys looked up come from schemas, and "constructor" is a valid format name.
const TYPE_BITS: ReadonlyMap<string, number> = new Map([
  ["null", NULL],
  ["boolean", BOOL],
  ["object", OBJ],
  ["array", ARR],
  ["number", NUMBERS],
  ["integer", INT],
  ["string", STR],
]);

// Alternatives a writer's anyOf/oneOf (and their products) are split into before giving up splitting.
const MAX_ALTERNATIVES = 64;
// Writer conjunctions beyond this are truncated: fewer constraints is a superset, so still sound.
const MAX_CONJUNCTION = 24;
const MAX_VALUE_DEPTH = 64;

const DOC_KEYWORDS = new Set([
  "title",
  "description",
  "$comment",
  "examples",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

type Json = Record<string, unknown>;
/** Property names, as a set or as the keys of a `properties` map. */
type Names = Pick<ReadonlySet<string>, "has" | "size" | "keys">;
type ValueSource = "enum" | "const" | "type";

interface Bound {
  value: number;
  exclusive: boolean;
}

interface PatternEntry {
  source: string;
  re: RegExp | null;
  node: Node;
}

// Shared empty defaults; nothing ever adds to them.
const EMPTY_SET: ReadonlySet<string> = new Set();
const NO_NODES: Node[] = [];
const NO_PATTERNS: PatternEntry[] = [];
const NO_REGEXPS: RegExp[] = [];

/** One subschema, parsed. Built by `prepare` and never changed afterwards. */
class Node {
  bool: boolean | null = null;
  /** No `$ref` in it or below it, so its meaning is all in its own text. */
  refFree = true;
  /** Asserts nothing (`true`, `{}`, annotations only). */
  trivial = false;
  /** A schema that is exactly its `$ref` target. */
  alias: Node | null = null;
  /** The `$ref` this stands for when it could not be resolved. */
  unresolved: string | null = null;
  hasType = false;
  types = ALL;
  enumKeys: Set<string> | null = null;
  constKey: string | null = null;
  /** The finite set of values enum and const allow, when either is present. */
  values: unknown[] | null = null;
  valueSource: ValueSource | null = null;
  lower: Bound | null = null;
  upper: Bound | null = null;
  multipleOf: number | null = null;
  minLength = 0;
  maxLength = Number.POSITIVE_INFINITY;
  pattern: string | null = null;
  patternRe: RegExp | null = null;
  format: string | null = null;
  minItems = 0;
  maxItems = Number.POSITIVE_INFINITY;
  uniqueItems = false;
  prefix: Node[] = NO_NODES;
  rest: Node | null = null;
  contains: Node | null = null;
  minContains = 1;
  maxContains = Number.POSITIVE_INFINITY;
  /** `unevaluatedItems` where applicators could evaluate items, so it is not simply `items`. */
  looseUnevaluatedItems: Node | null = null;
  properties: Map<string, Node> | null = null;
  declared: Names = EMPTY_SET;
  patternProperties: PatternEntry[] = NO_PATTERNS;
  additional: Node | null = null;
  unevaluated: Node | null = null;
  evaluated: Set<string> | null = null;
  evaluatedPatterns: RegExp[] = NO_REGEXPS;
  required: ReadonlySet<string> = EMPTY_SET;
  minProperties = 0;
  maxProperties = Number.POSITIVE_INFINITY;
  propertyNames: Node | null = null;
  dependentRequired: Map<string, string[]> | null = null;
  dependentSchemas: Map<string, Node> | null = null;
  allOf: Node[] = NO_NODES;
  /** allOf plus `$ref` targets that sit beside other keywords (2019-09 and later). */
  members: Node[] = NO_NODES;
  anyOf: Node[] | null = null;
  oneOf: Node[] | null = null;
  not: Node | null = null;
  ifNode: Node | null = null;
  thenNode: Node | null = null;
  elseNode: Node | null = null;

  constructor(
    readonly id: number,
    readonly path: string,
    /** The schema as written, for comparisons by meaning. */
    readonly raw: unknown,
  ) {}
}

let nextNodeId = 1;

/** A parsed schema: its root node, plus what `sameMeaning` compares. */
export interface PreparedJsonSchema {
  readonly root: Node;
  readonly content: unknown;
  readonly references: ReadonlyMap<string, unknown>;
}

export type { Node as JsonSchemaNode };

// ---------------------------------------------------------------------------------------------------
// Preparation

interface Resource {
  raw: unknown;
  path: string;
  id: string | null;
  doc: Doc;
}

interface Doc {
  prefix: string;
  legacy: boolean;
  anchors: Map<string, { raw: unknown; path: string; resource: Resource }>;
}

interface PendingRef {
  node: Node;
  refs: string[];
  resource: Resource;
  aliasOnly: boolean;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapeToken(token: string): string {
  if (!token.includes("~") && !token.includes("/")) return token;
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

function compilePattern(source: string): RegExp | null {
  try {
    return new RegExp(source, "u");
  } catch {
    try {
      return new RegExp(source);
    } catch {
      return null;
    }
  }
}

// Patterns that match every string, so a reader that adds one narrows nothing.
const UNIVERSAL_PATTERNS = new Set(["", ".*", "^.*", ".*$", "^.*$", "[\\s\\S]*", "^[\\s\\S]*$"]);

/** Draft-04 to draft-07 ignore the siblings of `$ref` and spell tuples as `items` arrays. */
function isLegacyDialect(content: unknown): boolean {
  if (!isObject(content) || typeof content.$schema !== "string") return false;
  return /draft-0[3-7]/.test(content.$schema);
}

function typeBits(value: unknown): number {
  if (value === null) return NULL;
  switch (typeof value) {
    case "boolean":
      return BOOL;
    case "number":
      return Number.isInteger(value) ? INT : NUM;
    case "string":
      return STR;
    case "object":
      return Array.isArray(value) ? ARR : OBJ;
    default:
      return 0;
  }
}

/** canonicalJson, without its cost for the strings and numbers most enums hold. */
function valueKey(value: unknown): string {
  return typeof value === "object" && value !== null ? canonicalJson(value) : JSON.stringify(value);
}

function tighterLower(a: Bound | null, b: Bound | null): Bound | null {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return a.exclusive ? a : b;
}

function tighterUpper(a: Bound | null, b: Bound | null): Bound | null {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value < b.value ? a : b;
  return a.exclusive ? a : b;
}

class Compiler {
  private readonly nodes = new Map<string, Node>();
  private readonly pending: PendingRef[] = [];
  private readonly resourcesByName = new Map<string, Resource>();
  private readonly withUnevaluated: Node[] = [];

  compileDocument(content: unknown, prefix: string, name: string | null): Node {
    const doc: Doc = { prefix, legacy: isLegacyDialect(content), anchors: new Map() };
    const id = isObject(content) && typeof content.$id === "string" ? content.$id : null;
    const resource: Resource = { raw: content, path: prefix, id, doc };
    if (name !== null) this.resourcesByName.set(name, resource);
    if (id) this.register(id, resource);
    return this.compile(content, prefix, resource);
  }

  /** Resolves every `$ref` once all documents are compiled; targets found only by pointer compile here. */
  finish(): void {
    for (let i = 0; i < this.pending.length; i++) {
      const { node, refs, resource, aliasOnly } = this.pending[i]!;
      const targets = refs.map((ref) => this.resolve(ref, resource) ?? unresolvedNode(ref, node.path));
      if (aliasOnly) node.alias = targets[0]!;
      else node.members = [...node.allOf, ...targets];
    }
    for (const node of this.withUnevaluated) {
      const names = new Set<string>();
      const patterns: RegExp[] = [];
      collectEvaluated(node, names, patterns, new Set());
      node.evaluated = names;
      node.evaluatedPatterns = patterns;
    }
  }

  private register(id: string, resource: Resource): void {
    this.resourcesByName.set(id, resource);
    if (id.endsWith("#")) this.resourcesByName.set(id.slice(0, -1), resource);
  }

  private resolve(ref: string, from: Resource): Node | null {
    const hash = ref.indexOf("#");
    const base = hash < 0 ? ref : ref.slice(0, hash);
    let fragment = hash < 0 ? "" : ref.slice(hash + 1);
    let resource: Resource | undefined = from;
    if (base !== "") {
      resource = this.resourcesByName.get(base);
      if (!resource && from.id) {
        try {
          resource = this.resourcesByName.get(new URL(base, from.id).href);
        } catch {
          // Not a URL relative to the base: only an exact name could have matched.
        }
      }
      if (!resource) return null;
    }
    try {
      fragment = decodeURIComponent(fragment);
    } catch {
      return null;
    }
    if (fragment === "") return this.compile(resource.raw, resource.path, resource);
    if (!fragment.startsWith("/")) {
      const anchor = resource.doc.anchors.get(fragment);
      return anchor ? this.compile(anchor.raw, anchor.path, anchor.resource) : null;
    }
    let target: unknown = resource.raw;
    for (const token of fragment.slice(1).split("/").map(unescapeToken)) {
      if (Array.isArray(target)) target = /^(0|[1-9]\d*)$/.test(token) ? target[Number(token)] : undefined;
      else if (isObject(target) && Object.hasOwn(target, token)) target = target[token];
      else return null;
      if (target === undefined) return null;
    }
    if (typeof target !== "boolean" && !isObject(target)) return null;
    return this.compile(target, `${resource.path}${fragment}`, resource);
  }

  private compile(raw: unknown, path: string, resource: Resource): Node {
    // Keyed by location: the same object placed twice is two subschemas, each reported where it sits.
    const known = this.nodes.get(path);
    if (known) return known;
    const node = new Node(nextNodeId++, path, raw);
    this.nodes.set(path, node);
    if (typeof raw === "boolean" || !isObject(raw)) {
      node.bool = raw !== false;
      node.trivial = raw !== false;
      return node;
    }
    const doc = resource.doc;
    const refs: string[] = [];
    const defs: Array<[string, Json]> = [];
    // One pass over the keys present: probing every keyword on every node costs more than the rest of preparation.
    for (const key in raw) {
      const value = raw[key];
      switch (key) {
        case "$id":
          if (typeof value !== "string") break;
          if (!value.startsWith("#")) {
            if (path !== doc.prefix) {
              resource = { raw, path, id: value, doc };
              this.register(value, resource);
            }
          } else if (doc.legacy) doc.anchors.set(value.slice(1), { raw, path, resource });
          break;
        case "$anchor":
        case "$dynamicAnchor":
          if (typeof value === "string") doc.anchors.set(value, { raw, path, resource });
          break;
        case "$defs":
        case "definitions":
          if (isObject(value)) defs.push([key, value]);
          break;
        case "$ref":
        case "$recursiveRef":
        case "$dynamicRef":
          // draft-07 and earlier know only $ref.
          if (typeof value === "string" && (key === "$ref" || !doc.legacy)) refs.push(value);
          break;
      }
    }
    for (const [key, map] of defs) {
      for (const name in map) this.compile(map[name], `${path}/${key}/${escapeToken(name)}`, resource);
    }
    if (doc.legacy && refs.length > 0) {
      // draft-07 and earlier ignore every sibling of $ref.
      this.pending.push({ node, refs: [refs[0]!], resource, aliasOnly: true });
      node.refFree = false;
      return node;
    }
    const asserts = this.compileKeywords(node, raw, path, resource);
    node.members = node.allOf;
    if (refs.length > 0) {
      this.pending.push({ node, refs, resource, aliasOnly: refs.length === 1 && !asserts });
      node.refFree = false;
    } else if (!asserts) {
      node.trivial = true;
    }
    return node;
  }

  /** Fills `node` from the keywords of `raw`; true when any of them asserts something. */
  private compileKeywords(node: Node, raw: Json, path: string, resource: Resource): boolean {
    let refFree = true;
    let asserts = false;
    const sub = (value: unknown, suffix: string): Node => {
      const child = this.compile(value, `${path}/${suffix}`, resource);
      if (!child.refFree) refFree = false;
      return child;
    };
    const subs = (value: unknown, keyword: string): Node[] | null => {
      if (!Array.isArray(value)) return null;
      asserts = true;
      return value.map((item, i) => sub(item, `${keyword}/${i}`));
    };
    const one = (value: unknown, keyword: string): Node => {
      asserts = true;
      return sub(value, keyword);
    };
    const number = (value: unknown): number | null => {
      if (typeof value !== "number") return null;
      asserts = true;
      return value;
    };
    let type: unknown;
    let items: unknown;
    let prefixItems: unknown;
    let additionalItems: unknown;
    let unevaluatedItems: unknown;
    let unevaluatedProperties: unknown;
    let additionalProperties: unknown;
    let minimum: unknown;
    let maximum: unknown;
    let exclusiveMinimum: unknown;
    let exclusiveMaximum: unknown;
    let hasConst = false;
    let ifValue: unknown;
    let thenValue: unknown;
    let elseValue: unknown;
    let refs = false;
    for (const key in raw) {
      const value = raw[key];
      switch (key) {
        case "type":
          type = value;
          break;
        case "enum":
          if (!Array.isArray(value)) break;
          node.enumKeys = new Set(value.map(valueKey));
          node.values = value;
          node.valueSource = "enum";
          asserts = true;
          break;
        case "const":
          hasConst = true;
          node.constKey = valueKey(value);
          asserts = true;
          break;
        case "minimum":
          minimum = value;
          break;
        case "maximum":
          maximum = value;
          break;
        case "exclusiveMinimum":
          exclusiveMinimum = value;
          break;
        case "exclusiveMaximum":
          exclusiveMaximum = value;
          break;
        case "multipleOf":
          if (typeof value === "number" && value > 0) node.multipleOf = number(value);
          break;
        case "minLength":
          node.minLength = number(value) ?? 0;
          break;
        case "maxLength":
          node.maxLength = number(value) ?? Number.POSITIVE_INFINITY;
          break;
        case "pattern":
          if (typeof value === "string" && !UNIVERSAL_PATTERNS.has(value)) {
            node.pattern = value;
            node.patternRe = compilePattern(value);
            asserts = true;
          }
          break;
        case "format":
          if (typeof value === "string") {
            node.format = value;
            asserts = true;
          }
          break;
        case "items":
          items = value;
          break;
        case "prefixItems":
          prefixItems = value;
          break;
        case "additionalItems":
          additionalItems = value;
          break;
        case "unevaluatedItems":
          unevaluatedItems = value;
          break;
        case "minItems":
          node.minItems = number(value) ?? 0;
          break;
        case "maxItems":
          node.maxItems = number(value) ?? Number.POSITIVE_INFINITY;
          break;
        case "uniqueItems":
          node.uniqueItems = value === true;
          asserts ||= node.uniqueItems;
          break;
        case "contains":
          node.contains = one(value, key);
          break;
        case "minContains":
          node.minContains = number(value) ?? 1;
          break;
        case "maxContains":
          node.maxContains = number(value) ?? Number.POSITIVE_INFINITY;
          break;
        case "properties": {
          if (!isObject(value)) break;
          const properties = new Map<string, Node>();
          for (const name in value) properties.set(name, sub(value[name], `properties/${escapeToken(name)}`));
          node.properties = properties;
          node.declared = properties;
          asserts = true;
          break;
        }
        case "patternProperties": {
          if (!isObject(value)) break;
          const entries: PatternEntry[] = [];
          for (const source in value) {
            const child = sub(value[source], `patternProperties/${escapeToken(source)}`);
            entries.push({ source, re: compilePattern(source), node: child });
          }
          node.patternProperties = entries;
          asserts = true;
          break;
        }
        case "additionalProperties":
          additionalProperties = value;
          break;
        case "unevaluatedProperties":
          unevaluatedProperties = value;
          break;
        case "required":
          if (!Array.isArray(value) || value.length === 0) break;
          node.required = new Set(value.filter((name): name is string => typeof name === "string"));
          asserts = true;
          break;
        case "minProperties":
          node.minProperties = number(value) ?? 0;
          break;
        case "maxProperties":
          node.maxProperties = number(value) ?? Number.POSITIVE_INFINITY;
          break;
        case "propertyNames":
          node.propertyNames = one(value, key);
          break;
        case "dependencies":
        case "dependentRequired":
        case "dependentSchemas":
          if (!isObject(value)) break;
          for (const name in value) {
            const dependency = value[name];
            if (Array.isArray(dependency)) {
              node.dependentRequired ??= new Map();
              const names = dependency.filter((item): item is string => typeof item === "string");
              node.dependentRequired.set(name, [...(node.dependentRequired.get(name) ?? []), ...names]);
              asserts = true;
            } else {
              node.dependentSchemas ??= new Map();
              const child = sub(dependency, `${key}/${escapeToken(name)}`);
              node.dependentSchemas.set(name, child);
              asserts = true;
            }
          }
          break;
        case "allOf":
          node.allOf = subs(value, key) ?? [];
          break;
        case "anyOf":
          node.anyOf = subs(value, key);
          break;
        case "oneOf":
          node.oneOf = subs(value, key);
          break;
        case "not":
          node.not = one(value, key);
          break;
        case "if":
          ifValue = value;
          break;
        case "then":
          thenValue = value;
          break;
        case "else":
          elseValue = value;
          break;
        case "$ref":
        case "$recursiveRef":
        case "$dynamicRef":
          refs = true;
          break;
      }
    }

    if (typeof type === "string" || Array.isArray(type)) {
      let bits = 0;
      for (const name of typeof type === "string" ? [type] : type) {
        bits |= typeof name === "string" ? (TYPE_BITS.get(name) ?? 0) : 0;
      }
      node.hasType = true;
      node.types = bits;
      asserts = true;
    }
    if (node.values) node.values = node.values.filter((value) => typeBits(value) & node.types);
    if (hasConst) {
      const value = raw.const;
      const allowed = (!node.enumKeys || node.enumKeys.has(node.constKey!)) && typeBits(value) & node.types;
      node.values = allowed ? [value] : [];
      node.valueSource = "const";
    }

    // Numbers: draft-04 spells exclusive bounds as booleans beside minimum/maximum, draft-06 on as numbers.
    if (typeof minimum === "number") node.lower = { value: minimum, exclusive: exclusiveMinimum === true };
    if (typeof exclusiveMinimum === "number") {
      node.lower = tighterLower(node.lower, { value: exclusiveMinimum, exclusive: true });
    }
    if (typeof maximum === "number") node.upper = { value: maximum, exclusive: exclusiveMaximum === true };
    if (typeof exclusiveMaximum === "number") {
      node.upper = tighterUpper(node.upper, { value: exclusiveMaximum, exclusive: true });
    }
    if (node.lower || node.upper) asserts = true;

    // Arrays: one shape for draft-07 tuples (items array + additionalItems) and 2020-12 (prefixItems + items).
    if (Array.isArray(prefixItems)) {
      node.prefix = subs(prefixItems, "prefixItems")!;
      if (items !== undefined) node.rest = one(items, "items");
    } else if (Array.isArray(items)) {
      node.prefix = subs(items, "items")!;
      if (additionalItems !== undefined) node.rest = one(additionalItems, "additionalItems");
    } else if (items !== undefined) {
      node.rest = one(items, "items");
    }

    if (additionalProperties !== undefined)
      node.additional = one(additionalProperties, "additionalProperties");
    if (ifValue !== undefined) {
      node.ifNode = one(ifValue, "if");
      if (thenValue !== undefined) node.thenNode = one(thenValue, "then");
      if (elseValue !== undefined) node.elseNode = one(elseValue, "else");
    }

    if (unevaluatedItems !== undefined) {
      const unevaluated = one(unevaluatedItems, "unevaluatedItems");
      // With nothing else able to evaluate items, unevaluatedItems is the schema of every further item.
      if (items === undefined || (Array.isArray(items) && additionalItems === undefined)) {
        const applicators = node.allOf.length > 0 || node.anyOf || node.oneOf || node.ifNode || refs;
        if (!applicators && !node.contains) node.rest = unevaluated;
        else node.looseUnevaluatedItems = unevaluated;
      }
    }
    if (unevaluatedProperties !== undefined && additionalProperties === undefined) {
      node.unevaluated = one(unevaluatedProperties, "unevaluatedProperties");
      this.withUnevaluated.push(node);
    }

    node.refFree = refFree;
    return asserts;
  }
}

function unresolvedNode(ref: string, path: string): Node {
  const node = new Node(nextNodeId++, path, { $ref: ref });
  node.unresolved = ref;
  return node;
}

/** Names and patterns evaluated by `node` and the subschemas it applies in place, for unevaluatedProperties. */
function collectEvaluated(node: Node, names: Set<string>, patterns: RegExp[], seen: Set<Node>): void {
  node = deref(node);
  if (seen.has(node)) return;
  seen.add(node);
  if (node.properties) for (const name of node.properties.keys()) names.add(name);
  for (const entry of node.patternProperties) if (entry.re) patterns.push(entry.re);
  if (node.additional) patterns.push(/(?:)/);
  const inPlace = [
    ...node.members,
    ...(node.anyOf ?? []),
    ...(node.oneOf ?? []),
    ...(node.thenNode ? [node.thenNode] : []),
    ...(node.elseNode ? [node.elseNode] : []),
    ...(node.dependentSchemas?.values() ?? []),
  ];
  for (const member of inPlace) collectEvaluated(member, names, patterns, seen);
}

const TRUE_NODE = new Node(0, "#", true);
TRUE_NODE.bool = true;
TRUE_NODE.trivial = true;

function deref(node: Node): Node {
  let current = node;
  for (let hops = 0; current.alias; hops++) {
    // A cycle of bare references constrains nothing.
    if (hops > 64) return TRUE_NODE;
    current = current.alias;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------
// Values: the writer's enum/const (or boolean/null type) is a finite set, checked value by value.

function stringLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

function isMultiple(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

function belowLower(value: number, bound: Bound | null): boolean {
  return !!bound && (bound.exclusive ? value <= bound.value : value < bound.value);
}

function aboveUpper(value: number, bound: Bound | null): boolean {
  return !!bound && (bound.exclusive ? value >= bound.value : value > bound.value);
}

/** The first of `node`'s own keywords (not its applicators) that rejects `value`, or null. */
function rejectingKeyword(node: Node, value: unknown, depth: number): string | null {
  const bits = typeBits(value);
  if (node.hasType && !(node.types & bits)) return "type";
  if (node.constKey !== null || node.enumKeys) {
    const key = valueKey(value);
    if (node.constKey !== null && key !== node.constKey) return "const";
    if (node.enumKeys && !node.enumKeys.has(key)) return "enum";
  }
  if (bits & NUMBERS) {
    const number = value as number;
    if (belowLower(number, node.lower)) return "minimum";
    if (aboveUpper(number, node.upper)) return "maximum";
    if (node.multipleOf !== null && !isMultiple(number, node.multipleOf)) return "multipleOf";
  } else if (bits === STR) {
    const text = value as string;
    if (node.minLength > 0 || node.maxLength < Number.POSITIVE_INFINITY) {
      const length = stringLength(text);
      if (length < node.minLength) return "minLength";
      if (length > node.maxLength) return "maxLength";
    }
    if (node.patternRe && !node.patternRe.test(text)) return "pattern";
  } else if (bits === ARR) {
    const items = value as unknown[];
    if (items.length < node.minItems) return "minItems";
    if (items.length > node.maxItems) return "maxItems";
    if (node.uniqueItems && new Set(items.map(valueKey)).size < items.length) {
      return "uniqueItems";
    }
    for (let i = 0; i < items.length; i++) {
      const schema = node.prefix[i] ?? node.rest;
      if (schema && !accepts(schema, items[i], depth + 1)) return "items";
    }
    if (node.contains) {
      let matches = 0;
      for (const item of items) if (accepts(node.contains, item, depth + 1)) matches++;
      if (matches < node.minContains || matches > node.maxContains) return "contains";
    }
  } else if (bits === OBJ) {
    const object = value as Json;
    for (const name of node.required) if (!Object.hasOwn(object, name)) return "required";
    const names = Object.keys(object);
    if (names.length < node.minProperties) return "minProperties";
    if (names.length > node.maxProperties) return "maxProperties";
    for (const name of names) {
      if (node.propertyNames && !accepts(node.propertyNames, name, depth + 1)) return "propertyNames";
      let matched = false;
      const property = node.properties?.get(name);
      if (property) {
        matched = true;
        if (!accepts(property, object[name], depth + 1)) return "properties";
      }
      for (const entry of node.patternProperties) {
        if (!entry.re?.test(name)) continue;
        matched = true;
        if (!accepts(entry.node, object[name], depth + 1)) return "properties";
      }
      if (matched) continue;
      if (node.additional) {
        if (!accepts(node.additional, object[name], depth + 1)) return "additionalProperties";
      } else if (node.unevaluated && !isEvaluated(node, name)) {
        if (!accepts(node.unevaluated, object[name], depth + 1)) return "additionalProperties";
      }
    }
    for (const [name, needed] of node.dependentRequired ?? []) {
      if (Object.hasOwn(object, name) && needed.some((other) => !Object.hasOwn(object, other))) {
        return "dependencies";
      }
    }
    for (const [name, schema] of node.dependentSchemas ?? []) {
      if (Object.hasOwn(object, name) && !accepts(schema, value, depth + 1)) return "dependencies";
    }
  }
  return null;
}

function isEvaluated(node: Node, name: string): boolean {
  return !!node.evaluated?.has(name) || node.evaluatedPatterns.some((re) => re.test(name));
}

/** A small validator: whether `value` is valid under `node`. Unresolvable references accept. */
function accepts(node: Node, value: unknown, depth = 0): boolean {
  node = deref(node);
  if (node.bool !== null) return node.bool;
  if (node.trivial || node.unresolved !== null || depth > MAX_VALUE_DEPTH) return true;
  if (rejectingKeyword(node, value, depth) !== null) return false;
  return appliesInPlace(node, value, depth);
}

function appliesInPlace(node: Node, value: unknown, depth: number): boolean {
  for (const member of node.members) if (!accepts(member, value, depth + 1)) return false;
  if (node.anyOf && !node.anyOf.some((branch) => accepts(branch, value, depth + 1))) return false;
  if (node.oneOf && node.oneOf.filter((branch) => accepts(branch, value, depth + 1)).length !== 1)
    return false;
  if (node.not && accepts(node.not, value, depth + 1)) return false;
  return conditionHolds(node, value, depth);
}

function conditionHolds(node: Node, value: unknown, depth: number): boolean {
  if (!node.ifNode) return true;
  const branch = accepts(node.ifNode, value, depth + 1) ? node.thenNode : node.elseNode;
  return !branch || accepts(branch, value, depth + 1);
}

// ---------------------------------------------------------------------------------------------------
// Writer views: what a conjunction of writer subschemas guarantees, merged keyword by keyword.

interface BranchInfo {
  keyword: "anyOf" | "oneOf";
  index: number;
}

/** One way a writer value can look: the subschemas it satisfies together (anyOf/oneOf split apart). */
interface Alt {
  nodes: Node[];
  key: string;
  branch: BranchInfo | null;
}

interface Part {
  nodes: Node[];
  branch: BranchInfo | null;
}

interface View {
  empty: boolean;
  types: number;
  values: unknown[] | null;
  valueSource: ValueSource | null;
  lower: Bound | null;
  upper: Bound | null;
  multipleOfs: number[];
  minLength: number;
  maxLength: number;
  patterns: string[];
  formats: string[];
  minItems: number;
  maxItems: number;
  unique: boolean;
  minProperties: number;
  maxProperties: number;
  required: ReadonlySet<string>;
  declared: Names;
}

function buildView(nodes: readonly Node[]): View {
  const view: View = {
    empty: false,
    types: ALL,
    values: null,
    valueSource: null,
    lower: null,
    upper: null,
    multipleOfs: [],
    minLength: 0,
    maxLength: Number.POSITIVE_INFINITY,
    patterns: [],
    formats: [],
    minItems: 0,
    maxItems: Number.POSITIVE_INFINITY,
    unique: false,
    minProperties: 0,
    maxProperties: Number.POSITIVE_INFINITY,
    required: EMPTY_SET,
    declared: EMPTY_SET,
  };
  let required: Set<string> | null = null;
  let declared: Set<string> | null = null;
  let finite: Node | null = null;
  for (const node of nodes) {
    if (node.bool === false) view.empty = true;
    if (node.trivial || node.unresolved !== null) continue;
    view.types &= node.types;
    if (node.values && !finite) finite = node;
    view.lower = tighterLower(view.lower, node.lower);
    view.upper = tighterUpper(view.upper, node.upper);
    if (node.multipleOf !== null) view.multipleOfs.push(node.multipleOf);
    view.minLength = Math.max(view.minLength, node.minLength);
    view.maxLength = Math.min(view.maxLength, node.maxLength);
    if (node.pattern) view.patterns.push(node.pattern);
    if (node.format) view.formats.push(node.format);
    view.minItems = Math.max(view.minItems, node.minItems);
    view.maxItems = Math.min(view.maxItems, node.maxItems);
    view.unique ||= node.uniqueItems;
    view.minProperties = Math.max(view.minProperties, node.minProperties);
    view.maxProperties = Math.min(view.maxProperties, node.maxProperties);
    // One node's sets are shared as they are; only a real conjunction pays for a union.
    if (node.required.size > 0) {
      if (view.required === EMPTY_SET) view.required = node.required;
      else {
        required ??= new Set(view.required);
        for (const name of node.required) required.add(name);
        view.required = required;
      }
    }
    if (node.declared.size > 0) {
      if (view.declared === EMPTY_SET) view.declared = node.declared;
      else {
        declared ??= new Set(view.declared.keys());
        for (const name of node.declared.keys()) declared.add(name);
        view.declared = declared;
      }
    }
  }
  if (finite) {
    view.values = finite.values!.filter(
      (value) => typeBits(value) & view.types && nodes.every((node) => ownAccepts(node, value)),
    );
    view.valueSource = finite.valueSource;
  } else if (view.types !== 0 && (view.types & ~(NULL | BOOL)) === 0) {
    // Only booleans and null: few enough values to check one by one.
    view.values = [...(view.types & NULL ? [null] : []), ...(view.types & BOOL ? [true, false] : [])];
    view.valueSource = "type";
  }
  if (view.values) {
    view.types = 0;
    for (const value of view.values) view.types |= typeBits(value);
  }
  if (view.types === 0) view.empty = true;
  return view;
}

function ownAccepts(node: Node, value: unknown): boolean {
  if (node.bool !== null) return node.bool;
  if (node.trivial || node.unresolved !== null) return true;
  return rejectingKeyword(node, value, 0) === null;
}

// Synthetic writer constraints restricting a view to one JSON type, for matching reader union branches.
const TYPE_GROUPS = [NULL, BOOL, OBJ, ARR, NUMBERS, STR];
const TYPE_NODES = new Map<number, Node>();
function typeNode(bits: number): Node {
  let node = TYPE_NODES.get(bits);
  if (!node) {
    node = new Node(-bits, "#", { type: typeNames(bits) });
    node.hasType = true;
    node.types = bits;
    TYPE_NODES.set(bits, node);
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------
// Messages

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function propertyOf(path: string): string | null {
  const match = /\/properties\/((?:[^/~]|~[01])*)$/.exec(path);
  return match ? unescapeToken(match[1]!) : null;
}

/** How a message names the place: `property "email"`, `property "zip" (at #/properties/a/properties/zip)`. */
function place(path: string): string {
  if (path === "#" || path.endsWith("#"))
    return path === "#" ? "the root" : `the root of ${path.slice(0, -1)}`;
  const property = propertyOf(path);
  if (property === null) return `the subschema at ${path}`;
  const simple = path === `#/properties/${escapeToken(property)}`;
  return simple
    ? `property ${JSON.stringify(property)}`
    : `property ${JSON.stringify(property)} (at ${path})`;
}

function typeNames(bits: number): string {
  const names: string[] = [];
  if (bits & NULL) names.push("null");
  if (bits & BOOL) names.push("boolean");
  if (bits & OBJ) names.push("object");
  if (bits & ARR) names.push("array");
  if ((bits & NUMBERS) === NUMBERS) names.push("number");
  else if (bits & INT) names.push("integer");
  else if (bits & NUM) names.push("non-integer numbers");
  if (bits & STR) names.push("string");
  return list(names, "and");
}

function list(items: readonly string[], conjunction: string): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} ${conjunction} ${items.at(-1)}`;
}

function valueList(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((value) => JSON.stringify(value));
  return values.length > 5 ? `${shown.join(", ")} and ${values.length - 5} more` : list(shown, "and");
}

function lowerText(bound: Bound | null): string {
  if (!bound) return "no lower bound";
  return `${bound.exclusive ? "greater than" : "at least"} ${bound.value}`;
}

function upperText(bound: Bound | null): string {
  if (!bound) return "no upper bound";
  return `${bound.exclusive ? "less than" : "at most"} ${bound.value}`;
}

const MAJOR = "or give producers a new major version";

// Formats whose values include every value of the listed ones.
const WIDER_FORMATS: ReadonlyMap<string, readonly string[]> = new Map([
  ["uri-reference", ["uri"]],
  ["iri", ["uri"]],
  ["iri-reference", ["uri", "iri", "uri-reference"]],
  ["idn-email", ["email"]],
  ["idn-hostname", ["hostname"]],
]);

function formatCovers(reader: string, writer: string): boolean {
  return reader === writer || (WIDER_FORMATS.get(reader)?.includes(writer) ?? false);
}

/** Literal text a pattern requires at the start, when it is anchored with `^`. */
function literalPrefix(pattern: string): string | null {
  if (!pattern.startsWith("^")) return null;
  const match = /^[^\\^$.|?*+()[\]{}]*/.exec(pattern.slice(1));
  const prefix = match?.[0] ?? "";
  // A quantifier after the last literal character makes that character optional.
  const next = pattern.charAt(1 + prefix.length);
  return next === "?" || next === "*" || next === "{" ? prefix.slice(0, -1) : prefix;
}

/** True only when no string can match both patterns (different anchored literal prefixes). */
function provablyDisjoint(a: string, b: string): boolean {
  const pa = literalPrefix(a);
  const pb = literalPrefix(b);
  if (pa === null || pb === null) return false;
  return !pa.startsWith(pb) && !pb.startsWith(pa);
}

// ---------------------------------------------------------------------------------------------------
// The comparison

interface Result {
  own: Violation[];
  children: Result[];
  ok: boolean;
  done: boolean;
}

const OK: Result = { own: [], children: [], ok: true, done: true };

// Rules by which a union branch tells its values apart from another branch's rather than narrowing them.
const DISCRIMINATING = new Set([
  "type_narrowed",
  "const_changed",
  "const_added",
  "enum_value_removed",
  "enum_added",
]);

const RULE_BY_KEYWORD: Readonly<Record<string, string>> = {
  type: "type_narrowed",
  minimum: "minimum_increased",
  maximum: "maximum_decreased",
  multipleOf: "multiple_of_changed",
  minLength: "min_length_increased",
  maxLength: "max_length_decreased",
  pattern: "pattern_changed",
  minItems: "min_items_increased",
  maxItems: "max_items_decreased",
  uniqueItems: "unique_items_added",
  contains: "contains_narrowed",
  required: "required_property_added",
  minProperties: "min_properties_increased",
  maxProperties: "max_properties_decreased",
  propertyNames: "property_names_narrowed",
  dependencies: "dependency_added",
};

class Comparison {
  private readonly memo = new Map<string, Result>();
  private readonly expanded = new Map<number, Part[]>();
  private readonly singleAlts = new Map<number, Alt[]>();
  private readonly views = new Map<string, View>();
  private readonly reader: string;
  private readonly writer: string;

  constructor(names: SchemaNames) {
    this.reader = names.reader;
    this.writer = names.writer;
  }

  violations(root: Result): Violation[] {
    const out: Violation[] = [];
    const seenResults = new Set<Result>();
    const seenViolations = new Set<string>();
    const stack = [root];
    while (stack.length > 0) {
      const result = stack.pop()!;
      if (seenResults.has(result)) continue;
      seenResults.add(result);
      for (const violation of result.own) {
        const key = `${violation.rule}\u0000${violation.path}\u0000${violation.message}`;
        if (seenViolations.has(key)) continue;
        seenViolations.add(key);
        out.push(violation);
      }
      for (let i = result.children.length - 1; i >= 0; i--) stack.push(result.children[i]!);
    }
    return out;
  }

  /** Whether `reader` accepts everything the writer conjunction `nodes` (with `base`) allows. */
  compare(reader: Node, nodes: readonly Node[], base: Alt | null = null): Result {
    reader = deref(reader);
    if (reader.trivial) return OK;
    if (!base && nodes.length === 1) {
      // Most of a schema is unchanged from one version to the next: equal meaning needs no walk.
      const writer = deref(nodes[0]!);
      if (writer.refFree && reader.refFree && sameSchema(reader.raw, writer.raw)) return OK;
    }
    const alts = this.alternatives(nodes, base).filter((alt) => !this.view(alt).empty);
    if (alts.length === 0) return OK;
    if (alts.length === 1) return this.compareAlt(reader, alts[0]!);
    const key = `w${reader.id}|${alts.map((alt) => alt.key).join(";")}`;
    const known = this.memo.get(key);
    if (known) return known;
    const result: Result = { own: [], children: [], ok: true, done: false };
    this.memo.set(key, result);
    for (const alt of alts) result.children.push(this.compareAlt(reader, alt));
    return this.finish(result);
  }

  private finish(result: Result): Result {
    result.done = true;
    // Pairs still in progress (recursive schemas) count as compatible: the greatest fixed point.
    result.ok = result.own.length === 0 && result.children.every((child) => child.ok);
    return result;
  }

  private compareAlt(reader: Node, alt: Alt): Result {
    reader = deref(reader);
    if (reader.trivial) return OK;
    const key = `a${reader.id}|${alt.key}`;
    const known = this.memo.get(key);
    if (known) return known;
    const result: Result = { own: [], children: [], ok: true, done: false };
    this.memo.set(key, result);
    this.check(reader, alt, this.view(alt), result);
    return this.finish(result);
  }

  private view(alt: Alt): View {
    let view = this.views.get(alt.key);
    if (!view) {
      view = buildView(alt.nodes);
      this.views.set(alt.key, view);
    }
    return view;
  }

  private alternatives(nodes: readonly Node[], base: Alt | null): Alt[] {
    if (!base && nodes.length === 1) {
      const node = deref(nodes[0]!);
      let alts = this.singleAlts.get(node.id);
      if (!alts) {
        alts = this.expand(node, new Set()).map((part) => makeAlt(part));
        this.singleAlts.set(node.id, alts);
      }
      return alts;
    }
    let parts: Part[] = [base ? { nodes: base.nodes, branch: base.branch } : { nodes: [], branch: null }];
    for (const node of nodes) {
      let more = this.expand(node, new Set());
      if (parts.length * more.length > MAX_ALTERNATIVES) more = [this.unsplit(node)];
      parts = product(parts, more);
    }
    return parts.map((part) => makeAlt(part));
  }

  /** The node and the subschemas applied with it, without splitting unions: a superset of each branch. */
  private unsplit(node: Node): Part {
    const nodes: Node[] = [];
    const visit = (current: Node) => {
      current = deref(current);
      if (current.trivial || nodes.includes(current)) return;
      nodes.push(current);
      for (const member of current.members) visit(member);
    };
    visit(node);
    return { nodes, branch: null };
  }

  private expand(node: Node, stack: Set<Node>): Part[] {
    node = deref(node);
    const known = this.expanded.get(node.id);
    if (known) return known;
    if (node.trivial || stack.has(node)) return [{ nodes: [], branch: null }];
    if (node.members.length === 0 && !node.anyOf && !node.oneOf) {
      const parts = [{ nodes: [node], branch: null }];
      this.expanded.set(node.id, parts);
      return parts;
    }
    stack.add(node);
    let parts: Part[] = [{ nodes: [node], branch: null }];
    for (const member of node.members) {
      const more = this.expand(member, stack);
      parts =
        parts.length * more.length > MAX_ALTERNATIVES
          ? product(parts, [this.unsplit(member)])
          : product(parts, more);
    }
    for (const keyword of ["anyOf", "oneOf"] as const) {
      const branches = node[keyword];
      if (!branches) continue;
      const options: Part[] = [];
      branches.forEach((branch, index) => {
        for (const part of this.expand(branch, stack)) {
          options.push({ nodes: part.nodes, branch: part.branch ?? { keyword, index } });
        }
      });
      if (parts.length * options.length <= MAX_ALTERNATIVES) parts = product(parts, options);
    }
    stack.delete(node);
    if (stack.size === 0) this.expanded.set(node.id, parts);
    return parts;
  }

  private violation(result: Result, rule: string, path: string, message: string): void {
    result.own.push({ path, rule, message });
  }

  /** Compares a reader subschema at a child position, naming the rule for a reader that is plain `false`. */
  private child(
    result: Result,
    reader: Node,
    writers: readonly Node[],
    falseRule: string,
    falsePath: string,
    falseMessage: () => string,
  ): void {
    const target = deref(reader);
    if (target.trivial) return;
    if (target.bool === false) {
      const sends = this.alternatives(writers, null).some((alt) => !this.view(alt).empty);
      if (sends) this.violation(result, falseRule, falsePath, falseMessage());
      return;
    }
    result.children.push(this.compare(target, writers));
  }

  private check(reader: Node, alt: Alt, view: View, result: Result): void {
    if (view.empty) return;
    if (reader.bool === false) {
      this.violation(
        result,
        "false_schema",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} is false and accepts nothing, but ${this.writer} allows values there, so documents written with it that have one would be rejected: accept those values again, ${MAJOR}.`,
      );
      return;
    }
    if (reader.unresolved !== null) {
      const same = alt.nodes.some((node) => node.unresolved === reader.unresolved);
      if (!same) {
        this.violation(
          result,
          "reference_unresolved",
          reader.path,
          `In ${this.reader}, ${place(reader.path)} refers to ${JSON.stringify(reader.unresolved)}, which is not among the schema's references, so it cannot be compared with ${this.writer}: add the referenced schema as a reference, or refer to it as ${this.writer} does.`,
        );
      }
      return;
    }
    // What an unresolvable writer reference allows is unknown; a reader carrying the same one is judged by it.
    const unknown = alt.nodes.find(
      (node) =>
        node.unresolved !== null &&
        !reader.members.some((member) => deref(member).unresolved === node.unresolved),
    );
    if (unknown) {
      this.violation(
        result,
        "reference_unresolved",
        reader.path,
        `${capitalize(this.writer)} refers to ${JSON.stringify(unknown.unresolved)} where ${this.reader} has ${place(reader.path)}, and that schema is not among its references, so what it allows cannot be compared: add the referenced schema as a reference, or refer to it the same way on both sides.`,
      );
      return;
    }
    if (view.values) this.checkValues(reader, view, result);
    else this.checkKeywords(reader, alt, view, result);

    for (const member of reader.members) result.children.push(this.compareAlt(member, alt));
    if (reader.anyOf) this.checkUnion(reader, "anyOf", reader.anyOf, alt, view, result);
    if (reader.oneOf) this.checkUnion(reader, "oneOf", reader.oneOf, alt, view, result);
    if (reader.not) this.checkNot(reader, reader.not, alt, view, result);
    if (reader.ifNode && (reader.thenNode || reader.elseNode))
      this.checkConditional(reader, alt, view, result);
  }

  // -- finite writers ---------------------------------------------------------------------------------

  private checkValues(reader: Node, view: View, result: Result): void {
    const rejected = new Map<string, { keyword: string; values: unknown[] }>();
    for (const value of view.values!) {
      const keyword = rejectingKeyword(reader, value, 0);
      if (keyword === null) continue;
      const rule = this.valueRule(keyword, view.valueSource);
      const entry = rejected.get(rule) ?? { keyword, values: [] };
      entry.values.push(value);
      rejected.set(rule, entry);
    }
    for (const [rule, { keyword, values }] of rejected) {
      this.violation(result, rule, reader.path, this.valueMessage(rule, keyword, reader, values));
    }
    if (
      reader.format &&
      view.types & STR &&
      !view.formats.some((format) => formatCovers(reader.format!, format))
    ) {
      this.formatViolation(reader, view, result);
    }
  }

  private valueRule(keyword: string, source: ValueSource | null): string {
    const writerEnumerates = source === "enum" || source === "const";
    if (keyword === "enum") return writerEnumerates ? "enum_value_removed" : "enum_added";
    if (keyword === "const") return writerEnumerates ? "const_changed" : "const_added";
    const rule = RULE_BY_KEYWORD[keyword];
    if (rule) return rule;
    // Values rejected deep inside (an object's property, an array's item): the enumerated value is gone.
    return source === "const" ? "const_changed" : source === "enum" ? "enum_value_removed" : "type_narrowed";
  }

  private valueMessage(rule: string, keyword: string, reader: Node, values: unknown[]): string {
    const them = values.length === 1 ? "it" : "them";
    const shown = valueList(values);
    switch (rule) {
      case "enum_value_removed":
        return keyword === "enum"
          ? `In ${this.reader}, the enum of ${place(reader.path)} no longer allows ${shown}, which ${this.writer} allows, so documents written with it carrying ${them} would be rejected: add ${them} back to the enum, ${MAJOR}.`
          : `In ${this.reader}, ${place(reader.path)} rejects ${shown} (by its ${keyword}), which the enum of ${this.writer} allows, so documents written with it carrying ${them} would be rejected: accept ${them} again, ${MAJOR}.`;
      case "const_changed":
        return `In ${this.reader}, ${place(reader.path)} rejects ${shown} (by its ${keyword}), which ${this.writer} allows, so documents written with it carrying ${them} would be rejected: restore the previous value, ${MAJOR}.`;
      case "enum_added":
        return `In ${this.reader}, ${place(reader.path)} has an enum that leaves out ${shown}, which ${this.writer} allows, so documents written with it carrying ${them} would be rejected: add ${them} to the enum, ${MAJOR}.`;
      case "const_added":
        return `In ${this.reader}, ${place(reader.path)} has a const that rejects ${shown}, which ${this.writer} allows, so documents written with it carrying ${them} would be rejected: drop the const, ${MAJOR}.`;
      default:
        return `In ${this.reader}, ${place(reader.path)} rejects ${shown} by its ${keyword}, although ${this.writer} allows ${them}, so documents written with it carrying ${them} would be rejected: relax the ${keyword}, ${MAJOR}.`;
    }
  }

  // -- keyword by keyword -----------------------------------------------------------------------------

  private checkKeywords(reader: Node, alt: Alt, view: View, result: Result): void {
    const missing = reader.hasType ? view.types & ~reader.types : 0;
    if (missing) {
      this.violation(
        result,
        "type_narrowed",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} accepts only ${typeNames(reader.types) || "no type"}, but ${this.writer} also allows ${typeNames(missing)}, so such values written with it would be rejected: accept ${typeNames(missing)} again, ${MAJOR}.`,
      );
    }
    if (reader.values) {
      const rule = reader.valueSource === "const" ? "const_added" : "enum_added";
      const what = reader.valueSource === "const" ? "a const" : "an enum";
      this.violation(
        result,
        rule,
        reader.path,
        `In ${this.reader}, ${place(reader.path)} has ${what} where ${this.writer} allows any ${typeNames(view.types)}, so documents written with it holding other values would be rejected: drop the ${reader.valueSource}, ${MAJOR}.`,
      );
    }
    if (view.types & NUMBERS) this.checkNumbers(reader, view, result);
    if (view.types & STR) this.checkStrings(reader, view, result);
    if (view.types & ARR) this.checkArrays(reader, alt, view, result);
    if (view.types & OBJ) this.checkObjects(reader, alt, view, result);
  }

  private checkNumbers(reader: Node, view: View, result: Result): void {
    // Integer-only writers make `exclusiveMinimum: 0` and `minimum: 1` the same bound.
    const integral = (view.types & NUM) === 0;
    const lowerR = integral ? integralLower(reader.lower) : reader.lower;
    const lowerW = integral ? integralLower(view.lower) : view.lower;
    if (
      lowerR &&
      (!lowerW ||
        lowerW.value < lowerR.value ||
        (lowerW.value === lowerR.value && lowerR.exclusive && !lowerW.exclusive))
    ) {
      this.violation(
        result,
        "minimum_increased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} must be ${lowerText(reader.lower)}, but ${this.writer} ${lowerW ? `only requires ${lowerText(view.lower)}` : "has no lower bound"}, so smaller numbers written with it would be rejected: restore the previous lower bound, ${MAJOR}.`,
      );
    }
    const upperR = integral ? integralUpper(reader.upper) : reader.upper;
    const upperW = integral ? integralUpper(view.upper) : view.upper;
    if (
      upperR &&
      (!upperW ||
        upperW.value > upperR.value ||
        (upperW.value === upperR.value && upperR.exclusive && !upperW.exclusive))
    ) {
      this.violation(
        result,
        "maximum_decreased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} must be ${upperText(reader.upper)}, but ${this.writer} ${upperW ? `only requires ${upperText(view.upper)}` : "has no upper bound"}, so larger numbers written with it would be rejected: restore the previous upper bound, ${MAJOR}.`,
      );
    }
    const divisor = reader.multipleOf;
    if (divisor !== null) {
      const covered =
        view.multipleOfs.some((multiple) => isMultiple(multiple, divisor)) ||
        (integral && isMultiple(1, divisor));
      if (!covered) {
        const writerSide =
          view.multipleOfs.length > 0 ? `multiples of ${view.multipleOfs.join(" and ")}` : "any number";
        this.violation(
          result,
          "multiple_of_changed",
          reader.path,
          `In ${this.reader}, ${place(reader.path)} must be a multiple of ${divisor}, but ${this.writer} allows ${writerSide}, so other numbers written with it would be rejected: use a multipleOf that divides the previous one, ${MAJOR}.`,
        );
      }
    }
  }

  private checkStrings(reader: Node, view: View, result: Result): void {
    if (reader.minLength > view.minLength) {
      this.violation(
        result,
        "min_length_increased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} needs at least ${reader.minLength} characters, but ${this.writer} allows ${view.minLength === 0 ? "empty strings" : `as few as ${view.minLength}`}, so shorter strings written with it would be rejected: restore the previous minLength, ${MAJOR}.`,
      );
    }
    if (reader.maxLength < view.maxLength) {
      this.violation(
        result,
        "max_length_decreased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} allows at most ${reader.maxLength} characters, but ${this.writer} ${view.maxLength === Number.POSITIVE_INFINITY ? "has no maximum length" : `allows up to ${view.maxLength}`}, so longer strings written with it would be rejected: restore the previous maxLength, ${MAJOR}.`,
      );
    }
    if (reader.pattern && !view.patterns.includes(reader.pattern)) {
      const writerSide =
        view.patterns.length > 0
          ? `pattern ${list(
              view.patterns.map((p) => JSON.stringify(p)),
              "and",
            )}`
          : "no pattern";
      this.violation(
        result,
        "pattern_changed",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} must match ${JSON.stringify(reader.pattern)}, but ${this.writer} has ${writerSide}, so strings written with it may not match: keep the previous pattern, ${MAJOR}.`,
      );
    }
    if (reader.format && !view.formats.some((format) => formatCovers(reader.format!, format))) {
      this.formatViolation(reader, view, result);
    }
  }

  private formatViolation(reader: Node, view: View, result: Result): void {
    const writerSide =
      view.formats.length > 0
        ? `format ${list(
            view.formats.map((f) => JSON.stringify(f)),
            "and",
          )}`
        : "no format";
    this.violation(
      result,
      "format_changed",
      reader.path,
      `In ${this.reader}, ${place(reader.path)} has format ${JSON.stringify(reader.format)}, but ${this.writer} has ${writerSide}, so strings written with it may not conform: keep the previous format, ${MAJOR}.`,
    );
  }

  private checkArrays(reader: Node, alt: Alt, view: View, result: Result): void {
    let maxItems = view.maxItems;
    for (const node of alt.nodes) {
      if (node.rest && deref(node.rest).bool === false) maxItems = Math.min(maxItems, node.prefix.length);
    }
    if (reader.minItems > view.minItems) {
      this.violation(
        result,
        "min_items_increased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} needs at least ${reader.minItems} items, but ${this.writer} allows as few as ${view.minItems}, so shorter arrays written with it would be rejected: restore the previous minItems, ${MAJOR}.`,
      );
    }
    if (reader.maxItems < maxItems) {
      this.violation(
        result,
        "max_items_decreased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} allows at most ${reader.maxItems} items, but ${this.writer} ${maxItems === Number.POSITIVE_INFINITY ? "allows any number" : `allows up to ${maxItems}`}, so longer arrays written with it would be rejected: restore the previous maxItems, ${MAJOR}.`,
      );
    }
    if (reader.uniqueItems && !view.unique && maxItems > 1) {
      this.violation(
        result,
        "unique_items_added",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} requires unique items, but ${this.writer} allows repeated items, so arrays written with it that repeat an item would be rejected: drop uniqueItems, ${MAJOR}.`,
      );
    }

    const closedMessage = (index: number | null) => () =>
      `In ${this.reader}, ${place(reader.path)} allows no ${index === null ? "further items" : `item at position ${index}`}, but ${this.writer} allows ${index === null ? "them" : "one"}, so longer arrays written with it would be rejected: allow the items again, ${MAJOR}.`;
    let length = reader.prefix.length;
    for (const node of alt.nodes) length = Math.max(length, node.prefix.length);
    let open = true;
    for (let i = 0; i < length && i < maxItems; i++) {
      const writers: Node[] = [];
      for (const node of alt.nodes) {
        const item = node.prefix[i] ?? node.rest;
        if (item) writers.push(item);
      }
      if (writers.some((item) => deref(item).bool === false)) {
        open = false;
        break;
      }
      const item = reader.prefix[i] ?? reader.rest;
      if (item) this.child(result, item, writers, "items_narrowed", item.path, closedMessage(i));
    }
    if (open && maxItems > length && reader.rest) {
      const writers: Node[] = [];
      for (const node of alt.nodes) if (node.rest) writers.push(node.rest);
      if (!writers.some((item) => deref(item).bool === false)) {
        this.child(result, reader.rest, writers, "items_narrowed", reader.rest.path, closedMessage(null));
      }
    }

    if (reader.contains && reader.minContains > 0 && !deref(reader.contains).trivial) {
      const contains = reader.contains;
      const guaranteed =
        alt.nodes.some(
          (node) =>
            node.contains &&
            node.minContains >= reader.minContains &&
            this.compare(contains, [node.contains]).ok,
        ) ||
        (view.minItems >= reader.minContains &&
          alt.nodes.every((node) => node.prefix.length === 0) &&
          this.compare(
            contains,
            alt.nodes.flatMap((node) => (node.rest ? [node.rest] : [])),
          ).ok);
      if (!guaranteed) {
        this.violation(
          result,
          "contains_narrowed",
          reader.path,
          `In ${this.reader}, ${place(reader.path)} must contain ${reader.minContains > 1 ? `at least ${reader.minContains} items` : "an item"} matching its contains schema, which ${this.writer} does not guarantee, so arrays written with it may lack one: drop or relax the contains, ${MAJOR}.`,
        );
      }
    }
    if (reader.contains && reader.maxContains < Number.POSITIVE_INFINITY && maxItems > reader.maxContains) {
      const contains = reader.contains;
      const bounded = alt.nodes.some(
        (node) =>
          node.contains &&
          node.maxContains <= reader.maxContains &&
          this.compare(node.contains, [contains]).ok,
      );
      if (!bounded) {
        this.violation(
          result,
          "contains_narrowed",
          reader.path,
          `In ${this.reader}, ${place(reader.path)} allows at most ${reader.maxContains} items matching its contains schema, which ${this.writer} does not guarantee, so arrays written with it may have more: relax maxContains, ${MAJOR}.`,
        );
      }
    }
    if (reader.looseUnevaluatedItems && !deref(reader.looseUnevaluatedItems).trivial) {
      const same = alt.nodes.some(
        (node) =>
          node.looseUnevaluatedItems &&
          this.compare(reader.looseUnevaluatedItems!, [node.looseUnevaluatedItems]).ok,
      );
      if (!same) {
        this.violation(
          result,
          "items_narrowed",
          reader.looseUnevaluatedItems.path,
          `In ${this.reader}, ${place(reader.path)} constrains unevaluated items in a way this check cannot match against ${this.writer}, so arrays written with it may be rejected: keep unevaluatedItems as it was, ${MAJOR}.`,
        );
      }
    }
  }

  /** The writer subschemas that apply to property `name`, and whether the writer can send it at all. */
  private writerProperty(alt: Alt, view: View, name: string): { nodes: Node[]; sends: boolean } {
    const nodes: Node[] = [];
    let sends = true;
    // `true` constrains nothing: a name only `additionalProperties: true` covers is as open as an absent one.
    const add = (node: Node) => {
      const target = deref(node);
      if (target.trivial) return;
      if (target.bool === false) sends = false;
      nodes.push(node);
    };
    for (const node of alt.nodes) {
      if (node.trivial || node.unresolved !== null) continue;
      let matched = false;
      const property = node.properties?.get(name);
      if (property) {
        add(property);
        matched = true;
      }
      for (const entry of node.patternProperties) {
        if (entry.re?.test(name)) {
          add(entry.node);
          matched = true;
        }
      }
      if (!matched) {
        if (node.additional) add(node.additional);
        else if (node.unevaluated && !view.declared.has(name) && !isEvaluated(node, name))
          add(node.unevaluated);
      }
    }
    return { nodes, sends };
  }

  /** Compares one property either side names; false when the writer never sends it. */
  private checkProperty(reader: Node, alt: Alt, view: View, name: string, result: Result): boolean {
    const writer = this.writerProperty(alt, view, name);
    if (!writer.sends) return false;
    // The open content model choice: a writer that said nothing about this name is taken not to send it.
    if (!view.declared.has(name) && writer.nodes.length === 0) return true;
    const propertyPath = `${reader.path}/properties/${escapeToken(name)}`;
    let matched = false;
    const property = reader.properties?.get(name);
    if (property) {
      matched = true;
      this.child(
        result,
        property,
        writer.nodes,
        "property_forbidden",
        property.path,
        () =>
          `In ${this.reader}, ${place(property.path)} is forbidden (false), but ${this.writer} allows it, so documents written with it that carry the property would be rejected: allow the property again, ${MAJOR}.`,
      );
    }
    for (const entry of reader.patternProperties) {
      if (!entry.re?.test(name)) continue;
      matched = true;
      this.child(
        result,
        entry.node,
        writer.nodes,
        "property_forbidden",
        propertyPath,
        () =>
          `In ${this.reader}, property ${JSON.stringify(name)} matches pattern ${JSON.stringify(entry.source)}, which is forbidden (false), but ${this.writer} allows the property, so documents written with it that carry it would be rejected: allow the property again, ${MAJOR}.`,
      );
    }
    const readerOther = reader.additional ?? reader.unevaluated;
    if (matched || !readerOther) return true;
    if (!reader.additional && isEvaluated(reader, name)) return true;
    this.child(
      result,
      readerOther,
      writer.nodes,
      "property_removed_from_closed_model",
      propertyPath,
      () =>
        `In ${this.reader}, ${place(propertyPath)} is no longer declared and ${place(reader.path)} rejects undeclared properties, but ${this.writer} allows it, so documents written with it that carry the property would be rejected: declare the property again, ${MAJOR}.`,
    );
    return true;
  }

  private checkObjects(reader: Node, alt: Alt, view: View, result: Result): void {
    const propertyPath = (name: string) => `${reader.path}/properties/${escapeToken(name)}`;
    const readerOther = reader.additional ?? reader.unevaluated;

    // Properties either side names: the writer's, then those only the reader declares.
    let sentCount = 0;
    for (const name of view.declared.keys()) {
      if (this.checkProperty(reader, alt, view, name, result)) sentCount++;
    }
    if (reader.properties) {
      for (const name of reader.properties.keys()) {
        if (!view.declared.has(name)) this.checkProperty(reader, alt, view, name, result);
      }
    }

    // Properties neither side names: the writer's additional/unevaluated schema against the reader's.
    const writerOther: Node[] = [];
    let othersSent = true;
    for (const node of alt.nodes) {
      const other = node.additional ?? node.unevaluated;
      if (!other) continue;
      const target = deref(other);
      if (target.bool === false) othersSent = false;
      else if (!target.trivial) writerOther.push(other);
    }
    const writerOpen = writerOther.length === 0;
    if (othersSent && readerOther && !deref(readerOther).trivial) {
      const target = deref(readerOther);
      if (target.bool === false) {
        this.violation(
          result,
          "content_model_closed",
          reader.path,
          `In ${this.reader}, ${place(reader.path)} rejects properties it does not declare, but ${this.writer} allows them, so documents written with it that carry extra properties would be rejected: allow additional properties again, ${MAJOR}.`,
        );
      } else if (writerOpen) {
        this.violation(
          result,
          "additional_properties_narrowed",
          readerOther.path,
          `In ${this.reader}, ${place(reader.path)} constrains the properties it does not declare, but ${this.writer} leaves them open, so documents written with it that carry extra properties may be rejected: leave additional properties unconstrained, ${MAJOR}.`,
        );
      } else {
        result.children.push(this.compare(target, writerOther));
      }
    }
    if (othersSent && !writerOpen) {
      // The writer constrained undeclared names, so new reader patterns must accept what it allowed there.
      for (const entry of reader.patternProperties) {
        this.child(
          result,
          entry.node,
          writerOther,
          "property_forbidden",
          entry.node.path,
          () =>
            `In ${this.reader}, properties matching ${JSON.stringify(entry.source)} are forbidden (false), but ${this.writer} allows additional properties, so documents written with it that carry one would be rejected: allow them again, ${MAJOR}.`,
        );
      }
    }

    // The writer's pattern properties.
    for (const node of alt.nodes) {
      for (const entry of node.patternProperties) {
        if (deref(entry.node).bool === false) continue;
        const same = reader.patternProperties.find((mine) => mine.source === entry.source);
        if (same) {
          this.child(
            result,
            same.node,
            [entry.node],
            "property_forbidden",
            same.node.path,
            () =>
              `In ${this.reader}, properties matching ${JSON.stringify(entry.source)} are forbidden (false), but ${this.writer} allows them, so documents written with it that carry one would be rejected: allow them again, ${MAJOR}.`,
          );
          continue;
        }
        for (const mine of reader.patternProperties) {
          if (provablyDisjoint(mine.source, entry.source)) continue;
          this.child(
            result,
            mine.node,
            [entry.node],
            "property_forbidden",
            mine.node.path,
            () =>
              `In ${this.reader}, properties matching ${JSON.stringify(mine.source)} are forbidden (false), but ${this.writer} allows properties matching ${JSON.stringify(entry.source)}, which may be among them: allow them again, ${MAJOR}.`,
          );
        }
        if (
          readerOther &&
          !(reader.unevaluated && reader.evaluatedPatterns.some((re) => re.source === entry.re?.source))
        ) {
          this.child(
            result,
            readerOther,
            [entry.node],
            "property_removed_from_closed_model",
            reader.path,
            () =>
              `In ${this.reader}, ${place(reader.path)} rejects undeclared properties, but ${this.writer} allows properties matching ${JSON.stringify(entry.source)}, so documents written with it that carry one would be rejected: declare the pattern again, ${MAJOR}.`,
          );
        }
      }
    }

    for (const name of reader.required) {
      if (view.required.has(name)) continue;
      const never = !this.writerProperty(alt, view, name).sends;
      const label = JSON.stringify(name);
      const subject =
        propertyPath(name) === `#/properties/${escapeToken(name)}`
          ? `Property ${label}`
          : `Property ${label} (at ${propertyPath(name)})`;
      this.violation(
        result,
        "required_property_added",
        propertyPath(name),
        never
          ? `${subject} is required by ${this.reader} but ${this.writer} never allows it, so no document written with it has it: make it optional, ${MAJOR}.`
          : `${subject} is required by ${this.reader} but ${this.writer} does not require it, so documents written with it may lack it: make it optional, ${MAJOR}.`,
      );
    }

    const minimum = Math.max(view.minProperties, view.required.size);
    if (reader.minProperties > minimum) {
      this.violation(
        result,
        "min_properties_increased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} needs at least ${reader.minProperties} properties, but ${this.writer} guarantees only ${minimum}, so smaller objects written with it would be rejected: restore the previous minProperties, ${MAJOR}.`,
      );
    }
    let maximum = view.maxProperties;
    const closed = !othersSent && alt.nodes.every((node) => node.patternProperties.length === 0);
    if (closed) maximum = Math.min(maximum, sentCount);
    if (reader.maxProperties < maximum) {
      this.violation(
        result,
        "max_properties_decreased",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} allows at most ${reader.maxProperties} properties, but ${this.writer} ${maximum === Number.POSITIVE_INFINITY ? "allows any number" : `allows up to ${maximum}`}, so larger objects written with it would be rejected: restore the previous maxProperties, ${MAJOR}.`,
      );
    }

    if (reader.propertyNames && !deref(reader.propertyNames).trivial) {
      const namesSchema = reader.propertyNames;
      const rejectedNames = [...view.declared.keys()].filter(
        (name) => this.writerProperty(alt, view, name).sends && !accepts(namesSchema, name),
      );
      const writerNames = alt.nodes.flatMap((node) => (node.propertyNames ? [node.propertyNames] : []));
      let unbounded = false;
      if (writerNames.length > 0) unbounded = !this.compare(namesSchema, [typeNode(STR), ...writerNames]).ok;
      else
        unbounded =
          othersSent && (!writerOpen || alt.nodes.some((node) => node.patternProperties.length > 0));
      if (rejectedNames.length > 0 || unbounded) {
        const detail =
          rejectedNames.length > 0
            ? `rejects ${valueList(rejectedNames)}, which ${this.writer} declares`
            : `rejects names ${this.writer} may use`;
        this.violation(
          result,
          "property_names_narrowed",
          namesSchema.path,
          `In ${this.reader}, the propertyNames of ${place(reader.path)} ${detail}, so documents written with it may be rejected: relax propertyNames, ${MAJOR}.`,
        );
      }
    }

    for (const [name, needed] of reader.dependentRequired ?? []) {
      if (!this.writerProperty(alt, view, name).sends) continue;
      const missingNames = needed.filter(
        (other) =>
          !view.required.has(other) &&
          !alt.nodes.some((node) => node.dependentRequired?.get(name)?.includes(other)),
      );
      if (missingNames.length > 0) {
        this.violation(
          result,
          "dependency_added",
          propertyPath(name),
          `In ${this.reader}, ${place(reader.path)} requires ${valueList(missingNames)} whenever ${JSON.stringify(name)} is present, which ${this.writer} does not guarantee, so documents written with it may be rejected: drop the dependency, ${MAJOR}.`,
        );
      }
    }
    for (const [name, schema] of reader.dependentSchemas ?? []) {
      if (!this.writerProperty(alt, view, name).sends) continue;
      const extra = alt.nodes.flatMap((node) => {
        const own = node.dependentSchemas?.get(name);
        return own ? [own] : [];
      });
      const target = deref(schema);
      if (target.trivial) continue;
      const compared = extra.length > 0 ? this.compare(target, extra, alt) : this.compareAlt(target, alt);
      if (!compared.ok) {
        this.violation(
          result,
          "dependency_added",
          schema.path,
          `In ${this.reader}, ${place(reader.path)} applies a further schema whenever ${JSON.stringify(name)} is present, which ${this.writer} does not guarantee, so documents written with it may be rejected: relax or drop that dependency, ${MAJOR}.`,
        );
      }
    }
  }

  // -- applicators --------------------------------------------------------------------------------------

  private checkUnion(
    reader: Node,
    keyword: "anyOf" | "oneOf",
    branches: readonly Node[],
    alt: Alt,
    view: View,
    result: Result,
  ): void {
    const removedRule = keyword === "anyOf" ? "any_of_branch_removed" : "one_of_branch_removed";
    const fromBranch = alt.branch ? ` (in its ${alt.branch.keyword} branch ${alt.branch.index})` : "";

    if (view.values) {
      const unmatched: unknown[] = [];
      const ambiguous: unknown[] = [];
      for (const value of view.values) {
        const matches = branches.filter((branch) => accepts(branch, value)).length;
        if (matches === 0) unmatched.push(value);
        else if (keyword === "oneOf" && matches > 1) ambiguous.push(value);
      }
      if (unmatched.length > 0) {
        const rule = alt.branch ? removedRule : this.valueRule("", view.valueSource);
        this.violation(
          result,
          rule,
          reader.path,
          `In ${this.reader}, ${place(reader.path)} accepts ${valueList(unmatched)} in none of its ${keyword} branches, but ${this.writer} allows ${unmatched.length === 1 ? "it" : "them"}${fromBranch}, so such documents written with it would be rejected: add a branch that accepts ${unmatched.length === 1 ? "it" : "them"}, ${MAJOR}.`,
        );
      }
      if (ambiguous.length > 0) this.ambiguity(reader, valueList(ambiguous), result);
      return;
    }

    const trials = branches.map((branch) => this.compareAlt(branch, alt));
    const accepted = trials.filter((trial) => trial.ok).length;
    if (keyword === "oneOf" && accepted > 1)
      this.ambiguity(reader, `what ${this.writer} allows${fromBranch}`, result);
    if (accepted > 0) return;

    const groups = TYPE_GROUPS.map((group) => group & view.types).filter((group) => group !== 0);
    const pieces: Array<{ alt: Alt; types: number }> =
      groups.length > 1
        ? groups.map((group) => ({ alt: this.alternatives([typeNode(group)], alt)[0]!, types: group }))
        : [{ alt, types: view.types }];
    for (const piece of pieces) {
      const pieceTrials =
        pieces.length > 1 ? branches.map((branch) => this.compareAlt(branch, piece.alt)) : trials;
      if (pieceTrials.some((trial) => trial.ok)) continue;
      const candidates = branches
        .map((branch, index) => ({ branch: deref(branch), trial: pieceTrials[index]! }))
        .filter(({ branch }) => branch.bool !== false && (!branch.hasType || branch.types & piece.types));
      // The closest branch's own violations say best what to change, unless that branch is another variant
      // altogether: one that rejects the writer's branch only by its type or discriminating values.
      let best: Result | null = null;
      let bestViolations: Violation[] = [];
      for (const { trial } of candidates) {
        const found = this.violations(trial);
        if (!best || found.length < bestViolations.length) {
          best = trial;
          bestViolations = found;
        }
      }
      const otherVariant =
        !!alt.branch && bestViolations.every((violation) => DISCRIMINATING.has(violation.rule));
      if (best && !otherVariant) {
        result.children.push(best);
        continue;
      }
      this.violation(
        result,
        alt.branch ? removedRule : "type_narrowed",
        reader.path,
        `In ${this.reader}, ${place(reader.path)} has no ${keyword} branch accepting the ${typeNames(piece.types)} values ${this.writer} allows${fromBranch}, so such documents written with it would be rejected: add a branch for them, ${MAJOR}.`,
      );
    }
  }

  private ambiguity(reader: Node, what: string, result: Result): void {
    this.violation(
      result,
      "one_of_ambiguous",
      reader.path,
      `In ${this.reader}, ${place(reader.path)} has more than one oneOf branch accepting ${what}, so such documents match several branches and are rejected: make the branches mutually exclusive (or use anyOf), ${MAJOR}.`,
    );
  }

  private checkNot(reader: Node, not: Node, alt: Alt, view: View, result: Result): void {
    const excluded = deref(not);
    if (excluded.bool === false) return;
    let disjoint = false;
    let detail = `values ${this.writer} allows`;
    if (view.values) {
      const hit = view.values.filter((value) => accepts(excluded, value));
      disjoint = hit.length === 0;
      detail = valueList(hit);
    } else if (excluded.trivial) {
      disjoint = false;
    } else if (excluded.hasType && !(excluded.types & view.types)) {
      disjoint = true;
    } else if (excluded.values && excluded.members.length === 0) {
      disjoint = excluded.values.every((value) => !alt.nodes.every((node) => accepts(node, value)));
    }
    if (!disjoint) {
      disjoint = alt.nodes.some((node) => node.not && this.compare(node.not, [excluded]).ok);
    }
    if (!disjoint) {
      this.violation(
        result,
        "not_narrowed",
        not.path,
        `In ${this.reader}, the not of ${place(reader.path)} may exclude ${detail} (this check cannot show otherwise), so documents written with ${this.writer} may be rejected: keep the previous not, ${MAJOR}.`,
      );
    }
  }

  private checkConditional(reader: Node, alt: Alt, view: View, result: Result): void {
    const { ifNode, thenNode, elseNode } = reader;
    let holds: boolean;
    if (view.values) {
      holds = view.values.every((value) => conditionHolds(reader, value, 0));
    } else {
      const branchOk = (branch: Node | null, extra: Node | null) =>
        !branch || (extra ? this.compare(branch, [extra], alt) : this.compareAlt(branch, alt)).ok;
      holds = branchOk(thenNode, null) && branchOk(elseNode, null);
      if (!holds) {
        const ifType = deref(ifNode!);
        if (ifType.hasType && !(ifType.types & view.types) && !ifType.trivial)
          holds = branchOk(elseNode, null);
      }
      if (!holds) {
        for (const node of alt.nodes) {
          if (!node.ifNode || !sameMeaningNode(node.ifNode, ifNode!)) continue;
          if (branchOk(thenNode, node.thenNode) && branchOk(elseNode, node.elseNode)) {
            holds = true;
            break;
          }
        }
      }
    }
    if (!holds) {
      this.violation(
        result,
        "conditional_narrowed",
        reader.path,
        `In ${this.reader}, the if/then/else of ${place(reader.path)} may reject values ${this.writer} allows (this check cannot show otherwise): keep the condition as it was, ${MAJOR}.`,
      );
    }
  }
}

function integralLower(bound: Bound | null): Bound | null {
  if (!bound) return null;
  return { value: bound.exclusive ? Math.floor(bound.value) + 1 : Math.ceil(bound.value), exclusive: false };
}

function integralUpper(bound: Bound | null): Bound | null {
  if (!bound) return null;
  return { value: bound.exclusive ? Math.ceil(bound.value) - 1 : Math.floor(bound.value), exclusive: false };
}

function product(left: readonly Part[], right: readonly Part[]): Part[] {
  if (right.length === 1 && right[0]!.nodes.length === 0) return left as Part[];
  const out: Part[] = [];
  for (const a of left) {
    for (const b of right) out.push({ nodes: [...a.nodes, ...b.nodes], branch: a.branch ?? b.branch });
  }
  return out;
}

function makeAlt(part: Part): Alt {
  if (part.nodes.length === 1) {
    const node = part.nodes[0]!;
    return { nodes: part.nodes, key: String(node.id), branch: part.branch };
  }
  const unique: Node[] = [];
  const seen = new Set<number>();
  for (const node of part.nodes) {
    if (seen.has(node.id) || node.trivial) continue;
    seen.add(node.id);
    unique.push(node);
    if (unique.length >= MAX_CONJUNCTION) break;
  }
  const key = unique
    .map((node) => node.id)
    .sort((a, b) => a - b)
    .join(",");
  return { nodes: unique, key, branch: part.branch };
}

// ---------------------------------------------------------------------------------------------------
// sameMeaning: the two contents with documentation keywords stripped, key order and set order ignored.

const SCHEMA_KEYWORDS = new Set([
  "additionalItems",
  "additionalProperties",
  "contains",
  "not",
  "propertyNames",
  "if",
  "then",
  "else",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
  "items",
]);
const SCHEMA_ARRAY_KEYWORDS = new Set(["allOf", "anyOf", "oneOf", "prefixItems", "items"]);
const SCHEMA_MAP_KEYWORDS = new Set([
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
  "dependencies",
]);
const SET_KEYWORDS = new Set(["required", "enum", "type"]);

function isDocumentation(key: string): boolean {
  return DOC_KEYWORDS.has(key) || key.startsWith("x-");
}

function countKeys(object: Json, skipDocumentation: boolean): number {
  let count = 0;
  for (const key in object) if (!skipDocumentation || !isDocumentation(key)) count++;
  return count;
}

// Allocation-free: the comparisons call this on every pair of subschemas they meet.
function sameSchema(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // `true` and a schema without assertions mean the same.
  if (typeof a === "boolean" || typeof b === "boolean") {
    const other = typeof a === "boolean" ? b : a;
    const flag = typeof a === "boolean" ? a : b;
    return flag === true && isObject(other) && countKeys(other, true) === 0;
  }
  if (!isObject(a) || !isObject(b)) return sameValue(a, b);
  let keys = 0;
  for (const key in a) {
    if (isDocumentation(key)) continue;
    keys++;
    if (!Object.hasOwn(b, key) || !sameKeyword(key, a[key], b[key])) return false;
  }
  return keys === countKeys(b, true);
}

function sameKeyword(key: string, a: unknown, b: unknown): boolean {
  if (SCHEMA_ARRAY_KEYWORDS.has(key) && Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameSchema(a[i], b[i])) return false;
    return true;
  }
  if (SCHEMA_KEYWORDS.has(key) && !Array.isArray(a) && !Array.isArray(b)) return sameSchema(a, b);
  if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(a) && isObject(b)) {
    let names = 0;
    for (const name in a) {
      names++;
      if (!Object.hasOwn(b, name)) return false;
      const same = Array.isArray(a[name]) ? sameSet(a[name], b[name]) : sameSchema(a[name], b[name]);
      if (!same) return false;
    }
    return names === countKeys(b, false);
  }
  if (SET_KEYWORDS.has(key)) return sameSet(a, b);
  return sameValue(a, b);
}

/** JSON equality, object key order aside. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  let keys = 0;
  for (const key in a as Json) {
    keys++;
    if (!Object.hasOwn(b, key) || !sameValue((a as Json)[key], (b as Json)[key])) return false;
  }
  return keys === countKeys(b as Json, false);
}

/** The same values in any order (`type` may be a single name). */
function sameSet(a: unknown, b: unknown): boolean {
  if (typeof a === "string" || typeof b === "string") {
    if (a === b) return true;
    const list = Array.isArray(a) ? a : Array.isArray(b) ? b : null;
    return list !== null && list.length === 1 && list[0] === (typeof a === "string" ? a : b);
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => item === b[i])) {
    return true;
  }
  const listA = Array.isArray(a) ? a : [a];
  const listB = Array.isArray(b) ? b : [b];
  if (listA.length > 32 || listB.length > 32) {
    const setA = new Set(listA.map(valueKey));
    const setB = new Set(listB.map(valueKey));
    return setA.size === setB.size && [...setA].every((item) => setB.has(item));
  }
  const contains = (list: unknown[], value: unknown) => list.some((item) => sameValue(item, value));
  return listA.every((item) => contains(listB, item)) && listB.every((item) => contains(listA, item));
}

function sameMeaningNode(a: Node, b: Node): boolean {
  return sameSchema(deref(a).raw, deref(b).raw);
}

// ---------------------------------------------------------------------------------------------------

const DEFAULT_NAMES: SchemaNames = { reader: "the reader schema", writer: "the writer schema" };

export const jsonSchemaRules: CompatibilityRules<PreparedJsonSchema> = {
  prepare(document: SchemaDocument): PreparedJsonSchema {
    const compiler = new Compiler();
    const references = new Map<string, unknown>();
    const root = compiler.compileDocument(document.content, "#", null);
    for (const reference of document.references ?? []) {
      references.set(reference.name, reference.content);
      compiler.compileDocument(reference.content, `${reference.name}#`, reference.name);
    }
    compiler.finish();
    return { root, content: document.content, references };
  },

  readerViolations(reader, writer, names = DEFAULT_NAMES): Violation[] {
    const comparison = new Comparison(names);
    return comparison.violations(comparison.compare(reader.root, [writer.root]));
  },

  sameMeaning(a, b): boolean {
    if (!sameSchema(a.content, b.content)) return false;
    if (a.references.size !== b.references.size) return false;
    for (const [name, content] of a.references) {
      if (!b.references.has(name) || !sameSchema(content, b.references.get(name))) return false;
    }
    return true;
  },
};

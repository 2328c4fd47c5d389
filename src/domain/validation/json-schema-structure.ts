/**
 * Checks a JSON Schema for the mistakes its meta-schema cannot see but a
 * validator would trip on later: a local `$ref` ("#/...") that points nowhere,
 * and a `pattern` / `patternProperties` key that is not a regular expression.
 *
 * This stands in for `ajv.compile`, which would catch the same mistakes but
 * costs too much on a registry's write path: about 1 ms per small schema, 0.8 s
 * for one with 1,000 properties, a stack overflow from about 3,000, and every
 * compiled function stays in the Ajv instance for good. This walk is linear.
 *
 * Only fragment refs are resolved. A ref to another document is not fetched
 * (the registry does no network I/O to validate) and is accepted, as are
 * plain-name anchors (`#foo`) and `$dynamicRef` / `$recursiveRef`.
 */

export type JsonSchemaDialect = "2020-12" | "2019-09" | "draft-07" | "draft-06";

export interface StructuralProblem {
  /** JSON pointer to the offending keyword. */
  path: string;
  message: string;
}

interface Keywords {
  /** Keywords whose value is one schema. */
  single: readonly string[];
  /** Keywords whose value is an array of schemas. */
  arrays: readonly string[];
  /** Keywords whose value is an object of schemas. */
  maps: readonly string[];
  /** draft-06/07 ignore every sibling of `$ref`. */
  refHidesSiblings: boolean;
}

const DRAFT_06: Keywords = {
  single: ["additionalItems", "additionalProperties", "contains", "not", "propertyNames", "items"],
  arrays: ["allOf", "anyOf", "oneOf", "items"],
  maps: ["properties", "patternProperties", "definitions", "dependencies"],
  refHidesSiblings: true,
};
const DRAFT_07: Keywords = { ...DRAFT_06, single: [...DRAFT_06.single, "if", "then", "else"] };
const DRAFT_2019: Keywords = {
  single: [...DRAFT_07.single, "unevaluatedItems", "unevaluatedProperties", "contentSchema"],
  arrays: DRAFT_07.arrays,
  maps: [...DRAFT_07.maps, "$defs", "dependentSchemas"],
  refHidesSiblings: false,
};
const DRAFT_2020: Keywords = {
  // 2020-12 splits array `items` into `prefixItems` and drops `additionalItems`.
  single: DRAFT_2019.single.filter((k) => k !== "additionalItems"),
  arrays: [...DRAFT_2019.arrays.filter((k) => k !== "items"), "prefixItems"],
  maps: DRAFT_2019.maps,
  refHidesSiblings: false,
};

const KEYWORDS: Record<JsonSchemaDialect, Keywords> = {
  "2020-12": DRAFT_2020,
  "2019-09": DRAFT_2019,
  "draft-07": DRAFT_07,
  "draft-06": DRAFT_06,
};

/** The first structural problem of `schema`, or null. The schema has passed its meta-schema. */
export function findStructuralProblem(schema: unknown, dialect: JsonSchemaDialect): StructuralProblem | null {
  return walk(schema, "", schema, KEYWORDS[dialect]);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(node: unknown, path: string, resource: unknown, keywords: Keywords): StructuralProblem | null {
  if (!isObject(node)) return null;
  // A subschema with its own `$id` is a resource of its own: "#/..." refs inside it resolve against it.
  // In draft-06/07 an `$id` that starts with "#" is a plain-name anchor, not a resource.
  if (path !== "" && typeof node.$id === "string" && !node.$id.startsWith("#")) resource = node;

  if (typeof node.$ref === "string") {
    const problem = checkRef(node.$ref, `${path}/$ref`, resource);
    if (problem) return problem;
    if (keywords.refHidesSiblings) return null;
  }
  if (typeof node.pattern === "string") {
    const problem = checkPattern(node.pattern, `${path}/pattern`);
    if (problem) return problem;
  }
  if (isObject(node.patternProperties)) {
    for (const key of Object.keys(node.patternProperties)) {
      const problem = checkPattern(key, `${path}/patternProperties/${escapeToken(key)}`);
      if (problem) return problem;
    }
  }

  for (const keyword of keywords.single) {
    const value = node[keyword];
    if (isObject(value)) {
      const problem = walk(value, `${path}/${keyword}`, resource, keywords);
      if (problem) return problem;
    }
  }
  for (const keyword of keywords.arrays) {
    const value = node[keyword];
    if (!Array.isArray(value)) continue;
    for (let i = 0; i < value.length; i++) {
      const problem = walk(value[i], `${path}/${keyword}/${i}`, resource, keywords);
      if (problem) return problem;
    }
  }
  for (const keyword of keywords.maps) {
    const value = node[keyword];
    if (!isObject(value)) continue;
    for (const key of Object.keys(value)) {
      const problem = walk(value[key], `${path}/${keyword}/${escapeToken(key)}`, resource, keywords);
      if (problem) return problem;
    }
  }
  return null;
}

export function checkRef(ref: string, path: string, resource: unknown): StructuralProblem | null {
  if (!ref.startsWith("#")) return null;
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return { path, message: `${JSON.stringify(ref)} is not a valid URI fragment` };
  }
  if (fragment === "" || !fragment.startsWith("/")) return null;

  let target: unknown = resource;
  const tokens = fragment.slice(1).split("/").map(unescapeToken);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let next: unknown;
    if (Array.isArray(target)) {
      next = /^(0|[1-9]\d*)$/.test(token) ? target[Number(token)] : undefined;
    } else if (isObject(target) && Object.hasOwn(target, token)) {
      next = target[token];
    }
    if (next === undefined) {
      const at = `#/${tokens.slice(0, i).map(escapeToken).join("/")}`.replace(/\/$/, "");
      return {
        path,
        message: `${JSON.stringify(ref)} does not resolve: ${at} has no ${JSON.stringify(token)}`,
      };
    }
    target = next;
  }
  return null;
}

function checkPattern(pattern: string, path: string): StructuralProblem | null {
  // Valid with the `u` flag (as Ajv compiles patterns) or without it (as
  // ajv-formats and most other validators read them): either is accepted.
  try {
    new RegExp(pattern, "u");
    return null;
  } catch {
    try {
      new RegExp(pattern);
      return null;
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replace(
        /^Invalid regular expression: /,
        "",
      );
      return { path, message: `${JSON.stringify(pattern)} is not a valid regular expression: ${reason}` };
    }
  }
}

function escapeToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

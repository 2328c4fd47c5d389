/**
 * Validation of DATA against a stored schema: the everyday job of an LLM
 * application checking a model's output. `compileDataValidator` compiles a
 * schema once (the caller caches the validator beside the schema); the
 * validator then checks any number of documents, each a parsed JSON value,
 * and reports every problem as a JSON pointer into the document and a
 * sentence.
 *
 * One module per schema type: `json-schema.ts` (ajv), `avro.ts` (avsc,
 * documents in JSON form), `protobuf.ts` (protobufjs, documents in the
 * proto3 JSON mapping). Each explains its choices in its header.
 *
 * Nothing here may be made to run for long by a document: stored patterns
 * run in linear time (`safe-regexp.ts`), and before anything that recurses
 * with the document's nesting sees it, an iterative walk rejects documents
 * nested deeper than `maxDepth`. Everything else is linear in the document's
 * size, which the caller bounds (the HTTP layer limits request bodies).
 */

import type { SchemaDocument } from "../compatibility/types.ts";
import { RegistryError } from "../errors.ts";
import { MAX_CONTENT_DEPTH } from "../limits.ts";
import { SCHEMA_TYPES, type SchemaType } from "../types.ts";
import { compileAvroChecker } from "./avro.ts";
import { DEFAULT_MAX_ERRORS } from "./defaults.ts";
import { compileJsonSchemaChecker } from "./json-schema.ts";
import { compileProtobufChecker } from "./protobuf.ts";

export { MAX_URL_LENGTH } from "./json-schema.ts";
export { RefusedPatternError } from "./safe-regexp.ts";

export interface DataError {
  /** JSON pointer into the document: "" for the root, "/items/0/price". */
  path: string;
  message: string;
}

export interface DataVerdict {
  valid: boolean;
  errors: DataError[];
}

export interface DataValidator {
  /** Checks one document (a parsed JSON value). Never throws for a bad document. Verdicts are read-only. */
  validate(document: unknown): DataVerdict;
}

export interface DataValidationOptions {
  /**
   * Protobuf: the message documents are, by full name (`acme.v1.Order`) or a
   * name relative to the root (`Order`). Default: the first message declared
   * in the schema's file, as Confluent's serializers assume.
   */
  messageName?: string;
  /**
   * Deepest nesting of arrays and objects accepted; deeper documents are
   * invalid. Default MAX_CONTENT_DEPTH (1,000), the limit stored schemas are
   * held to. For JSON Schemas it applies where validation could follow the
   * document down (`$ref`, `$dynamicRef`, `$recursiveRef`, `uniqueItems`):
   * a schema without them only descends as deep as it is written, so there a
   * deeper document cannot take the validator deeper, and the walk (about a
   * quarter of the cost of validating a 2 KB document) is skipped.
   */
  maxDepth?: number;
  /** Most errors reported for one document (the first ones found). Default 100. */
  maxErrors?: number;
}

export { DEFAULT_MAX_ERRORS };

/**
 * What a type module compiles a schema to. `check` returns undefined for a
 * valid document, else at most `maxErrors` errors; it sees only documents
 * within `maxDepth` when `descendsWithDocument` is true.
 */
export interface TypeChecker {
  descendsWithDocument: boolean;
  check(document: unknown): DataError[] | undefined;
}

const NO_ERRORS: DataError[] = Object.freeze([]) as unknown as DataError[];
// Valid verdicts are all alike; sharing one spares an allocation per document.
const VALID: DataVerdict = Object.freeze({ valid: true, errors: NO_ERRORS });

/**
 * Compiles once; the caller caches the validator beside the schema. Throws
 * RegistryError invalid_schema (422) if the schema cannot be compiled (a
 * pattern the linear-time engine cannot run included), invalid_request (400)
 * for bad options.
 */
export function compileDataValidator(
  schemaType: SchemaType,
  schema: SchemaDocument,
  options: DataValidationOptions = {},
): DataValidator {
  const maxDepth = positiveInteger(options.maxDepth, MAX_CONTENT_DEPTH, "maxDepth");
  const maxErrors = positiveInteger(options.maxErrors, DEFAULT_MAX_ERRORS, "maxErrors");
  let checker: TypeChecker;
  switch (schemaType) {
    case "json":
      checker = compileJsonSchemaChecker(schema, maxErrors);
      break;
    case "avro":
      checker = compileAvroChecker(schema, maxErrors);
      break;
    case "protobuf":
      checker = compileProtobufChecker(schema, maxErrors, options.messageName);
      break;
    default:
      throw RegistryError.invalidRequest(
        `schema_type must be one of ${SCHEMA_TYPES.join(", ")} (got ${JSON.stringify(schemaType)})`,
        { field: "schema_type" },
      );
  }

  const tooDeep: DataVerdict = Object.freeze({
    valid: false,
    errors: Object.freeze([
      Object.freeze({ path: "", message: `is nested more than ${maxDepth} levels deep (the limit)` }),
    ]) as unknown as DataError[],
  });
  const guarded = checker.descendsWithDocument;
  return {
    validate(document: unknown): DataVerdict {
      if (guarded && deeperThan(document, maxDepth)) return tooDeep;
      const errors = checker.check(document);
      return errors === undefined || errors.length === 0 ? VALID : { valid: false, errors };
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw RegistryError.invalidRequest(`${name} must be a positive integer (got ${String(value)})`, {
      field: name,
    });
  }
  return value;
}

// The walk's stack, reused: validation is synchronous and the walk calls no
// other code, so one at a time uses it. Entries are cleared after each walk
// so documents are not kept alive.
const stackValues: object[] = [];
const stackDepths: number[] = [];

/** True when arrays and objects nest more than `maxDepth` deep in `document`. Iterative. */
export function deeperThan(document: unknown, maxDepth: number): boolean {
  if (typeof document !== "object" || document === null) return false;
  stackValues[0] = document;
  stackDepths[0] = 1;
  let size = 1;
  let deeper = false;
  while (size > 0 && !deeper) {
    size--;
    const value = stackValues[size] as Record<string, unknown>;
    const depth = stackDepths[size]!;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (typeof child !== "object" || child === null) continue;
        if (depth >= maxDepth) {
          deeper = true;
          break;
        }
        stackValues[size] = child;
        stackDepths[size++] = depth + 1;
      }
    } else {
      for (const key in value) {
        const child = value[key];
        if (typeof child !== "object" || child === null) continue;
        if (depth >= maxDepth) {
          deeper = true;
          break;
        }
        stackValues[size] = child;
        stackDepths[size++] = depth + 1;
      }
    }
  }
  stackValues.length = 0;
  return deeper;
}

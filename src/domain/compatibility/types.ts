/**
 * The vocabulary of schema evolution: what a compatibility check compares and
 * what it reports. Each schema type has a rules module of its own
 * (`avro.ts`, `json-schema.ts`, `protobuf.ts`) implementing `CompatibilityRules`;
 * `index.ts` applies a level (BACKWARD, FULL_TRANSITIVE, ...) over a subject's
 * versions with them.
 *
 * Direction, as Confluent defines it: a check asks whether a consumer using
 * the `reader` schema can read data written with the `writer` schema.
 * BACKWARD compares the new schema as reader against old writers; FORWARD the
 * old schema as reader against the new writer; FULL both.
 */

/** One reason a reader cannot read what a writer wrote, in words a developer can act on. */
export interface Violation {
  /**
   * Where in the schema: a JSON-pointer-like path from the schema's root,
   * `#/properties/email` (JSON Schema), `#/fields/email` (Avro),
   * `#/messages/acme.Order/fields/3` (Protobuf). `#` is the root.
   */
  path: string;
  /** A stable snake_case identifier of the rule, one of the module's `RULES` keys. */
  rule: string;
  /** A full sentence naming what changed and what to do, e.g. "field email was added without a default". */
  message: string;
}

/**
 * A schema as the rules receive it: `content` is the parsed JSON value for
 * `json` and `avro`, the `.proto` source text for `protobuf`. `references`
 * holds every schema it refers to by name, transitively, already fetched:
 * Avro schemas defining named types it uses, JSON Schemas its `$ref`s name,
 * `.proto` files it imports (the name is the import path).
 */
export interface SchemaDocument {
  content: unknown;
  references?: ReadonlyArray<{ name: string; content: unknown }>;
}

/**
 * The rules of one schema type. `prepare` parses once, so that checking a
 * candidate against fifty versions parses each of them once; prepared forms
 * may be cached by the caller and must not be mutated by the comparisons.
 */
export interface CompatibilityRules<Prepared = unknown> {
  /** Parses a (valid, already validated) schema into the form the comparisons read. */
  prepare(document: SchemaDocument): Prepared;
  /**
   * Every reason a reader on `reader` cannot read data written with `writer`;
   * empty when it can. `names` say how messages call the two ("the new schema",
   * "version 1.2.0"); without them, "the reader schema" and "the writer schema".
   */
  readerViolations(reader: Prepared, writer: Prepared, names?: SchemaNames): Violation[];
  /**
   * True when the two differ at most in documentation: descriptions, titles,
   * `doc`, comments, examples, key order, and other annotations with no effect
   * on which data is valid or how it decodes. The version derivation makes
   * such a change a patch.
   */
  sameMeaning(a: Prepared, b: Prepared): boolean;
}

/** How violation messages name the two sides of a comparison. */
export interface SchemaNames {
  reader: string;
  writer: string;
}

/** A rule's identifier and what it means, for the documentation. */
export type RuleTable = Readonly<Record<string, string>>;

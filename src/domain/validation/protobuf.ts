/**
 * Protobuf content: valid when protobufjs parses the `.proto` source and, for
 * a file without imports, resolves every type it refers to. A file with
 * imports is resolved against its references (each the source of an imported
 * file, named by its import path) and the bundled well-known types; without
 * references its imports cannot be resolved and are left unchecked.
 */
import { type IParserResult, parse } from "protobufjs";
import type { SchemaDocument } from "../compatibility/types.ts";
import { parseSchema } from "../data-validation/protobuf.ts";
import { invalidSchema, messageOf } from "./invalid-schema.ts";

const SUPPORTED_SYNTAX = ["proto2", "proto3"];

// protobufjs ends its syntax errors with "(line N)".
const LINE_SUFFIX = /\(line (\d+)\)\s*$/;

// The `syntax` statement must come first, after comments and whitespace only.
const SYNTAX_STATEMENT = /^(?:\s|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*syntax\s*=\s*(["'])(.*?)\1/;

export function validateProtobufSchema(source: unknown, references: SchemaDocument["references"] = []): void {
  if (typeof source !== "string") {
    throw invalidSchema("protobuf", "a Protobuf schema must be a string holding the .proto source", {});
  }
  if (source.trim() === "") throw invalidSchema("protobuf", "the .proto source is empty", { line: 1 });

  // protobufjs compares the syntax value to a number and lets anything
  // through ("proto4" included); protoc accepts only these two.
  const syntax = SYNTAX_STATEMENT.exec(source);
  if (syntax && !SUPPORTED_SYNTAX.includes(syntax[2]!)) {
    const line = source.slice(0, syntax.index + syntax[0].length).split("\n").length;
    throw invalidSchema(
      "protobuf",
      `unsupported syntax ${JSON.stringify(syntax[2])}: expected "proto2" or "proto3" (line ${line})`,
      { line },
    );
  }

  let parsed: IParserResult;
  try {
    parsed = parse(source, { keepCase: true });
  } catch (error) {
    const message = messageOf(error);
    const line = LINE_SUFFIX.exec(message)?.[1];
    throw invalidSchema("protobuf", message, line ? { line: Number(line) } : {}, error);
  }

  const hasImports = (parsed.imports?.length ?? 0) > 0 || (parsed.weakImports?.length ?? 0) > 0;
  if (hasImports) {
    if (references && references.length > 0) parseSchema({ content: source, references });
    return;
  }
  try {
    parsed.root.resolveAll();
  } catch (error) {
    throw invalidSchema("protobuf", messageOf(error), {}, error);
  }
}

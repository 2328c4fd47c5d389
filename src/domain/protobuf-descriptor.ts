/**
 * Protobuf schemas as Confluent's clients may exchange them: a base64-encoded
 * serialized `google.protobuf.FileDescriptorProto` instead of `.proto`
 * source. The registry stores source; this module tells the two apart,
 * renders a descriptor as source and compiles source into the descriptor
 * protoc would emit for it (`protoc --descriptor_set_out`, without source
 * info).
 *
 * Decisions:
 * - proto2 and proto3 only, as the registry's validator: an editions file or
 *   descriptor is an `invalid_schema`.
 * - protobufjs parses the source, but its descriptor extension
 *   (`Root#toDescriptor`) is not used: it names files after packages, drops
 *   the dependency list, leaves type names relative, names map entries
 *   `Foo` instead of `FooEntry`, orders synthetic oneofs before real ones,
 *   omits json_name, writes empty options, formats defaults its own way and
 *   turns extensions into fields of the extended message. The descriptor is
 *   built here from protobufjs's reflection objects and encoded with its
 *   reflection of descriptor.proto (`google/protobuf/descriptor.json`),
 *   which writes fields in number order, so the bytes equal protoc's.
 * - What protobufjs's parser does not keep is read from the token stream
 *   (`outline`): the syntax, `import public` / `import weak`, where a map
 *   field stands among nested messages (protoc emits map entry types in
 *   declaration order with them), 64-bit integer defaults, which
 *   protobufjs parses into lossy doubles, and which rpcs have a `{}` body
 *   (protoc gives those an empty options message).
 * - As protoc does, `syntax` is set for proto3 only, every field gets a
 *   json_name, and defaults are written in protoc's formats (C-escaped
 *   bytes, `%g`-style floats, `inf`/`nan`). Rendering always writes the
 *   syntax, and json_name only where it differs from the default.
 * - Type names are resolved with protoc's scoping rules against the file, the
 *   imports given and protobufjs's bundled well-known types. A name that
 *   still does not resolve stays as written with no type, which
 *   descriptor.proto allows ("resolution is pending") and which readers such
 *   as the Java runtime resolve against the dependencies.
 * - Rendering writes each type name in the shortest form that resolves back
 *   to the same type within the file; that cannot see what other imported
 *   files declare, so a name shadowed by an import's package (rare) would
 *   need the fully qualified form.
 * - Options: the built-in file, message, field, enum, enum value, service
 *   and method options survive both ways. Custom options (`(my.opt)`) do
 *   not: encoding them needs their extension definitions, and decoding
 *   drops them as unknown fields.
 * - A descriptor is rendered only when every name in it is a valid
 *   identifier and the result parses again, so a crafted descriptor cannot
 *   smuggle declarations in through a name. What protobufjs cannot parse
 *   (a group inside a oneof; a oneof named like a proto3 optional field's
 *   synthetic `_name` oneof) is therefore an `invalid_schema` as well.
 */

import type { INamespace, IParserResult, Message } from "protobufjs";
import {
  common,
  Enum,
  Field,
  MapField,
  Namespace,
  type OneOf,
  parse,
  Root,
  Service,
  Type,
  tokenize,
} from "protobufjs";
import descriptorJson from "protobufjs/google/protobuf/descriptor.json" with { type: "json" };
import { invalidSchema, messageOf } from "./validation/invalid-schema.ts";

// ---------------------------------------------------------------- descriptor shapes

/** A decoded FileDescriptorProto, as protobufjs's `toObject` gives it (camelCase keys, enums as numbers). */
export interface FileDescriptorProto {
  name?: string;
  package?: string;
  dependency?: string[];
  publicDependency?: number[];
  weakDependency?: number[];
  messageType?: DescriptorProto[];
  enumType?: EnumDescriptorProto[];
  service?: ServiceDescriptorProto[];
  extension?: FieldDescriptorProto[];
  options?: OptionValues;
  syntax?: string;
  edition?: number;
}

export interface DescriptorProto {
  name?: string;
  field?: FieldDescriptorProto[];
  extension?: FieldDescriptorProto[];
  nestedType?: DescriptorProto[];
  enumType?: EnumDescriptorProto[];
  extensionRange?: Range[];
  oneofDecl?: { name?: string; options?: OptionValues }[];
  options?: OptionValues;
  reservedRange?: Range[];
  reservedName?: string[];
}

export interface FieldDescriptorProto {
  name?: string;
  number?: number;
  label?: number;
  type?: number;
  typeName?: string;
  extendee?: string;
  defaultValue?: string;
  oneofIndex?: number;
  jsonName?: string;
  options?: OptionValues;
  proto3Optional?: boolean;
}

export interface EnumDescriptorProto {
  name?: string;
  value?: { name?: string; number?: number; options?: OptionValues }[];
  options?: OptionValues;
  reservedRange?: Range[];
  reservedName?: string[];
}

export interface ServiceDescriptorProto {
  name?: string;
  method?: MethodDescriptorProto[];
  options?: OptionValues;
}

export interface MethodDescriptorProto {
  name?: string;
  inputType?: string;
  outputType?: string;
  options?: OptionValues;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
}

interface Range {
  start?: number;
  end?: number;
}

type OptionValues = Record<string, unknown>;

// protobufjs's own copy of descriptor.proto: the encoder, the decoder, the
// option types, and the symbols of `import "google/protobuf/descriptor.proto"`.
const descriptorRoot = Root.fromJSON(descriptorJson as unknown as INamespace);
const FILE_DESCRIPTOR = descriptorRoot.lookupType("google.protobuf.FileDescriptorProto");
const OPTION_TYPES = {
  file: descriptorRoot.lookupType("google.protobuf.FileOptions"),
  message: descriptorRoot.lookupType("google.protobuf.MessageOptions"),
  field: descriptorRoot.lookupType("google.protobuf.FieldOptions"),
  enum: descriptorRoot.lookupType("google.protobuf.EnumOptions"),
  enumValue: descriptorRoot.lookupType("google.protobuf.EnumValueOptions"),
  service: descriptorRoot.lookupType("google.protobuf.ServiceOptions"),
  method: descriptorRoot.lookupType("google.protobuf.MethodOptions"),
};
type OptionKind = keyof typeof OPTION_TYPES;

// Options that are part of the grammar elsewhere (map<>) or that only the
// editions machinery or an option definition uses.
const UNRENDERED_OPTIONS = new Set(["mapEntry", "features", "uninterpretedOption"]);

const LABEL_OPTIONAL = 1;
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;
const TYPE_GROUP = 10;
const TYPE_MESSAGE = 11;
const TYPE_BYTES = 12;
const TYPE_ENUM = 14;

const SCALAR_TYPES: Record<string, number> = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};
const SCALAR_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(SCALAR_TYPES).map(([name, type]) => [type, name]),
);
const INT64_TYPES = new Set([3, 4, 6, 16, 18]);
const INTEGER_TYPES = new Set([3, 4, 5, 6, 7, 13, 15, 16, 17, 18]);

// Exclusive ends: message field numbers stop at 2^29 - 1; enum reserved
// ranges are inclusive and stop at 2^31 - 1.
const MAX_FIELD_END = 536_870_912;
const MAX_ENUM_VALUE = 2_147_483_647;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FULL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const TYPE_REFERENCE = /^\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NOT_BASE64 = /[^A-Za-z0-9+/=\s]/;

const DEFAULT_FILE_NAME = "schema.proto";

// ---------------------------------------------------------------- public API

/**
 * Whether `text` is a base64-encoded FileDescriptorProto rather than `.proto`
 * source. Source always has characters base64 lacks (spaces, `;`, `{`, `"`),
 * so the alphabet test settles almost every call; what passes it must also
 * decode and look like a file (a name, or a message or enum).
 */
export function isSerializedDescriptor(text: string): boolean {
  const compact = compactBase64(text);
  if (compact === undefined) return false;
  try {
    return looksLikeFile(decodeBytes(base64ToBytes(compact)));
  } catch {
    return false;
  }
}

/** Decodes a base64 FileDescriptorProto; `invalid_schema` when it is not one. */
export function decodeFileDescriptor(base64: string): FileDescriptorProto {
  const compact = compactBase64(base64);
  if (compact === undefined) {
    throw notADescriptor("the text is not base64 (only A-Z, a-z, 0-9, +, / and = padding)");
  }
  let file: FileDescriptorProto;
  try {
    file = decodeBytes(base64ToBytes(compact));
  } catch (error) {
    throw notADescriptor(`the bytes do not parse as a FileDescriptorProto: ${messageOf(error)}`, error);
  }
  if (!looksLikeFile(file)) throw notADescriptor("it declares no file name, message or enum");
  return file;
}

/** Renders a base64 FileDescriptorProto as `.proto` source describing the same schema. */
export function descriptorToProto(base64: string): string {
  const file = decodeFileDescriptor(base64);
  const text = new Renderer(file).render();
  try {
    parse(text, { keepCase: true });
  } catch (error) {
    throw invalidSchema(
      "protobuf",
      `the descriptor does not render as valid .proto source: ${messageOf(error)}`,
      { format: "serialized" },
      error,
    );
  }
  return text;
}

/**
 * Compiles `.proto` source into the base64 FileDescriptorProto protoc emits
 * for it. `imports` are the files it imports (name = import path), used to
 * resolve their type names; the well-known `google/protobuf/*.proto` files
 * need not be given.
 */
export function protoToDescriptor(
  source: string,
  imports: ReadonlyArray<{ name: string; content: string }> = [],
  options: { name?: string } = {},
): string {
  const file = compileFile(source, imports, options.name ?? DEFAULT_FILE_NAME);
  return bytesToBase64(FILE_DESCRIPTOR.encode(FILE_DESCRIPTOR.fromObject(file)).finish());
}

// ---------------------------------------------------------------- base64 and decoding

function compactBase64(text: string): string | undefined {
  // Source is turned away at its first quote, semicolon or brace, before
  // the text is copied.
  if (NOT_BASE64.test(text)) return undefined;
  // Line breaks are tolerated for MIME-wrapped base64; spaces are not, which
  // keeps every piece of source out.
  const compact = text.trim().replace(/\r?\n/g, "");
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64.test(compact)) return undefined;
  return compact;
}

function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function decodeBytes(bytes: Uint8Array): FileDescriptorProto {
  const message: Message = FILE_DESCRIPTOR.decode(bytes);
  return FILE_DESCRIPTOR.toObject(message, { defaults: false }) as FileDescriptorProto;
}

function looksLikeFile(file: FileDescriptorProto): boolean {
  const named =
    typeof file.name === "string" &&
    file.name.length > 0 &&
    ![...file.name].some((char) => char.charCodeAt(0) < 0x20);
  const types = [...(file.messageType ?? []), ...(file.enumType ?? [])];
  return (named || types.length > 0) && types.every((type) => IDENTIFIER.test(type.name ?? ""));
}

function notADescriptor(reason: string, cause?: unknown) {
  return invalidSchema(
    "protobuf",
    `the schema is not a base64-encoded FileDescriptorProto: ${reason}`,
    { format: "serialized" },
    cause,
  );
}

// ---------------------------------------------------------------- names and scopes

type SymbolKind = "package" | "message" | "enum" | "service";

interface SymbolInfo {
  kind: SymbolKind;
}

/** Full names (leading dot) of everything a type name can resolve through. */
type Symbols = Map<string, SymbolInfo>;

function addSymbol(symbols: Symbols, fullName: string, info: SymbolInfo): void {
  // A package shares its name with nothing else; anything else wins over it.
  if (info.kind === "package" && symbols.has(fullName)) return;
  symbols.set(fullName, info);
  const dot = fullName.lastIndexOf(".");
  if (dot > 0) addSymbol(symbols, fullName.slice(0, dot), { kind: "package" });
}

function isType(info: SymbolInfo | undefined): boolean {
  return info?.kind === "message" || info?.kind === "enum";
}

/**
 * protoc's lookup: the first component of a relative name is searched from
 * the innermost scope outwards; a compound name then continues inside the
 * first aggregate found (and fails there rather than searching further out),
 * a simple name skips what is not a type.
 */
function resolveName(symbols: Symbols, name: string, scope: string): string | undefined {
  if (name.startsWith(".")) return isType(symbols.get(name)) ? name : undefined;
  const dot = name.indexOf(".");
  const first = dot < 0 ? name : name.slice(0, dot);
  let current = scope;
  for (;;) {
    const candidate = `${current}.${first}`;
    const found = symbols.get(candidate);
    if (found) {
      if (dot >= 0) {
        const full = `${current}.${name}`;
        return isType(symbols.get(full)) ? full : undefined;
      }
      if (isType(found)) return candidate;
    }
    if (current === "") return undefined;
    current = current.slice(0, current.lastIndexOf("."));
  }
}

/** The shortest way to write `fullName` from `scope` that resolves back to it. */
function relativeName(symbols: Symbols, fullName: string, scope: string): string {
  const parts = fullName.slice(1).split(".");
  for (let start = parts.length - 1; start >= 0; start--) {
    const candidate = parts.slice(start).join(".");
    if (resolveName(symbols, candidate, scope) === fullName) return candidate;
  }
  return fullName;
}

function join(scope: string, name: string): string {
  return `${scope}.${name}`;
}

/** protoc's default json_name: underscores dropped, the letter after each capitalized. */
function jsonNameOf(name: string): string {
  return name.replace(/_+([^_]?)/g, (_match, next: string) => next.toUpperCase());
}

/** protoc's name for the nested type of a map field: `foo_bar` → `FooBarEntry`. */
function mapEntryName(fieldName: string): string {
  return `${fieldName.replace(/(?:^|_)([^_]?)/g, (_match, next: string) => next.toUpperCase())}Entry`;
}

// ---------------------------------------------------------------- literals

/** A double-quoted .proto string literal that protobufjs's tokenizer reads back as `value`. */
function quote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

/** protoc's CEscape, which is how a bytes default is written in a descriptor. */
function cEscape(bytes: Iterable<number>): string {
  let out = "";
  for (const byte of bytes) {
    if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x5c) out += "\\\\";
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "?": 0x3f,
};

/** The bytes a C-escaped descriptor default stands for. */
function cUnescape(text: string): number[] {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char !== "\\") {
      bytes.push(...encoder.encode(char));
      continue;
    }
    const rest = text.slice(i + 1);
    const octal = /^[0-7]{1,3}/.exec(rest);
    const hex = /^[xX]([0-9a-fA-F]{1,2})/.exec(rest);
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8) & 0xff);
      i += octal[0].length;
    } else if (hex) {
      bytes.push(Number.parseInt(hex[1]!, 16));
      i += hex[0].length;
    } else if (rest[0] !== undefined && SIMPLE_ESCAPES[rest[0]] !== undefined) {
      bytes.push(SIMPLE_ESCAPES[rest[0]]!);
      i += 1;
    } else {
      throw new Error(`invalid escape in bytes default ${JSON.stringify(text)}`);
    }
  }
  return bytes;
}

/**
 * The bytes protobufjs's string for a bytes literal stands for: its
 * tokenizer turns `\ooo` and `\xhh` escapes into characters up to U+00FF,
 * so those are bytes; anything above is UTF-8 source text.
 */
function literalBytes(value: string): number[] {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code <= 0xff) bytes.push(code);
    else bytes.push(...encoder.encode(char));
  }
  return bytes;
}

/** printf's `%.{precision}g`, which protoc's SimpleDtoa and SimpleFtoa build on. */
function formatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = value.toExponential(precision - 1).split("e") as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const digits = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
    const sign = exponent < 0 ? "-" : "+";
    return `${digits}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** How protoc writes a floating-point default: shortest of 15/17 (double) or 6/9 (float) digits. */
function formatFloatingDefault(value: number, isFloat: boolean): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  if (isFloat) {
    const single = Math.fround(value);
    if (!Number.isFinite(single)) return single > 0 ? "inf" : "-inf";
    const short = formatG(single, 6);
    return Math.fround(Number(short)) === single ? short : formatG(single, 9);
  }
  const short = formatG(value, 15);
  return Number(short) === value ? short : formatG(value, 17);
}

/** An integer literal as written (decimal, 0x hex or 0 octal) in decimal, without precision loss. */
function integerLiteral(raw: string): string | undefined {
  const match = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw.trim());
  if (!match) return undefined;
  const digits = match[2]!;
  let value: bigint;
  if (/^0[xX]/.test(digits)) value = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith("0")) value = BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  return String(match[1] ? -value : value);
}

// ---------------------------------------------------------------- the outline of a .proto file

interface Token {
  text: string;
  string: boolean;
}

type NestedItem = { kind: "type"; name: string } | { kind: "map"; field: string };

/** What protobufjs's parser does not keep, read from the same token stream. */
interface Outline {
  syntax?: string;
  edition?: string;
  imports: { path: string; modifier?: "public" | "weak" }[];
  /** Per message full name (no leading dot): its nested messages, groups and map fields in order. */
  nested: Map<string, NestedItem[]>;
  /** Per field full name (no leading dot): a numeric default as written. */
  defaults: Map<string, string>;
  /**
   * Methods (full name, no leading dot) written with a `{ ... }` body: protoc
   * gives those an options message even when the body is empty.
   */
  methodBodies: Set<string>;
}

class TokenStream {
  private readonly handle;
  private buffered: Token | null | undefined;

  constructor(source: string) {
    this.handle = tokenize(source, false);
  }

  next(): Token | null {
    if (this.buffered !== undefined) {
      const token = this.buffered;
      this.buffered = undefined;
      return token;
    }
    const text = this.handle.next();
    if (text === null) return null;
    if (text === '"' || text === "'") {
      // The tokenizer hands a string literal over as quote, contents, quote.
      const contents = this.handle.next() ?? "";
      this.handle.next();
      return { text: contents, string: true };
    }
    return { text, string: false };
  }

  peek(): Token | null {
    if (this.buffered === undefined) this.buffered = this.next();
    return this.buffered;
  }

  /** Adjacent string literals, concatenated as protoc does. */
  strings(): string {
    let value = "";
    while (this.peek()?.string) value += this.next()!.text;
    return value;
  }

  is(token: Token | null, text: string): boolean {
    return token !== null && !token.string && token.text === text;
  }

  /** Skips to the end of a statement: its `;`, or the `}` closing a block it opened. */
  skipStatement(): void {
    let depth = 0;
    for (let token = this.next(); token !== null; token = this.next()) {
      if (token.string) continue;
      if (token.text === "{" || token.text === "[" || token.text === "(") depth++;
      else if (token.text === "}" || token.text === "]" || token.text === ")") {
        depth--;
        if (depth === 0 && token.text === "}") {
          if (this.is(this.peek(), ";")) this.next();
          return;
        }
      } else if (token.text === ";" && depth <= 0) return;
    }
  }
}

function outline(source: string): Outline {
  const result: Outline = { imports: [], nested: new Map(), defaults: new Map(), methodBodies: new Set() };
  const tokens = new TokenStream(source);
  let pkg = "";
  for (let token = tokens.next(); token !== null; token = tokens.next()) {
    if (token.string) continue;
    switch (token.text) {
      case "syntax":
      case "edition":
        tokens.next();
        result[token.text] = tokens.strings();
        break;
      case "package":
        pkg = tokens.next()?.text ?? "";
        break;
      case "import": {
        const next = tokens.peek();
        const modifier =
          next && !next.string && (next.text === "public" || next.text === "weak") ? next.text : undefined;
        if (modifier) tokens.next();
        result.imports.push({ path: tokens.strings(), ...(modifier ? { modifier } : {}) });
        break;
      }
      case "message": {
        const name = tokens.next()?.text ?? "";
        tokens.next();
        outlineBody(tokens, pkg ? `${pkg}.${name}` : name, result);
        break;
      }
      case "extend":
        tokens.next();
        tokens.next();
        outlineBody(tokens, pkg, result, []);
        break;
      case "option":
        tokens.skipStatement();
        break;
      case "enum":
        tokens.skipStatement();
        break;
      case "service": {
        const name = tokens.next()?.text ?? "";
        tokens.next();
        outlineService(tokens, pkg ? `${pkg}.${name}` : name, result);
        break;
      }
    }
  }
  return result;
}

function outlineService(tokens: TokenStream, scope: string, result: Outline): void {
  for (let token = tokens.next(); token !== null; token = tokens.next()) {
    if (token.string) continue;
    if (token.text === "}") return;
    if (token.text !== "rpc") {
      if (token.text !== ";") tokens.skipStatement();
      continue;
    }
    const name = tokens.next()?.text ?? "";
    for (let next = tokens.next(); next !== null; next = tokens.next()) {
      if (tokens.is(next, ";")) break;
      if (tokens.is(next, "{")) {
        result.methodBodies.add(`${scope}.${name}`);
        skipBlock(tokens);
        break;
      }
    }
  }
}

/** A message (or oneof, or extend) body up to its closing brace. */
function outlineBody(tokens: TokenStream, scope: string, result: Outline, items?: NestedItem[]): void {
  let nested = items;
  if (!nested) {
    nested = [];
    result.nested.set(scope, nested);
  }
  for (let token = tokens.next(); token !== null; token = tokens.next()) {
    if (token.string) continue;
    switch (token.text) {
      case "}":
        return;
      case ";":
        break;
      case "message": {
        const name = tokens.next()?.text ?? "";
        tokens.next();
        nested.push({ kind: "type", name });
        outlineBody(tokens, `${scope}.${name}`, result);
        break;
      }
      case "oneof":
      case "extend":
        tokens.next();
        tokens.next();
        outlineBody(tokens, scope, result, nested);
        break;
      case "enum":
      case "option":
      case "reserved":
      case "extensions":
        tokens.skipStatement();
        break;
      case "map": {
        let next = tokens.next();
        while (next !== null && !tokens.is(next, ">")) next = tokens.next();
        nested.push({ kind: "map", field: tokens.next()?.text ?? "" });
        tokens.skipStatement();
        break;
      }
      default:
        outlineField(tokens, token, scope, result, nested);
    }
  }
}

/** A field or group statement: its name, a group's body, a numeric default. */
function outlineField(
  tokens: TokenStream,
  first: Token,
  scope: string,
  result: Outline,
  nested: NestedItem[],
): void {
  let previous: Token = first;
  let name: string | undefined;
  let groupName: string | undefined;
  let depth = 0;
  for (let token = tokens.next(); token !== null; token = tokens.next()) {
    if (!token.string) {
      if (previous.text === "group" && !previous.string && name === undefined) groupName = token.text;
      if (token.text === "=" && depth === 0 && name === undefined) name = previous.text;
      if (token.text === "[" || token.text === "(") depth++;
      else if (token.text === "]" || token.text === ")") depth--;
      else if (token.text === ";" && depth === 0) return;
      else if (token.text === "{") {
        if (depth === 0) {
          if (groupName !== undefined) {
            nested.push({ kind: "type", name: groupName });
            outlineBody(tokens, `${scope}.${groupName}`, result);
          } else skipBlock(tokens);
          return;
        }
        skipBlock(tokens);
      } else if (token.text === "default" && depth === 1 && tokens.is(tokens.peek(), "=") && name) {
        tokens.next();
        let raw = "";
        for (let value = tokens.peek(); value !== null; value = tokens.peek()) {
          if (!value.string && (value.text === "," || value.text === "]")) break;
          raw += value.string ? "" : value.text;
          tokens.next();
        }
        if (raw) result.defaults.set(`${scope}.${name}`, raw);
      }
    }
    previous = token;
  }
}

/** Skips to the brace matching one just read. */
function skipBlock(tokens: TokenStream): void {
  let depth = 1;
  for (let token = tokens.next(); token !== null && depth > 0; token = tokens.next()) {
    if (token.string) continue;
    if (token.text === "{") depth++;
    else if (token.text === "}" && --depth === 0) return;
  }
}

// ---------------------------------------------------------------- source → descriptor

function parseProto(source: string, details: Record<string, unknown> = {}): IParserResult {
  try {
    return parse(source, { keepCase: true });
  } catch (error) {
    const message = messageOf(error);
    const line = /\(line (\d+)\)\s*$/.exec(message)?.[1];
    throw invalidSchema("protobuf", message, { ...details, ...(line ? { line: Number(line) } : {}) }, error);
  }
}

function checkSyntax(found: Outline, details: Record<string, unknown> = {}): "proto2" | "proto3" {
  if (found.edition !== undefined) {
    throw invalidSchema(
      "protobuf",
      `editions (edition "${found.edition}") are not supported: only proto2 and proto3`,
      details,
    );
  }
  const syntax = found.syntax ?? "proto2";
  if (syntax !== "proto2" && syntax !== "proto3") {
    throw invalidSchema(
      "protobuf",
      `unsupported syntax ${JSON.stringify(syntax)}: expected "proto2" or "proto3"`,
      details,
    );
  }
  return syntax;
}

/** Where a parsed file's declarations live: the namespace of its package. */
function packageNamespace(parsed: IParserResult): Namespace {
  return parsed.package ? (parsed.root.lookup(parsed.package) as Namespace) : parsed.root;
}

function collectSymbols(namespace: Namespace, prefix: string, symbols: Symbols): void {
  for (const object of namespace.nestedArray) {
    const full = join(prefix, object.name);
    if (object instanceof Type) {
      addSymbol(symbols, full, { kind: "message" });
      for (const field of object.fieldsArray) {
        if (field instanceof MapField)
          addSymbol(symbols, join(full, mapEntryName(field.name)), { kind: "message" });
      }
      collectSymbols(object, full, symbols);
    } else if (object instanceof Enum) addSymbol(symbols, full, { kind: "enum" });
    else if (object instanceof Service) addSymbol(symbols, full, { kind: "service" });
    else if (object instanceof Namespace) {
      addSymbol(symbols, full, { kind: "package" });
      collectSymbols(object, full, symbols);
    }
  }
}

const bundledSymbols = new Map<string, Symbols | undefined>();

/** The symbols of a well-known file protobufjs bundles (descriptor.proto included), built once. */
function bundledFile(path: string): Symbols | undefined {
  if (!bundledSymbols.has(path)) {
    const json = path === "google/protobuf/descriptor.proto" ? undefined : common.get(path);
    const root =
      path === "google/protobuf/descriptor.proto" ? descriptorRoot : json ? Root.fromJSON(json) : undefined;
    let symbols: Symbols | undefined;
    if (root) {
      symbols = new Map();
      collectSymbols(root, "", symbols);
    }
    bundledSymbols.set(path, symbols);
  }
  return bundledSymbols.get(path);
}

function importSymbols(
  dependencies: readonly string[],
  imports: ReadonlyArray<{ name: string; content: string }>,
): Symbols {
  const symbols: Symbols = new Map();
  const wanted = [...dependencies];
  const seen = new Set<string>();
  const given = new Map(imports.map((file) => [file.name, file.content]));
  // Every given file counts, whether or not this file imports it directly:
  // public imports re-export what they import.
  for (const file of imports) wanted.push(file.name);
  for (let path = wanted.shift(); path !== undefined; path = wanted.shift()) {
    if (seen.has(path)) continue;
    seen.add(path);
    const content = given.get(path);
    if (content !== undefined) {
      const parsed = parseProto(content, { import: path });
      collectSymbols(parsed.root, "", symbols);
      wanted.push(...(parsed.imports ?? []), ...(parsed.weakImports ?? []));
      continue;
    }
    for (const [name, info] of bundledFile(path) ?? []) addSymbol(symbols, name, info);
  }
  return symbols;
}

interface CompileContext {
  symbols: Symbols;
  outline: Outline;
  syntax: "proto2" | "proto3";
}

function compileFile(
  source: string,
  imports: ReadonlyArray<{ name: string; content: string }>,
  name: string,
): FileDescriptorProto {
  if (typeof source !== "string" || source.trim() === "") {
    throw invalidSchema("protobuf", "the .proto source is empty", {});
  }
  const parsed = parseProto(source);
  const found = outline(source);
  const syntax = checkSyntax(found);
  const dependencies = found.imports.map((entry) => entry.path);

  const symbols = importSymbols(dependencies, imports);
  collectSymbols(parsed.root, "", symbols);
  const context: CompileContext = { symbols, outline: found, syntax };

  const namespace = packageNamespace(parsed);
  const scope = parsed.package ? `.${parsed.package}` : "";
  const file: FileDescriptorProto = { name };
  if (parsed.package) file.package = parsed.package;
  if (dependencies.length > 0) file.dependency = dependencies;
  const publicIndexes = found.imports.flatMap((entry, index) => (entry.modifier === "public" ? [index] : []));
  const weakIndexes = found.imports.flatMap((entry, index) => (entry.modifier === "weak" ? [index] : []));
  if (publicIndexes.length > 0) file.publicDependency = publicIndexes;
  if (weakIndexes.length > 0) file.weakDependency = weakIndexes;

  const messages = namespace.nestedArray.filter((object): object is Type => object instanceof Type);
  const enums = namespace.nestedArray.filter((object): object is Enum => object instanceof Enum);
  const services = namespace.nestedArray.filter((object): object is Service => object instanceof Service);
  const extensions = namespace.nestedArray.filter((object): object is Field => object instanceof Field);
  if (messages.length > 0) file.messageType = messages.map((type) => compileMessage(type, scope, context));
  if (enums.length > 0) file.enumType = enums.map((enumType) => compileEnum(enumType));
  if (services.length > 0) file.service = services.map((service) => compileService(service, scope, context));
  if (extensions.length > 0) file.extension = extensions.map((field) => compileField(field, scope, context));

  // Options written before the package statement land on the root.
  const fileOptions = optionsOf("file", {
    ...parsed.root.options,
    ...(namespace !== parsed.root ? namespace.options : {}),
  });
  if (fileOptions) file.options = fileOptions;
  if (syntax === "proto3") file.syntax = "proto3";
  return file;
}

function compileMessage(type: Type, scope: string, context: CompileContext): DescriptorProto {
  const full = join(scope, type.name);
  const message: DescriptorProto = { name: type.name };

  // Sister fields protobufjs adds to an extended message are not its own.
  const fields = type.fieldsArray.filter(
    (field) => !(field as Field & { declaringField?: Field }).declaringField,
  );
  const oneofs = oneofDeclarations(type, fields);
  const compiled: FieldDescriptorProto[] = [];
  const entries = new Map<string, DescriptorProto>();
  for (const field of fields) {
    const descriptor = compileField(field, full, context);
    if (field.partOf) descriptor.oneofIndex = oneofs.index.get(field.partOf)!;
    compiled.push(descriptor);
    if (field instanceof MapField) entries.set(field.name, compileMapEntry(field, full, context));
  }
  if (compiled.length > 0) message.field = compiled;

  const nestedTypes = nestedTypeOrder(type, full.slice(1), entries, context).map((item) =>
    item instanceof Type ? compileMessage(item, full, context) : item,
  );
  if (nestedTypes.length > 0) message.nestedType = nestedTypes;

  const enums = type.nestedArray.filter((object): object is Enum => object instanceof Enum);
  if (enums.length > 0) message.enumType = enums.map((enumType) => compileEnum(enumType));
  const extensions = type.nestedArray.filter((object): object is Field => object instanceof Field);
  if (extensions.length > 0)
    message.extension = extensions.map((field) => compileField(field, full, context));

  if (type.extensions && type.extensions.length > 0) {
    message.extensionRange = type.extensions.map(([start, end]) => ({ start, end: end! + 1 }));
  }
  if (oneofs.declarations.length > 0) message.oneofDecl = oneofs.declarations;
  const options = optionsOf("message", type.options);
  if (options) message.options = options;
  const reserved = type.reserved ?? [];
  const ranges = reserved.filter((entry): entry is number[] => Array.isArray(entry));
  const names = reserved.filter((entry): entry is string => typeof entry === "string");
  if (ranges.length > 0) message.reservedRange = ranges.map(([start, end]) => ({ start, end: end! + 1 }));
  if (names.length > 0) message.reservedName = names;
  return message;
}

function isSyntheticOneof(oneof: OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0]!.options?.proto3_optional === true;
}

/** protoc lists real oneofs first, then one synthetic oneof per proto3 optional field, named as protoc names them. */
function oneofDeclarations(type: Type, fields: Field[]) {
  const declarations: { name: string }[] = [];
  const index = new Map<OneOf, number>();
  for (const oneof of type.oneofsArray) {
    if (isSyntheticOneof(oneof)) continue;
    index.set(oneof, declarations.length);
    declarations.push({ name: oneof.name });
  }
  const taken = new Set([...fields.map((field) => field.name), ...declarations.map((oneof) => oneof.name)]);
  for (const field of fields) {
    if (!field.partOf || !isSyntheticOneof(field.partOf)) continue;
    let name = field.name.startsWith("_") ? field.name : `_${field.name}`;
    while (taken.has(name)) name = `X${name}`;
    taken.add(name);
    index.set(field.partOf, declarations.length);
    declarations.push({ name });
  }
  return { declarations, index };
}

/** Nested messages, groups and map entries in protoc's order: as declared. */
function nestedTypeOrder(
  type: Type,
  fullName: string,
  entries: Map<string, DescriptorProto>,
  context: CompileContext,
): (Type | DescriptorProto)[] {
  const types = type.nestedArray.filter((object): object is Type => object instanceof Type);
  const byName = new Map(types.map((nested) => [nested.name, nested]));
  const ordered: (Type | DescriptorProto)[] = [];
  for (const item of context.outline.nested.get(fullName) ?? []) {
    if (item.kind === "type" && byName.has(item.name)) {
      ordered.push(byName.get(item.name)!);
      byName.delete(item.name);
    } else if (item.kind === "map" && entries.has(item.field)) {
      ordered.push(entries.get(item.field)!);
      entries.delete(item.field);
    }
  }
  // The outline names everything a parsed file declares; this is a fallback.
  return [...ordered, ...entries.values(), ...byName.values()];
}

function compileMapEntry(field: MapField, scope: string, context: CompileContext): DescriptorProto {
  const entryName = mapEntryName(field.name);
  const entryScope = join(scope, entryName);
  const value: FieldDescriptorProto = { name: "value", number: 2, label: LABEL_OPTIONAL };
  Object.assign(value, typeOf(field.type, entryScope, context));
  value.jsonName = "value";
  return {
    name: entryName,
    field: [
      { name: "key", number: 1, label: LABEL_OPTIONAL, type: SCALAR_TYPES[field.keyType]!, jsonName: "key" },
      value,
    ],
    options: { mapEntry: true },
  };
}

/** A field's type and type_name, resolved as protoc resolves them (or left as written). */
function typeOf(
  written: string,
  scope: string,
  context: CompileContext,
): Pick<FieldDescriptorProto, "type" | "typeName"> {
  const scalar = SCALAR_TYPES[written];
  if (scalar !== undefined) return { type: scalar };
  const resolved = resolveName(context.symbols, written, scope);
  if (resolved === undefined) return { typeName: written };
  return {
    type: context.symbols.get(resolved)!.kind === "enum" ? TYPE_ENUM : TYPE_MESSAGE,
    typeName: resolved,
  };
}

/**
 * Whether protobufjs made `field` from a `group` statement: its type is the
 * group's message, declared beside it, and its name that type's name with a
 * lower-case first letter.
 */
function isGroupField(field: Field): boolean {
  const sibling = (field.parent as Namespace | null)?.nested?.[field.type];
  return (
    sibling instanceof Type &&
    (sibling as Type & { group?: boolean }).group === true &&
    field.name === field.type[0]!.toLowerCase() + field.type.slice(1)
  );
}

function compileField(field: Field, scope: string, context: CompileContext): FieldDescriptorProto {
  const group = isGroupField(field);
  // protoc names a group's field after the whole group name in lower case.
  const name = group ? field.type.toLowerCase() : field.name;
  const descriptor: FieldDescriptorProto = { name };
  if (field.extend !== undefined) {
    descriptor.extendee = resolveName(context.symbols, field.extend, scope) ?? field.extend;
  }
  descriptor.number = field.id;
  if (field instanceof MapField) {
    descriptor.label = LABEL_REPEATED;
    descriptor.type = TYPE_MESSAGE;
    descriptor.typeName = join(scope, mapEntryName(field.name));
  } else {
    descriptor.label = field.repeated
      ? LABEL_REPEATED
      : field.rule === "required"
        ? LABEL_REQUIRED
        : LABEL_OPTIONAL;
    Object.assign(descriptor, typeOf(field.type, scope, context));
    if (group) descriptor.type = TYPE_GROUP;
  }
  const raw = field.options ?? {};
  if (raw.default !== undefined) {
    descriptor.defaultValue = defaultText(
      raw.default,
      descriptor.type,
      context.outline.defaults.get(`${scope.slice(1)}.${field.name}`),
    );
  }
  const jsonName = typeof raw.json_name === "string" ? raw.json_name : jsonNameOf(name);
  descriptor.jsonName = jsonName;
  const options = optionsOf("field", raw);
  if (options) descriptor.options = options;
  if (raw.proto3_optional === true) descriptor.proto3Optional = true;
  return descriptor;
}

/** A default as protoc writes it into the descriptor. */
function defaultText(value: unknown, type: number | undefined, raw: string | undefined): string {
  if (type !== undefined && INT64_TYPES.has(type) && raw !== undefined) {
    const exact = integerLiteral(raw);
    if (exact !== undefined) return exact;
  }
  if (type === 1 || type === 2) return formatFloatingDefault(Number(value), type === 2);
  if (type !== undefined && INTEGER_TYPES.has(type) && typeof value === "number")
    return String(Math.trunc(value) || 0);
  if (type === TYPE_BYTES) return cEscape(literalBytes(String(value)));
  return String(value);
}

function compileEnum(enumType: Enum): EnumDescriptorProto {
  const descriptor: EnumDescriptorProto = {
    name: enumType.name,
    value: Object.keys(enumType.values).map((name) => {
      const value: { name: string; number: number; options?: OptionValues } = {
        name,
        number: enumType.values[name]!,
      };
      const options = optionsOf("enumValue", enumType.valuesOptions?.[name]);
      if (options) value.options = options;
      return value;
    }),
  };
  const options = optionsOf("enum", enumType.options);
  if (options) descriptor.options = options;
  const reserved = enumType.reserved ?? [];
  const ranges = reserved.filter((entry): entry is number[] => Array.isArray(entry));
  const names = reserved.filter((entry): entry is string => typeof entry === "string");
  if (ranges.length > 0) descriptor.reservedRange = ranges.map(([start, end]) => ({ start, end: end! }));
  if (names.length > 0) descriptor.reservedName = names;
  return descriptor;
}

function compileService(service: Service, scope: string, context: CompileContext): ServiceDescriptorProto {
  const full = join(scope, service.name);
  const descriptor: ServiceDescriptorProto = {
    name: service.name,
    method: service.methodsArray.map((method) => {
      const compiled: MethodDescriptorProto = {
        name: method.name,
        inputType: resolveName(context.symbols, method.requestType, full) ?? method.requestType,
        outputType: resolveName(context.symbols, method.responseType, full) ?? method.responseType,
      };
      const options = optionsOf("method", method.options);
      if (options) compiled.options = options;
      else if (context.outline.methodBodies.has(`${full.slice(1)}.${method.name}`)) compiled.options = {};
      if (method.requestStream) compiled.clientStreaming = true;
      if (method.responseStream) compiled.serverStreaming = true;
      return compiled;
    }),
  };
  if (descriptor.method!.length === 0) delete descriptor.method;
  const options = optionsOf("service", service.options);
  if (options) descriptor.options = options;
  return descriptor;
}

/**
 * The built-in options among those protobufjs collected, keyed as
 * descriptor.proto's reflection names them. Custom `(ext)` options,
 * sub-fields (`features.x`) and the parser's own entries (`default`,
 * `json_name`, `proto3_optional`) are not built-in options of that type.
 */
function optionsOf(kind: OptionKind, raw: Record<string, unknown> | undefined): OptionValues | undefined {
  if (!raw) return undefined;
  const type = OPTION_TYPES[kind];
  const options: OptionValues = {};
  for (const field of type.fieldsArray) {
    const protoName = (field as Field & { protoName?: string }).protoName ?? field.name;
    const value = raw[protoName];
    if (value === undefined || field.repeated || UNRENDERED_OPTIONS.has(field.name)) continue;
    if (field.resolve().resolvedType instanceof Type) continue;
    options[field.name] = value;
  }
  return Object.keys(options).length > 0 ? options : undefined;
}

// ---------------------------------------------------------------- descriptor → source

class Renderer {
  private readonly symbols: Symbols = new Map();
  private readonly lines: string[] = [];
  private readonly syntax: "proto2" | "proto3";

  constructor(private readonly file: FileDescriptorProto) {
    if (file.syntax === "editions" || file.edition !== undefined) {
      throw invalidSchema("protobuf", "editions descriptors are not supported: only proto2 and proto3", {
        format: "serialized",
      });
    }
    const syntax = file.syntax || "proto2";
    if (syntax !== "proto2" && syntax !== "proto3") {
      throw this.invalid(`unsupported syntax ${JSON.stringify(syntax)}`);
    }
    this.syntax = syntax;
  }

  render(): string {
    const file = this.file;
    const pkg = file.package ?? "";
    if (pkg !== "" && !FULL_NAME.test(pkg)) throw this.invalid(`invalid package name ${JSON.stringify(pkg)}`);
    const scope = pkg ? `.${pkg}` : "";
    if (pkg) addSymbol(this.symbols, scope, { kind: "package" });
    for (const message of file.messageType ?? []) this.declareMessage(message, scope);
    for (const enumType of file.enumType ?? []) this.declare(enumType.name, scope, { kind: "enum" });
    for (const service of file.service ?? []) this.declare(service.name, scope, { kind: "service" });
    this.declareReferences();

    this.lines.push(`syntax = "${this.syntax}";`);
    if (pkg) this.lines.push("", `package ${pkg};`);
    const dependencies = file.dependency ?? [];
    if (dependencies.length > 0) this.lines.push("");
    dependencies.forEach((path, index) => {
      const modifier = file.publicDependency?.includes(index)
        ? "public "
        : file.weakDependency?.includes(index)
          ? "weak "
          : "";
      this.lines.push(`import ${modifier}${quote(path)};`);
    });
    const options = this.optionEntries("file", file.options);
    if (options.length > 0) this.lines.push("", ...options.map((option) => `option ${option};`));

    const groups = new Set(
      (file.extension ?? []).filter((field) => field.type === TYPE_GROUP).map((field) => field.typeName),
    );
    for (const message of file.messageType ?? []) {
      if (groups.has(join(scope, message.name ?? ""))) continue;
      this.lines.push("");
      this.message(message, scope, 0);
    }
    for (const enumType of file.enumType ?? []) {
      this.lines.push("");
      this.enumType(enumType, 0);
    }
    if ((file.extension ?? []).length > 0) {
      this.lines.push("");
      this.extensions(file.extension!, scope, file.messageType ?? [], 0);
    }
    for (const service of file.service ?? []) {
      this.lines.push("");
      this.service(service, scope);
    }
    return `${this.lines.join("\n")}\n`;
  }

  private invalid(message: string) {
    return invalidSchema("protobuf", `the descriptor cannot be rendered as .proto source: ${message}`, {
      format: "serialized",
    });
  }

  private identifier(name: string | undefined, what: string): string {
    if (name === undefined || !IDENTIFIER.test(name))
      throw this.invalid(`invalid ${what} name ${JSON.stringify(name)}`);
    return name;
  }

  private declare(name: string | undefined, scope: string, info: SymbolInfo): string {
    const full = join(scope, this.identifier(name, info.kind));
    addSymbol(this.symbols, full, info);
    return full;
  }

  private declareMessage(message: DescriptorProto, scope: string): void {
    const full = this.declare(message.name, scope, { kind: "message" });
    for (const nested of message.nestedType ?? []) this.declareMessage(nested, full);
    for (const enumType of message.enumType ?? []) this.declare(enumType.name, full, { kind: "enum" });
  }

  /** Types from other files are known by their full names; so are their enclosing scopes. */
  private declareReferences(): void {
    const visitField = (field: FieldDescriptorProto) => {
      if (field.typeName?.startsWith(".") && !this.symbols.has(field.typeName)) {
        addSymbol(this.symbols, field.typeName, { kind: field.type === TYPE_ENUM ? "enum" : "message" });
      }
      if (field.extendee?.startsWith(".") && !this.symbols.has(field.extendee)) {
        addSymbol(this.symbols, field.extendee, { kind: "message" });
      }
    };
    const visitMessage = (message: DescriptorProto) => {
      for (const field of [...(message.field ?? []), ...(message.extension ?? [])]) visitField(field);
      for (const nested of message.nestedType ?? []) visitMessage(nested);
    };
    for (const message of this.file.messageType ?? []) visitMessage(message);
    for (const field of this.file.extension ?? []) visitField(field);
    for (const service of this.file.service ?? []) {
      for (const method of service.method ?? []) {
        for (const name of [method.inputType, method.outputType]) {
          if (name?.startsWith(".") && !this.symbols.has(name))
            addSymbol(this.symbols, name, { kind: "message" });
        }
      }
    }
  }

  private typeReference(name: string | undefined, scope: string): string {
    if (name === undefined || !TYPE_REFERENCE.test(name))
      throw this.invalid(`invalid type name ${JSON.stringify(name)}`);
    return name.startsWith(".") ? relativeName(this.symbols, name, scope) : name;
  }

  private message(message: DescriptorProto, scope: string, depth: number, header?: string): void {
    const indent = "  ".repeat(depth);
    const name = this.identifier(message.name, "message");
    const full = join(scope, name);
    this.lines.push(header ? `${header} {` : `${indent}message ${name} {`);
    this.messageBody(message, full, depth + 1);
    this.lines.push(`${indent}}`);
  }

  private messageBody(message: DescriptorProto, full: string, depth: number): void {
    const indent = "  ".repeat(depth);
    for (const option of this.optionEntries("message", message.options))
      this.lines.push(`${indent}option ${option};`);

    const fields = message.field ?? [];
    const nested = message.nestedType ?? [];
    const oneofs = message.oneofDecl ?? [];
    const nestedByName = new Map(nested.map((type) => [join(full, type.name ?? ""), type]));

    // Map fields and groups own a nested type each; everything else in
    // nested_type is a message declared in the body.
    const owner = new Map<DescriptorProto, number>();
    const extensionGroups = new Set(
      (message.extension ?? []).filter((field) => field.type === TYPE_GROUP).map((field) => field.typeName),
    );
    fields.forEach((field, index) => {
      const target = field.typeName ? nestedByName.get(field.typeName) : undefined;
      if (!target) return;
      if (
        field.type === TYPE_GROUP ||
        (target.options?.mapEntry === true && field.label === LABEL_REPEATED)
      ) {
        owner.set(target, index);
      }
    });

    // Fields in declaration order, a real oneof's members in one block where its first member stands.
    const items: { fields: number[]; oneof?: number }[] = [];
    const blocks = new Map<number, { fields: number[]; oneof?: number }>();
    fields.forEach((field, index) => {
      const oneof = field.oneofIndex;
      if (oneof !== undefined && !field.proto3Optional) {
        if (!oneofs[oneof])
          throw this.invalid(`field ${field.name} names oneof ${oneof}, which does not exist`);
        const block = blocks.get(oneof);
        if (block) block.fields.push(index);
        else {
          const created = { fields: [index], oneof };
          blocks.set(oneof, created);
          items.push(created);
        }
      } else items.push({ fields: [index] });
    });

    // protoc lists nested types in the order their declarations (or map
    // fields, or groups) appear, so fields are written up to a type's owner
    // before the next nested message.
    let written = 0;
    const writeUpTo = (fieldIndex: number) => {
      while (
        written < items.length &&
        items.slice(written).some((item) => item.fields.includes(fieldIndex))
      ) {
        this.item(items[written]!, message, full, owner, depth);
        written++;
      }
    };
    for (const type of nested) {
      const ownerIndex = owner.get(type);
      if (ownerIndex !== undefined) writeUpTo(ownerIndex);
      else if (type.options?.mapEntry === true) throw this.invalid(`map entry ${type.name} has no map field`);
      else if (extensionGroups.has(join(full, type.name ?? ""))) continue;
      else this.message(type, full, depth);
    }
    while (written < items.length) this.item(items[written++]!, message, full, owner, depth);

    for (const enumType of message.enumType ?? []) this.enumType(enumType, depth);
    if ((message.extension ?? []).length > 0) this.extensions(message.extension!, full, nested, depth);
    for (const range of message.extensionRange ?? []) {
      this.lines.push(`${indent}extensions ${this.range(range, true)};`);
    }
    const reserved = (message.reservedRange ?? []).map((range) => this.range(range, true));
    if (reserved.length > 0) this.lines.push(`${indent}reserved ${reserved.join(", ")};`);
    const names = (message.reservedName ?? []).map((name) => quote(this.identifier(name, "reserved")));
    if (names.length > 0) this.lines.push(`${indent}reserved ${names.join(", ")};`);
  }

  private item(
    item: { fields: number[]; oneof?: number },
    message: DescriptorProto,
    full: string,
    owner: Map<DescriptorProto, number>,
    depth: number,
  ): void {
    const fields = message.field ?? [];
    const ownedBy = (index: number) => [...owner].find(([, fieldIndex]) => fieldIndex === index)?.[0];
    if (item.oneof === undefined) {
      const index = item.fields[0]!;
      this.field(fields[index]!, full, ownedBy(index), depth, false);
      return;
    }
    const indent = "  ".repeat(depth);
    const oneof = message.oneofDecl![item.oneof]!;
    this.lines.push(`${indent}oneof ${this.identifier(oneof.name, "oneof")} {`);
    for (const index of item.fields) this.field(fields[index]!, full, ownedBy(index), depth + 1, true);
    this.lines.push(`${indent}}`);
  }

  private label(field: FieldDescriptorProto, inOneof: boolean): string {
    const label = field.label ?? LABEL_OPTIONAL;
    if (inOneof) {
      if (label !== LABEL_OPTIONAL) throw this.invalid(`oneof member ${field.name} is not optional`);
      return "";
    }
    if (label === LABEL_REPEATED) return "repeated ";
    if (label === LABEL_REQUIRED) {
      if (this.syntax === "proto3") throw this.invalid(`proto3 field ${field.name} is required`);
      return "required ";
    }
    if (label !== LABEL_OPTIONAL) throw this.invalid(`field ${field.name} has label ${label}`);
    if (this.syntax === "proto2" || field.proto3Optional) return "optional ";
    return "";
  }

  private field(
    field: FieldDescriptorProto,
    scope: string,
    owned: DescriptorProto | undefined,
    depth: number,
    inOneof: boolean,
  ): void {
    const indent = "  ".repeat(depth);
    const name = this.identifier(field.name, "field");
    const number = this.fieldNumber(field);
    const options = this.fieldOptions(field);
    const suffix = options.length > 0 ? ` [${options.join(", ")}]` : "";

    if (owned && field.type === TYPE_GROUP) {
      if (this.syntax === "proto3") throw this.invalid(`proto3 field ${name} is a group`);
      const header = `${indent}${this.label(field, inOneof)}group ${this.identifier(owned.name, "group")} = ${number}${suffix}`;
      this.message(owned, scope, depth, header);
      return;
    }
    if (owned) {
      const entryScope = join(scope, owned.name ?? "");
      const key = owned.field?.find((entryField) => entryField.number === 1);
      const value = owned.field?.find((entryField) => entryField.number === 2);
      const keyType = key?.type !== undefined ? SCALAR_NAMES[key.type] : undefined;
      if (!keyType || keyType === "double" || keyType === "float" || keyType === "bytes" || !value) {
        throw this.invalid(`map entry ${owned.name} has no valid key and value`);
      }
      this.lines.push(
        `${indent}map<${keyType}, ${this.fieldType(value, entryScope)}> ${name} = ${number}${suffix};`,
      );
      return;
    }
    this.lines.push(
      `${indent}${this.label(field, inOneof)}${this.fieldType(field, scope)} ${name} = ${number}${suffix};`,
    );
  }

  private fieldNumber(field: FieldDescriptorProto): number {
    const number = field.number;
    if (number === undefined || !Number.isInteger(number) || number < 1 || number >= MAX_FIELD_END) {
      throw this.invalid(`field ${field.name} has number ${number}`);
    }
    return number;
  }

  private fieldType(field: FieldDescriptorProto, scope: string): string {
    if (field.type !== undefined && SCALAR_NAMES[field.type]) return SCALAR_NAMES[field.type]!;
    if (
      field.type !== undefined &&
      field.type !== TYPE_MESSAGE &&
      field.type !== TYPE_ENUM &&
      field.type !== TYPE_GROUP
    ) {
      throw this.invalid(`field ${field.name} has type ${field.type}`);
    }
    return this.typeReference(field.typeName, scope);
  }

  private fieldOptions(field: FieldDescriptorProto): string[] {
    const options: string[] = [];
    if (field.jsonName !== undefined && field.jsonName !== jsonNameOf(field.name ?? "")) {
      options.push(`json_name = ${quote(field.jsonName)}`);
    }
    if (field.defaultValue !== undefined) {
      if (this.syntax === "proto3") throw this.invalid(`proto3 field ${field.name} has a default`);
      options.push(`default = ${this.defaultLiteral(field)}`);
    }
    options.push(...this.optionEntries("field", field.options));
    return options;
  }

  private defaultLiteral(field: FieldDescriptorProto): string {
    const value = field.defaultValue!;
    const fail = () => this.invalid(`field ${field.name} has default ${JSON.stringify(value)}`);
    switch (field.type) {
      case 9:
        return quote(value);
      case TYPE_BYTES:
        try {
          return `"${cEscape(cUnescape(value))}"`;
        } catch {
          throw fail();
        }
      case 8:
        if (value !== "true" && value !== "false") throw fail();
        return value;
      case 1:
      case 2:
        if (!/^-?(?:inf|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/.test(value)) throw fail();
        return value;
      case TYPE_MESSAGE:
      case TYPE_GROUP:
        throw fail();
      default:
        if (field.type !== undefined && INTEGER_TYPES.has(field.type)) {
          if (!/^-?\d+$/.test(value)) throw fail();
          return value;
        }
        // An enum (or a type still to resolve): the value's name.
        if (!IDENTIFIER.test(value)) throw fail();
        return value;
    }
  }

  private range(range: Range, exclusiveEnd: boolean): string {
    const start = range.start;
    const end = range.end;
    if (start === undefined || end === undefined || !Number.isInteger(start) || !Number.isInteger(end)) {
      throw this.invalid("a range lacks its start or end");
    }
    const last = exclusiveEnd ? end - 1 : end;
    if (last < start) throw this.invalid(`empty range ${start} to ${end}`);
    if (exclusiveEnd ? end === MAX_FIELD_END : end === MAX_ENUM_VALUE) return `${start} to max`;
    return last === start ? String(start) : `${start} to ${last}`;
  }

  private extensions(
    fields: FieldDescriptorProto[],
    scope: string,
    siblings: DescriptorProto[],
    depth: number,
  ): void {
    const indent = "  ".repeat(depth);
    const groups = new Map(siblings.map((type) => [join(scope, type.name ?? ""), type]));
    let extendee: string | undefined;
    for (const field of fields) {
      if (field.extendee !== extendee) {
        if (extendee !== undefined) this.lines.push(`${indent}}`);
        extendee = field.extendee;
        this.lines.push(`${indent}extend ${this.typeReference(extendee, scope)} {`);
      }
      const owned = field.type === TYPE_GROUP && field.typeName ? groups.get(field.typeName) : undefined;
      this.field(field, scope, owned, depth + 1, false);
    }
    this.lines.push(`${indent}}`);
  }

  private enumType(enumType: EnumDescriptorProto, depth: number): void {
    const indent = "  ".repeat(depth);
    this.lines.push(`${indent}enum ${this.identifier(enumType.name, "enum")} {`);
    for (const option of this.optionEntries("enum", enumType.options))
      this.lines.push(`${indent}  option ${option};`);
    for (const value of enumType.value ?? []) {
      const number = value.number ?? 0;
      const options = this.optionEntries("enumValue", value.options);
      const suffix = options.length > 0 ? ` [${options.join(", ")}]` : "";
      this.lines.push(`${indent}  ${this.identifier(value.name, "enum value")} = ${number}${suffix};`);
    }
    const reserved = (enumType.reservedRange ?? []).map((range) => this.range(range, false));
    if (reserved.length > 0) this.lines.push(`${indent}  reserved ${reserved.join(", ")};`);
    const names = (enumType.reservedName ?? []).map((name) => quote(this.identifier(name, "reserved")));
    if (names.length > 0) this.lines.push(`${indent}  reserved ${names.join(", ")};`);
    this.lines.push(`${indent}}`);
  }

  private service(service: ServiceDescriptorProto, scope: string): void {
    const name = this.identifier(service.name, "service");
    const full = join(scope, name);
    this.lines.push(`service ${name} {`);
    for (const option of this.optionEntries("service", service.options))
      this.lines.push(`  option ${option};`);
    for (const method of service.method ?? []) {
      const input = `${method.clientStreaming ? "stream " : ""}${this.typeReference(method.inputType, full)}`;
      const output = `${method.serverStreaming ? "stream " : ""}${this.typeReference(method.outputType, full)}`;
      const head = `  rpc ${this.identifier(method.name, "method")}(${input}) returns (${output})`;
      const options = this.optionEntries("method", method.options);
      if (options.length === 0) this.lines.push(method.options ? `${head} {}` : `${head};`);
      else this.lines.push(`${head} {`, ...options.map((option) => `    option ${option};`), "  }");
    }
    this.lines.push("}");
  }

  /** `name = value` for every built-in option set, as the grammar writes it. */
  private optionEntries(kind: OptionKind, options: OptionValues | undefined): string[] {
    if (!options) return [];
    const type = OPTION_TYPES[kind];
    const entries: string[] = [];
    for (const field of type.fieldsArray) {
      const value = options[field.name];
      if (value === undefined || value === null || field.repeated || UNRENDERED_OPTIONS.has(field.name))
        continue;
      const protoName = (field as Field & { protoName?: string }).protoName ?? field.name;
      const resolved = field.resolve().resolvedType;
      if (resolved instanceof Enum) {
        const name = typeof value === "number" ? resolved.valuesById[value] : String(value);
        if (name !== undefined && IDENTIFIER.test(name)) entries.push(`${protoName} = ${name}`);
      } else if (resolved === null) {
        if (typeof value === "string") entries.push(`${protoName} = ${quote(value)}`);
        else if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
          entries.push(`${protoName} = ${value}`);
        }
      }
    }
    return entries;
  }
}

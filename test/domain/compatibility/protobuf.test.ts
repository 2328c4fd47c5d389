/**
 * Protobuf wire compatibility, case by case: each case names the rule it
 * exercises (or "compatible"), the reader and writer `.proto` files, and the
 * exact rule ids expected. Verdicts follow the language guide's "Updating A
 * Message Type" and buf's WIRE breaking rules, read from the reader's side;
 * the module's header records where a decision had to be made.
 */
import { describe, expect, test } from "bun:test";
import { Type } from "protobufjs";
import { type ProtobufPrepared, protobufRules, RULES } from "../../../src/domain/compatibility/protobuf.ts";
import type { SchemaDocument } from "../../../src/domain/compatibility/types.ts";

type References = SchemaDocument["references"];

interface Case {
  rule: string;
  name: string;
  reader: string;
  writer: string;
  expect: string[];
  readerReferences?: References;
  writerReferences?: References;
  /** The path of the first violation, where the case pins it. */
  path?: string;
}

const proto3 = (body: string, pkg = "acme"): string => `syntax = "proto3";\npackage ${pkg};\n\n${body}\n`;
const proto2 = (body: string, pkg = "acme"): string => `syntax = "proto2";\npackage ${pkg};\n\n${body}\n`;
const order3 = (fields: string, extra = ""): string => proto3(`message Order {\n${fields}\n}\n${extra}`);
const order2 = (fields: string, extra = ""): string => proto2(`message Order {\n${fields}\n}\n${extra}`);
const edition = (body: string): string => `edition = "2023";\npackage acme;\n\n${body}\n`;

const ADDRESS = "message Address { string city = 1; }";
const LOCATION = "message Location { string city = 1; }";
const STATUS = "enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; }";
const PHASE = "enum Phase { PHASE_UNKNOWN = 0; PHASE_OPEN = 1; PHASE_DONE = 2; }";

const COMMON_V1 = proto3("message Money { string currency = 1; int64 units = 2; }", "acme.common");
const COMMON_V2 = proto3(
  "message Money { string currency = 1; int64 units = 2; int32 nanos = 3; }",
  "acme.common",
);
const COMMON_V3 = proto3("message Money { string currency = 1; string units = 2; }", "acme.common");
const COMMON_EXTRA = proto3(
  "message Money { string currency = 1; int64 units = 2; }\nmessage Unused { string x = 1; }",
  "acme.common",
);
const common = (content: string): References => [{ name: "acme/common.proto", content }];
const WITH_MONEY = proto3(
  'import "acme/common.proto";\n\nmessage Order {\n  string id = 1;\n  common.Money total = 2;\n}',
);

const WKT_IMPORTS = ["any", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers"]
  .map((name) => `import "google/protobuf/${name}.proto";`)
  .join("\n");
const wkt = (fields: string): string => proto3(`${WKT_IMPORTS}\n\nmessage Event {\n${fields}\n}`);
const ALL_WKT_FIELDS = `  google.protobuf.Any payload = 1;
  google.protobuf.Duration ttl = 2;
  google.protobuf.Empty nothing = 3;
  google.protobuf.FieldMask mask = 4;
  google.protobuf.Struct attributes = 5;
  google.protobuf.Timestamp at = 6;
  google.protobuf.Int32Value count = 7;
  google.protobuf.StringValue label = 8;
  google.protobuf.Value value = 9;`;

const CASES: Case[] = [
  // --- compatible: the guide's safe changes -------------------------------------------------
  {
    rule: "compatible",
    name: "identical schemas",
    reader: order3("  string id = 1;\n  int32 qty = 2;"),
    writer: order3("  string id = 1;\n  int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a field added in the reader reads as its default",
    reader: order3("  string id = 1;\n  int32 qty = 2;\n  string note = 3;"),
    writer: order3("  string id = 1;\n  int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a field the writer appended is an unknown field to the reader",
    reader: order3("  string id = 1;\n  int32 qty = 2;"),
    writer: order3("  string id = 1;\n  int32 qty = 2;\n  string note = 3;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a field renamed with the same number and type",
    reader: order3("  string reference = 1;"),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "int32 widened to int64",
    reader: order3("  int64 qty = 2;"),
    writer: order3("  int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "int64 read as int32 (truncated, as the guide accepts)",
    reader: order3("  int32 qty = 2;"),
    writer: order3("  int64 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "uint32 read as bool",
    reader: order3("  bool flag = 2;"),
    writer: order3("  uint32 flag = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "uint64 read as int32",
    reader: order3("  int32 qty = 2;"),
    writer: order3("  uint64 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "sint32 widened to sint64",
    reader: order3("  sint64 delta = 2;"),
    writer: order3("  sint32 delta = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "sfixed32 read as fixed32",
    reader: order3("  fixed32 code = 2;"),
    writer: order3("  sfixed32 code = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "fixed64 read as sfixed64",
    reader: order3("  sfixed64 code = 2;"),
    writer: order3("  fixed64 code = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "string read as bytes",
    reader: order3("  bytes payload = 2;"),
    writer: order3("  string payload = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an embedded message read as bytes",
    reader: order3("  bytes address = 2;", ADDRESS),
    writer: order3("  Address address = 2;", ADDRESS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "int32 read as an enum",
    reader: order3("  Status status = 2;", STATUS),
    writer: order3("  int32 status = 2;", STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum read as int64",
    reader: order3("  int64 status = 2;", STATUS),
    writer: order3("  Status status = 2;", STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum read as uint32",
    reader: order3("  uint32 status = 2;", STATUS),
    writer: order3("  Status status = 2;", STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a singular string read as repeated",
    reader: order3("  repeated string tags = 2;"),
    writer: order3("  string tags = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a singular int32 read as a packed repeated field",
    reader: order3("  repeated int32 ids = 2;"),
    writer: order3("  int32 ids = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a singular message read as repeated",
    reader: order3("  repeated Address addresses = 2;", ADDRESS),
    writer: order3("  Address addresses = 2;", ADDRESS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "packed turned off (parsers accept both encodings)",
    reader: order3("  repeated int32 ids = 2 [packed = false];"),
    writer: order3("  repeated int32 ids = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "json_name changed (binary wire unaffected)",
    reader: order3('  string id = 1 [json_name = "orderId"];'),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a field marked deprecated",
    reader: order3("  string id = 1 [deprecated = true];"),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a field removed with its number and name reserved",
    reader: order3('  string id = 1;\n  reserved 2;\n  reserved "qty";\n  string note = 3;'),
    writer: order3("  string id = 1;\n  int32 qty = 2;\n  string note = 3;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto2 required relaxed to optional in the reader",
    reader: order2("  optional string id = 1;"),
    writer: order2("  required string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto3 optional dropped in the reader",
    reader: order3("  int32 qty = 2;"),
    writer: order3("  optional int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto3 optional added in the reader (presence is not on the wire)",
    reader: order3("  optional int32 qty = 2;"),
    writer: order3("  int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto3 optional on a message field",
    reader: order3("  optional Address address = 2;", ADDRESS),
    writer: order3("  Address address = 2;", ADDRESS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "one existing field moved into a new oneof",
    reader: order3("  oneof key {\n    string id = 1;\n  }\n  int32 qty = 2;"),
    writer: order3("  string id = 1;\n  int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a oneof renamed with the same members",
    reader: order3("  oneof method {\n    string card = 3;\n    string iban = 4;\n  }"),
    writer: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a oneof dissolved, its fields kept (the writer still sets at most one)",
    reader: order3("  string card = 3;\n  string iban = 4;"),
    writer: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a oneof split in two (the writer still sets at most one)",
    reader: order3(
      "  oneof card_payment {\n    string card = 3;\n  }\n  oneof bank_payment {\n    string iban = 4;\n  }",
    ),
    writer: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a new oneof gathering one existing field and a new one",
    reader: order3("  oneof contact {\n    string email = 2;\n    string phone = 5;\n  }"),
    writer: order3("  string email = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum value added in the reader",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_LOST = 3; }"),
    writer: proto3(STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum value renamed (the number is what travels)",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_CLOSED = 2; }"),
    writer: proto3(STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum alias added with allow_alias",
    reader: proto3(
      "enum Status { option allow_alias = true; STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_CLOSED = 2; }",
    ),
    writer: proto3(STATUS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum alias dropped while its number stays",
    reader: proto3(STATUS),
    writer: proto3(
      "enum Status { option allow_alias = true; STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_CLOSED = 2; }",
    ),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a nested message gains a field",
    reader: order3("  message Line { string sku = 1; int32 qty = 2; }\n  repeated Line lines = 2;"),
    writer: order3("  message Line { string sku = 1; }\n  repeated Line lines = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a message added in the reader",
    reader: order3("  string id = 1;", "message Refund { string id = 1; }"),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an enum added in the reader",
    reader: order3("  string id = 1;", STATUS),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "comments and whitespace only",
    reader:
      '// Orders.\nsyntax = "proto3";\npackage acme;\n/* The order. */\nmessage   Order {\n  string id = 1; // its id\n}\n',
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "declaration order of messages, fields and enum values",
    reader: proto3(
      "enum Status { STATUS_DONE = 2; STATUS_UNKNOWN = 0; STATUS_OPEN = 1; }\nmessage Order { Status status = 2; string id = 1; }",
    ),
    writer: proto3(`message Order { string id = 1; Status status = 2; }\n${STATUS}`),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a map's value widened from int32 to int64",
    reader: order3("  map<string, int64> counts = 2;"),
    writer: order3("  map<string, int32> counts = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a map's key widened from int32 to int64",
    reader: order3("  map<int64, string> names = 2;"),
    writer: order3("  map<int32, string> names = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a map's message value gains a field",
    reader: order3("  message Item { string sku = 1; int32 qty = 2; }\n  map<string, Item> items = 2;"),
    writer: order3("  message Item { string sku = 1; }\n  map<string, Item> items = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto2: an optional field with a default added in the reader",
    reader: order2("  optional string id = 1;\n  optional int32 qty = 2 [default = 1];"),
    writer: order2("  optional string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto2: [default = 0] is the implicit default",
    reader: order2("  optional int32 qty = 2 [default = 0];"),
    writer: order2("  optional int32 qty = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto2: a group unchanged",
    reader: order2("  optional group Result = 1 {\n    optional string url = 2;\n  }"),
    writer: order2("  optional group Result = 1 {\n    optional string url = 2;\n  }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a fully qualified type name for the same type",
    reader: order3("  message Item { string sku = 1; }\n  .acme.Order.Item item = 2;"),
    writer: order3("  message Item { string sku = 1; }\n  Item item = 2;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a service added (services are not data)",
    reader: order3("  string id = 1;", "service Orders { rpc Get(Order) returns (Order); }"),
    writer: order3("  string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a reader field above a range the writer reserves",
    reader: order3("  string id = 1;\n  string note = 30;"),
    writer: order3("  string id = 1;\n  reserved 10 to 20;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "no package on either side",
    reader: 'syntax = "proto3";\nmessage Order { string id = 1; int64 qty = 2; }\n',
    writer: 'syntax = "proto3";\nmessage Order { string id = 1; int32 qty = 2; }\n',
    expect: [],
  },
  {
    rule: "compatible",
    name: "no syntax statement is proto2",
    reader: "package acme;\nmessage Order { optional string id = 1; }\n",
    writer: order2("  optional string id = 1;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "edition 2023 with a field added",
    reader: edition("message Order { string id = 1; int32 qty = 2; }"),
    writer: edition("message Order { string id = 1; }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "edition 2023: implicit presence in the writer, explicit in the reader",
    reader: edition("message Order { int32 qty = 2; }"),
    writer: edition("message Order { int32 qty = 2 [features.field_presence = IMPLICIT]; }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a recursive message gains a field",
    reader: proto3("message Node { string name = 1; repeated Node children = 2; int32 depth = 3; }"),
    writer: proto3("message Node { string name = 1; repeated Node children = 2; }"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "proto2: an extension added (extensions are not compared)",
    reader: order2(
      "  optional string id = 1;\n  extensions 100 to 199;",
      "extend Order { optional string tag = 100; }",
    ),
    writer: order2("  optional string id = 1;\n  extensions 100 to 199;"),
    expect: [],
  },

  // --- compatible: well-known types and references ------------------------------------------
  {
    rule: "compatible",
    name: "google.protobuf.Timestamp on both sides",
    reader: proto3(
      'import "google/protobuf/timestamp.proto";\nmessage Order { google.protobuf.Timestamp at = 1; }',
    ),
    writer: proto3(
      'import "google/protobuf/timestamp.proto";\nmessage Order { google.protobuf.Timestamp at = 1; }',
    ),
    expect: [],
  },
  {
    rule: "compatible",
    name: "every well-known type import resolves and compares by name",
    reader: wkt(`${ALL_WKT_FIELDS}\n  string added = 10;`),
    writer: wkt(ALL_WKT_FIELDS),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a well-known message read as bytes",
    reader: wkt("  bytes at = 6;"),
    writer: wkt("  google.protobuf.Timestamp at = 6;"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an imported message, the same reference on both sides",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: common(COMMON_V1),
    writerReferences: common(COMMON_V1),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an imported message gains a field",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: common(COMMON_V2),
    writerReferences: common(COMMON_V1),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an import the reader cannot resolve is matched by type name",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    writerReferences: common(COMMON_V1),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a message of an imported file that the schema does not use",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: common(COMMON_V1),
    writerReferences: common(COMMON_EXTRA),
    expect: [],
  },
  {
    rule: "compatible",
    name: "an imported enum moved to another file, same short name and values",
    reader: proto3('import "acme/types.proto";\nmessage Order { types.Status status = 1; }'),
    writer: proto3('import "acme/common.proto";\nmessage Order { common.Status status = 1; }'),
    readerReferences: [{ name: "acme/types.proto", content: proto3(STATUS, "acme.types") }],
    writerReferences: common(proto3(STATUS, "acme.common")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "a transitive import (common.proto imports money.proto)",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: [
      { name: "acme/common.proto", content: proto3('import "acme/money.proto";', "acme.common") },
      { name: "acme/money.proto", content: COMMON_V2 },
    ],
    writerReferences: [
      { name: "acme/common.proto", content: proto3('import "acme/money.proto";', "acme.common") },
      { name: "acme/money.proto", content: COMMON_V1 },
    ],
    expect: [],
  },

  // --- syntax and package -------------------------------------------------------------------
  {
    rule: "syntax_changed",
    name: "proto2 data read with proto3",
    reader: proto3("message Order { string id = 1; }"),
    writer: proto2("message Order { optional string id = 1; }"),
    expect: ["syntax_changed"],
    path: "#/syntax",
  },
  {
    rule: "syntax_changed",
    name: "proto3 data read with proto2",
    reader: proto2("message Order { optional string id = 1; }"),
    writer: proto3("message Order { string id = 1; }"),
    expect: ["syntax_changed"],
  },
  {
    rule: "syntax_changed",
    name: "a file without syntax (proto2) against proto3",
    reader: "package acme;\nmessage Order { optional string id = 1; }\n",
    writer: proto3("message Order { string id = 1; }"),
    expect: ["syntax_changed"],
  },
  {
    rule: "syntax_changed",
    name: "proto3 moved to edition 2023",
    reader: edition("message Order { string id = 1; }"),
    writer: proto3("message Order { string id = 1; }"),
    expect: ["syntax_changed"],
  },
  {
    rule: "package_changed",
    name: "the package renamed, everything else equal",
    reader: order3("  string id = 1;\n  Status status = 2;", STATUS).replace(
      "package acme;",
      "package acme.v2;",
    ),
    writer: order3("  string id = 1;\n  Status status = 2;", STATUS),
    expect: ["package_changed"],
    path: "#/package",
  },
  {
    rule: "package_changed",
    name: "a package added",
    reader: order3("  string id = 1;"),
    writer: 'syntax = "proto3";\nmessage Order { string id = 1; }\n',
    expect: ["package_changed"],
  },
  {
    rule: "package_changed",
    name: "the package renamed and a field changed: the field is found under the new name",
    reader: order3("  string id = 1;\n  string qty = 2;").replace("package acme;", "package acme.v2;"),
    writer: order3("  string id = 1;\n  int32 qty = 2;"),
    expect: ["package_changed", "field_type_incompatible"],
  },
  {
    rule: "package_changed",
    name: "the package renamed, nested types referenced by full name",
    reader: proto3("message Order { message Item { string sku = 1; } .shop.Order.Item item = 1; }", "shop"),
    writer: proto3("message Order { message Item { string sku = 1; } .acme.Order.Item item = 1; }"),
    expect: ["package_changed"],
  },

  // --- messages and enums removed -----------------------------------------------------------
  {
    rule: "message_removed",
    name: "a top-level message removed",
    reader: order3("  string id = 1;"),
    writer: order3("  string id = 1;", "message Customer { string email = 1; }"),
    expect: ["message_removed"],
    path: "#/messages/acme.Customer",
  },
  {
    rule: "message_removed",
    name: "a message renamed",
    reader: proto3("message Client { string email = 1; }"),
    writer: proto3("message Customer { string email = 1; }"),
    expect: ["message_removed"],
  },
  {
    rule: "message_removed",
    name: "a nested message removed with its field (reserved)",
    reader: order3('  string id = 1;\n  reserved 2;\n  reserved "line";'),
    writer: order3("  string id = 1;\n  message Line { string sku = 1; }\n  Line line = 2;"),
    expect: ["message_removed"],
    path: "#/messages/acme.Order.Line",
  },
  {
    rule: "message_removed",
    name: "a message the writer added is unknown to the reader (Confluent's reading)",
    reader: order3("  string id = 1;"),
    writer: order3("  string id = 1;", "message Refund { string id = 1; }"),
    expect: ["message_removed"],
  },
  {
    rule: "message_removed",
    name: "a message removed with the field using it, unreserved",
    reader: order3("  string id = 1;\n  int32 qty = 3;"),
    writer: order3("  string id = 1;\n  Address shipping = 2;\n  int32 qty = 3;", ADDRESS),
    expect: ["message_removed", "field_removed_not_reserved"],
  },
  {
    rule: "enum_removed",
    name: "a top-level enum removed with its field (reserved)",
    reader: order3('  string id = 1;\n  reserved 2;\n  reserved "status";'),
    writer: order3("  string id = 1;\n  Status status = 2;", STATUS),
    expect: ["enum_removed"],
    path: "#/enums/acme.Status",
  },
  {
    rule: "enum_removed",
    name: "a nested enum removed, its field now int32",
    reader: order3("  int32 kind = 1;"),
    writer: order3("  enum Kind { KIND_UNKNOWN = 0; KIND_SALE = 1; }\n  Kind kind = 1;"),
    expect: ["enum_removed"],
    path: "#/enums/acme.Order.Kind",
  },

  // --- fields removed, reused, renumbered ---------------------------------------------------
  {
    rule: "field_removed_not_reserved",
    name: "two fields removed without reserving their numbers and names",
    reader: proto3("message Customer { string id = 1; string name = 2; int32 age = 5; }"),
    writer: proto3(
      "message Customer { string id = 1; string name = 2; string email = 3; string phone = 4; int32 age = 5; }",
    ),
    expect: ["field_removed_not_reserved", "field_removed_not_reserved"],
  },
  {
    rule: "field_removed_not_reserved",
    name: "a middle field removed without reserving anything",
    reader: proto3("message Customer { string id = 1; string name = 4; }"),
    writer: proto3("message Customer { string id = 1; string email = 3; string name = 4; }"),
    expect: ["field_removed_not_reserved"],
    path: "#/messages/acme.Customer/fields/3",
  },
  {
    rule: "field_removed_not_reserved",
    name: "a field removed with only its number reserved",
    reader: proto3("message Customer { string id = 1; reserved 3; }"),
    writer: proto3("message Customer { string id = 1; string email = 3; }"),
    expect: ["field_removed_not_reserved"],
  },
  {
    rule: "field_removed_not_reserved",
    name: "a field removed with only its name reserved",
    reader: proto3('message Customer { string id = 1; reserved "email"; }'),
    writer: proto3("message Customer { string id = 1; string email = 3; }"),
    expect: ["field_removed_not_reserved"],
  },
  {
    rule: "field_removed_not_reserved",
    name: "proto2: a required field removed (harmless to read, but unreserved)",
    reader: order2("  optional string id = 1;\n  optional int32 qty = 3;"),
    writer: order2("  optional string id = 1;\n  required string sku = 2;\n  optional int32 qty = 3;"),
    expect: ["field_removed_not_reserved"],
  },
  {
    rule: "field_removed_not_reserved",
    name: "the highest-numbered field removed looks like a writer addition and is not reported",
    reader: proto3("message Customer { string id = 1; }"),
    writer: proto3("message Customer { string id = 1; string email = 3; }"),
    expect: [],
  },
  {
    rule: "field_number_reused",
    name: "a number reused with another name and type",
    reader: proto3("message Customer { string id = 1; string phone = 2; }"),
    writer: proto3("message Customer { string id = 1; int32 age = 2; }"),
    expect: ["field_number_reused"],
    path: "#/messages/acme.Customer/fields/2",
  },
  {
    rule: "field_number_reused",
    name: "a number reused for a field of another message type",
    reader: order3("  Location pickup = 2;", `${ADDRESS}\n${LOCATION}`),
    writer: order3("  Address shipping = 2;", `${ADDRESS}\n${LOCATION}`),
    expect: ["field_number_reused"],
  },
  {
    rule: "field_number_reused",
    name: "a rename together with a wire-compatible type change is a reuse",
    reader: proto3("message Customer { int64 total_cents = 2; }"),
    writer: proto3("message Customer { int32 age = 2; }"),
    expect: ["field_number_reused"],
  },
  {
    rule: "field_number_changed",
    name: "two fields of the same type swapped their numbers",
    reader: proto3("message Customer { string last_name = 1; string first_name = 2; }"),
    writer: proto3("message Customer { string first_name = 1; string last_name = 2; }"),
    expect: ["field_number_changed", "field_number_changed"],
  },
  {
    rule: "field_number_changed",
    name: "a field moved to another number",
    reader: proto3("message Customer { string id = 1; string email = 4; }"),
    writer: proto3("message Customer { string id = 1; string email = 3; }"),
    expect: ["field_number_changed"],
    path: "#/messages/acme.Customer/fields/3",
  },

  // --- field types --------------------------------------------------------------------------
  {
    rule: "field_type_incompatible",
    name: "int32 read as string",
    reader: order3("  string qty = 2;"),
    writer: order3("  int32 qty = 2;"),
    expect: ["field_type_incompatible"],
    path: "#/messages/acme.Order/fields/2",
  },
  {
    rule: "field_type_incompatible",
    name: "fixed32 read as int32",
    reader: order3("  int32 code = 2;"),
    writer: order3("  fixed32 code = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "sint32 read as int32 (zigzag is not plain varint)",
    reader: order3("  int32 delta = 2;"),
    writer: order3("  sint32 delta = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "float read as double",
    reader: order3("  double price = 2;"),
    writer: order3("  float price = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "fixed32 read as float (same wire type, other meaning)",
    reader: order3("  float price = 2;"),
    writer: order3("  fixed32 price = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "double read as fixed64",
    reader: order3("  fixed64 price = 2;"),
    writer: order3("  double price = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "string read as int64",
    reader: order3("  int64 ref = 2;"),
    writer: order3("  string ref = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a message read as string",
    reader: order3("  string address = 2;", ADDRESS),
    writer: order3("  Address address = 2;", ADDRESS),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "string read as a message",
    reader: order3("  Address address = 2;", ADDRESS),
    writer: order3("  string address = 2;", ADDRESS),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "int32 read as bytes",
    reader: order3("  bytes qty = 2;"),
    writer: order3("  int32 qty = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "an enum read as bool (the guide pairs enums with the integer types only)",
    reader: order3("  bool status = 2;", STATUS),
    writer: order3("  Status status = 2;", STATUS),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "sint32 read as an enum",
    reader: order3("  Status status = 2;", STATUS),
    writer: order3("  sint32 status = 2;", STATUS),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a map's key changed from string to int32",
    reader: order3("  map<int32, string> names = 2;"),
    writer: order3("  map<string, string> names = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a map's value changed from int32 to string",
    reader: order3("  map<string, string> counts = 2;"),
    writer: order3("  map<string, int32> counts = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a map read as a repeated message",
    reader: order3("  message Entry { string key = 1; int32 value = 2; }\n  repeated Entry counts = 2;"),
    writer: order3("  message Entry { string key = 1; int32 value = 2; }\n  map<string, int32> counts = 2;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "proto2: a group read as a message (start/end-group tags are not length-delimited)",
    reader: order2("  message Result { optional string url = 2; }\n  optional Result result = 1;"),
    writer: order2("  optional group Result = 1 {\n    optional string url = 2;\n  }"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a well-known Struct read as string",
    reader: wkt("  string attributes = 5;"),
    writer: wkt("  google.protobuf.Struct attributes = 5;"),
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "an imported message's field changed incompatibly",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: common(COMMON_V3),
    writerReferences: common(COMMON_V1),
    expect: ["field_type_incompatible"],
    path: "#/messages/acme.common.Money/fields/2",
  },
  {
    rule: "field_type_incompatible",
    name: "a change in a transitively imported file",
    reader: WITH_MONEY,
    writer: WITH_MONEY,
    readerReferences: [
      { name: "acme/common.proto", content: proto3('import "acme/money.proto";', "acme.common") },
      { name: "acme/money.proto", content: COMMON_V3 },
    ],
    writerReferences: [
      { name: "acme/common.proto", content: proto3('import "acme/money.proto";', "acme.common") },
      { name: "acme/money.proto", content: COMMON_V1 },
    ],
    expect: ["field_type_incompatible"],
  },
  {
    rule: "field_type_incompatible",
    name: "a field three levels down",
    reader: order3(
      "  message Line {\n    message Tax { string rate = 1; }\n    Tax tax = 1;\n  }\n  Line line = 1;",
    ),
    writer: order3(
      "  message Line {\n    message Tax { double rate = 1; }\n    Tax tax = 1;\n  }\n  Line line = 1;",
    ),
    expect: ["field_type_incompatible"],
    path: "#/messages/acme.Order.Line.Tax/fields/1",
  },
  {
    rule: "field_type_incompatible",
    name: "proto2: a field inside a group",
    reader: order2("  optional group Result = 1 {\n    optional string url = 2;\n  }"),
    writer: order2("  optional group Result = 1 {\n    optional int32 url = 2;\n  }"),
    expect: ["field_type_incompatible"],
    path: "#/messages/acme.Order.Result/fields/2",
  },
  {
    rule: "field_type_incompatible",
    name: "a map's message value changed incompatibly",
    reader: order3("  message Item { string qty = 2; }\n  map<string, Item> items = 2;"),
    writer: order3("  message Item { int32 qty = 2; }\n  map<string, Item> items = 2;"),
    expect: ["field_type_incompatible"],
    path: "#/messages/acme.Order.Item/fields/2",
  },
  {
    rule: "field_bytes_read_as_string",
    name: "bytes read as string (not necessarily UTF-8)",
    reader: order3("  string payload = 2;"),
    writer: order3("  bytes payload = 2;"),
    expect: ["field_bytes_read_as_string"],
  },
  {
    rule: "field_bytes_read_as_string",
    name: "a map's bytes values read as string",
    reader: order3("  map<string, string> blobs = 2;"),
    writer: order3("  map<string, bytes> blobs = 2;"),
    expect: ["field_bytes_read_as_string"],
  },
  {
    rule: "field_bytes_read_as_message",
    name: "bytes read as an embedded message",
    reader: order3("  Address address = 2;", ADDRESS),
    writer: order3("  bytes address = 2;", ADDRESS),
    expect: ["field_bytes_read_as_message"],
  },
  {
    rule: "field_message_type_changed",
    name: "a field switched to another message",
    reader: order3("  Location shipping = 2;", `${ADDRESS}\n${LOCATION}`),
    writer: order3("  Address shipping = 2;", `${ADDRESS}\n${LOCATION}`),
    expect: ["field_message_type_changed"],
  },
  {
    rule: "field_message_type_changed",
    name: "a message renamed along with the field using it",
    reader: order3("  Location shipping = 2;", LOCATION),
    writer: order3("  Address shipping = 2;", ADDRESS),
    expect: ["field_message_type_changed", "message_removed"],
  },
  {
    rule: "field_message_type_changed",
    name: "google.protobuf.Timestamp switched to Duration",
    reader: wkt("  google.protobuf.Duration at = 6;"),
    writer: wkt("  google.protobuf.Timestamp at = 6;"),
    expect: ["field_message_type_changed"],
  },
  {
    rule: "field_message_type_changed",
    name: "Int32Value wrapper switched to Int64Value",
    reader: wkt("  google.protobuf.Int64Value count = 7;"),
    writer: wkt("  google.protobuf.Int32Value count = 7;"),
    expect: ["field_message_type_changed"],
  },
  {
    rule: "field_enum_type_changed",
    name: "a field switched to another enum",
    reader: order3("  Phase status = 2;", `${STATUS}\n${PHASE}`),
    writer: order3("  Status status = 2;", `${STATUS}\n${PHASE}`),
    expect: ["field_enum_type_changed"],
  },
  {
    rule: "field_enum_type_changed",
    name: "an imported enum moved and missing a value",
    reader: proto3('import "acme/types.proto";\nmessage Order { types.Status status = 1; }'),
    writer: proto3('import "acme/common.proto";\nmessage Order { common.Status status = 1; }'),
    readerReferences: [
      {
        name: "acme/types.proto",
        content: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; }", "acme.types"),
      },
    ],
    writerReferences: common(proto3(STATUS, "acme.common")),
    expect: ["field_enum_type_changed"],
  },

  // --- cardinality, required, defaults ------------------------------------------------------
  {
    rule: "field_cardinality_changed",
    name: "repeated int32 read as singular (packed data does not parse)",
    reader: order3("  int32 ids = 2;"),
    writer: order3("  repeated int32 ids = 2;"),
    expect: ["field_cardinality_changed"],
  },
  {
    rule: "field_cardinality_changed",
    name: "repeated string read as singular (all but the last lost)",
    reader: order3("  string tags = 2;"),
    writer: order3("  repeated string tags = 2;"),
    expect: ["field_cardinality_changed"],
  },
  {
    rule: "field_cardinality_changed",
    name: "repeated message read as singular (merged into one)",
    reader: order3("  Address addresses = 2;", ADDRESS),
    writer: order3("  repeated Address addresses = 2;", ADDRESS),
    expect: ["field_cardinality_changed"],
  },
  {
    rule: "field_cardinality_changed",
    name: "proto2: unpacked repeated read as optional",
    reader: order2("  optional int32 ids = 2;"),
    writer: order2("  repeated int32 ids = 2;"),
    expect: ["field_cardinality_changed"],
  },
  {
    rule: "required_field_added",
    name: "proto2: a required field added in the reader",
    reader: order2("  optional string id = 1;\n  required string sku = 2;"),
    writer: order2("  optional string id = 1;"),
    expect: ["required_field_added"],
    path: "#/messages/acme.Order/fields/2",
  },
  {
    rule: "required_field_added",
    name: "proto2: an optional field made required",
    reader: order2("  required string id = 1;"),
    writer: order2("  optional string id = 1;"),
    expect: ["required_field_added"],
  },
  {
    rule: "required_field_added",
    name: "proto2: a repeated field made required",
    reader: order2("  required string tags = 2;"),
    writer: order2("  repeated string tags = 2;"),
    expect: ["field_cardinality_changed", "required_field_added"],
  },
  {
    rule: "field_default_changed",
    name: "proto2: a default changed",
    reader: order2("  optional int32 limit = 2 [default = 10];"),
    writer: order2("  optional int32 limit = 2 [default = 20];"),
    expect: ["field_default_changed"],
  },
  {
    rule: "field_default_changed",
    name: "proto2: a default added in the reader",
    reader: order2('  optional string currency = 2 [default = "EUR"];'),
    writer: order2("  optional string currency = 2;"),
    expect: ["field_default_changed"],
  },
  {
    rule: "field_default_changed",
    name: "proto2: an enum field's default changed",
    reader: order2("  optional Status status = 2 [default = STATUS_OPEN];", STATUS),
    writer: order2("  optional Status status = 2;", STATUS),
    expect: ["field_default_changed"],
  },
  {
    rule: "field_default_changed",
    name: "edition 2023: an implicit zero read by a field defaulting to 5",
    reader: edition("message Order { int32 qty = 2 [default = 5]; }"),
    writer: edition("message Order { int32 qty = 2 [features.field_presence = IMPLICIT]; }"),
    expect: ["field_default_changed"],
  },

  // --- oneofs -------------------------------------------------------------------------------
  {
    rule: "field_moved_into_oneof",
    name: "two existing fields moved into a new oneof",
    reader: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    writer: order3("  string card = 3;\n  string iban = 4;"),
    expect: ["field_moved_into_oneof", "field_moved_into_oneof"],
    path: "#/messages/acme.Order/oneofs/payment",
  },
  {
    rule: "field_moved_into_oneof",
    name: "an existing field moved into an existing oneof",
    reader: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    writer: order3("  oneof payment {\n    string card = 3;\n  }\n  string iban = 4;"),
    expect: ["field_moved_into_oneof"],
  },
  {
    rule: "field_moved_into_oneof",
    name: "a proto3 optional field moved into an existing oneof",
    reader: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    writer: order3("  oneof payment {\n    string card = 3;\n  }\n  optional string iban = 4;"),
    expect: ["field_moved_into_oneof"],
  },
  {
    rule: "field_moved_between_oneofs",
    name: "two oneofs merged into one",
    reader: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    writer: order3("  oneof payment {\n    string card = 3;\n  }\n  oneof bank {\n    string iban = 4;\n  }"),
    expect: ["field_moved_between_oneofs"],
    path: "#/messages/acme.Order/oneofs/payment",
  },
  {
    rule: "field_moved_between_oneofs",
    name: "a reader oneof gathering members of two writer oneofs and a third field",
    reader: order3(
      "  oneof payment {\n    string card = 3;\n    string iban = 4;\n    string wallet = 5;\n  }",
    ),
    writer: order3(
      "  oneof payment {\n    string card = 3;\n  }\n  oneof bank {\n    string iban = 4;\n  }\n  string wallet = 5;",
    ),
    expect: ["field_moved_between_oneofs", "field_moved_into_oneof"],
  },
  {
    rule: "oneof_field_removed",
    name: "a member removed from a oneof",
    reader: order3('  oneof payment {\n    string card = 3;\n  }\n  reserved 4;\n  reserved "iban";'),
    writer: order3("  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    expect: ["oneof_field_removed"],
    path: "#/messages/acme.Order/oneofs/payment",
  },
  {
    rule: "oneof_field_removed",
    name: "a member the writer added to an existing oneof",
    reader: order3("  oneof payment {\n    string card = 3;\n  }"),
    writer: order3("  oneof payment {\n    string card = 3;\n    string wallet = 8;\n  }"),
    expect: ["oneof_field_removed"],
  },
  {
    rule: "oneof_field_removed",
    name: "a whole oneof removed with its fields reserved is no oneof violation",
    reader: order3('  string id = 1;\n  reserved 3, 4;\n  reserved "card", "iban";'),
    writer: order3("  string id = 1;\n  oneof payment {\n    string card = 3;\n    string iban = 4;\n  }"),
    expect: [],
  },

  // --- reserved numbers and names -----------------------------------------------------------
  {
    rule: "reserved_number_reused",
    name: "a reader field on a number the writer reserves",
    reader: order3("  string id = 1;\n  string note = 4;"),
    writer: order3("  string id = 1;\n  reserved 4;"),
    expect: ["reserved_number_reused"],
    path: "#/messages/acme.Order/fields/4",
  },
  {
    rule: "reserved_number_reused",
    name: "a reader field inside a reserved range",
    reader: order3("  string id = 1;\n  string note = 15;"),
    writer: order3("  string id = 1;\n  reserved 10 to 20;"),
    expect: ["reserved_number_reused"],
  },
  {
    rule: "reserved_number_reused",
    name: "a reader field inside a range reserved to max",
    reader: order3("  string id = 1;\n  string note = 1000;"),
    writer: order3("  string id = 1;\n  reserved 100 to max;"),
    expect: ["reserved_number_reused"],
  },
  {
    rule: "reserved_number_reused",
    name: "the writer retired exactly this field (number and name reserved) is not a reuse",
    reader: order3("  string id = 1;\n  string legacy = 5;"),
    writer: order3('  string id = 1;\n  reserved 5;\n  reserved "legacy";'),
    expect: [],
  },
  {
    rule: "reserved_number_reused",
    name: "an enum value on a number the writer reserves",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_HELD = 3; }"),
    writer: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; reserved 3; }"),
    expect: ["reserved_number_reused"],
    path: "#/enums/acme.Status/values/3",
  },
  {
    rule: "reserved_name_reused",
    name: "a reader field named as the writer reserves",
    reader: order3("  string id = 1;\n  string legacy = 9;"),
    writer: order3('  string id = 1;\n  reserved "legacy";'),
    expect: ["reserved_name_reused"],
  },
  {
    rule: "reserved_name_reused",
    name: "an enum value named as the writer reserves",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_HELD = 4; }"),
    writer: proto3('enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; reserved "STATUS_HELD"; }'),
    expect: ["reserved_name_reused"],
  },

  // --- enum values --------------------------------------------------------------------------
  {
    rule: "enum_value_removed",
    name: "an enum value removed",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; }"),
    writer: proto3(STATUS),
    expect: ["enum_value_removed"],
    path: "#/enums/acme.Status/values/2",
  },
  {
    rule: "enum_value_removed",
    name: "an enum value removed even when reserved (consumers still meet it)",
    reader: proto3(
      'enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; reserved 2; reserved "STATUS_DONE"; }',
    ),
    writer: proto3(STATUS),
    expect: ["enum_value_removed"],
  },
  {
    rule: "enum_value_removed",
    name: "proto2: a closed enum's value removed",
    reader: proto2("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; }"),
    writer: proto2(STATUS),
    expect: ["enum_value_removed"],
  },
  {
    rule: "enum_value_removed",
    name: "a value the writer added is unknown to the reader",
    reader: proto3(STATUS),
    writer: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_LOST = 3; }"),
    expect: ["enum_value_removed"],
  },
  {
    rule: "enum_value_removed",
    name: "a nested enum's value removed",
    reader: order3("  enum Kind { KIND_UNKNOWN = 0; }\n  Kind kind = 1;"),
    writer: order3("  enum Kind { KIND_UNKNOWN = 0; KIND_SALE = 1; }\n  Kind kind = 1;"),
    expect: ["enum_value_removed"],
    path: "#/enums/acme.Order.Kind/values/1",
  },
  {
    rule: "enum_value_number_changed",
    name: "two enum values swapped their numbers",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_DONE = 1; STATUS_OPEN = 2; }"),
    writer: proto3(STATUS),
    expect: ["enum_value_number_changed", "enum_value_number_changed"],
  },
  {
    rule: "enum_value_number_changed",
    name: "an alias moved while another name keeps the number is still read",
    reader: proto3(
      "enum Status { option allow_alias = true; STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_CLOSED = 1; }",
    ),
    writer: proto3(
      "enum Status { option allow_alias = true; STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 2; STATUS_CLOSED = 2; }",
    ),
    expect: [],
  },
  {
    rule: "enum_value_number_changed",
    name: "an enum value renumbered",
    reader: proto3("enum Status { STATUS_UNKNOWN = 0; STATUS_OPEN = 1; STATUS_DONE = 3; }"),
    writer: proto3(STATUS),
    expect: ["enum_value_number_changed"],
    path: "#/enums/acme.Status/values/2",
  },
];

const prepare = (content: string, references?: References): ProtobufPrepared =>
  protobufRules.prepare(references ? { content, references } : { content });

describe("Protobuf readerViolations", () => {
  for (const c of CASES) {
    test(`${c.rule}: ${c.name}`, () => {
      const violations = protobufRules.readerViolations(
        prepare(c.reader, c.readerReferences),
        prepare(c.writer, c.writerReferences),
      );
      expect(violations.map((v) => v.rule).sort()).toEqual([...c.expect].sort());
      for (const v of violations) {
        expect(v.path).toMatch(
          /^#\/(syntax|package|messages\/[\w.]+(\/(fields|oneofs)\/\w+)?|enums\/[\w.]+(\/values\/-?\d+)?)$/,
        );
        expect(v.message).toMatch(/^[A-Z].{40,}\.$/s);
        expect(RULES[v.rule]).toBeString();
      }
      if (c.path) expect(violations[0]?.path).toBe(c.path);
    });
  }

  test("the table is large and covers every rule", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(110);
    expect(CASES.filter((c) => c.expect.length === 0).length).toBeGreaterThanOrEqual(50);
    const emitted = new Set(CASES.flatMap((c) => c.expect));
    expect([...emitted].filter((rule) => !(rule in RULES))).toEqual([]);
    expect(Object.keys(RULES).filter((rule) => !emitted.has(rule))).toEqual([]);
    for (const c of CASES) expect(c.rule === "compatible" || c.rule in RULES).toBe(true);
  });

  test("messages name the field by number and name, the message, both sides and the fix", () => {
    const [removed] = protobufRules.readerViolations(
      prepare(proto3("message Customer { string id = 1; string name = 4; }")),
      prepare(proto3("message Customer { string id = 1; string email = 3; string name = 4; }")),
      { reader: "the new schema", writer: "version 1.2.0" },
    );
    expect(removed?.message).toBe(
      'Field 3 "email" of acme.Customer was removed in the new schema without reserving its number and name: ' +
        'add `reserved 3; reserved "email";` so it is never reused.',
    );
    const [changed] = protobufRules.readerViolations(
      prepare(order3("  string qty = 2;")),
      prepare(order3("  int32 qty = 2;")),
    );
    expect(changed?.message).toContain(
      'Field 2 "qty" of acme.Order is string in the reader schema but int32 in',
    );
    expect(changed?.message).toContain("the writer schema");
  });

  test("comparing does not change the prepared forms", () => {
    const reader = prepare(order3("  string qty = 2;\n  repeated int32 ids = 3;"));
    const writer = prepare(order3("  int32 qty = 2;\n  repeated int32 ids = 3;\n  bytes extra = 4;"));
    const first = protobufRules.readerViolations(reader, writer);
    expect(protobufRules.readerViolations(reader, writer)).toEqual(first);
    expect(protobufRules.sameMeaning(reader, writer)).toBe(false);
    expect(protobufRules.readerViolations(reader, writer)).toEqual(first);
  });
});

describe("Protobuf prepare", () => {
  test("parses the schema, its references and well-known imports into indexed messages", () => {
    const prepared = prepare(
      proto3(
        `import "acme/common.proto";\n${WKT_IMPORTS}\nmessage Order {\n  common.Money total = 1;\n  google.protobuf.Timestamp at = 2;\n  message Line { string sku = 1; }\n}`,
      ),
      common(COMMON_V1),
    );
    expect(prepared.syntax).toBe("proto3");
    expect(prepared.package).toBe("acme");
    expect([...prepared.messages.keys()].sort()).toEqual([
      "acme.Order",
      "acme.Order.Line",
      "acme.common.Money",
      "google.protobuf.Timestamp",
    ]);
    expect(prepared.messages.get("acme.Order")?.fields.get(1)?.type).toEqual({
      kind: "message",
      name: "acme.common.Money",
    });
  });

  test("puts protobufjs back as it found it, even when parsing fails", () => {
    const add = Type.prototype.add;
    expect(() => prepare('syntax = "proto3";\nmessage Order { string id = ; }')).toThrow();
    expect(Type.prototype.add).toBe(add);
    prepare(order3("  string id = 1;"));
    expect(Type.prototype.add).toBe(add);
  });

  test("a 200-field schema against 50 versions, both directions, stays well within budget", () => {
    const types = ["int32", "string", "int64", "bool", "bytes", "double", "Order.Line", "Status"];
    const version = (n: number): string => {
      const fields: string[] = [];
      for (let i = 1; i <= 200; i++) {
        if (i === 7 + n) fields.push(`  reserved ${i};`);
        else fields.push(`  ${i % 5 === 0 ? "repeated " : ""}${types[i % types.length]} field_${i} = ${i};`);
      }
      for (let j = 0; j < n; j++) fields.push(`  string added_${j} = ${300 + j};`);
      return order3(`  message Line { string sku = 1; int32 qty = 2; }\n${fields.join("\n")}`, STATUS);
    };
    const sources = Array.from({ length: 51 }, (_, n) => version(n));
    // Warmed up first, so that the bound measures the work rather than the JIT compiling protobufjs.
    for (const source of sources.slice(0, 5))
      protobufRules.readerViolations(prepare(source), prepare(source));
    // Processor time rather than wall time, so that other processes sharing the machine do not count.
    const started = process.cpuUsage();
    const [candidate, ...previous] = sources.map((source) => prepare(source)).reverse();
    for (const old of previous) {
      protobufRules.readerViolations(candidate!, old);
      protobufRules.readerViolations(old, candidate!);
    }
    const used = process.cpuUsage(started);
    // About 35-45 ms on an idle machine, three quarters of it protobufjs parsing; the bound catches blow-ups.
    expect((used.user + used.system) / 1000).toBeLessThan(500);
  });
});

describe("Protobuf sameMeaning", () => {
  const base = order3(
    '  string id = 1;\n  Status status = 2;\n  repeated int32 ids = 3;\n  reserved 5, 6;\n  reserved "old";',
    STATUS,
  );
  const same = (a: string, b: string, aRefs?: References, bRefs?: References): boolean =>
    protobufRules.sameMeaning(prepare(a, aRefs), prepare(b, bRefs));

  const EQUAL: [string, string][] = [
    ["identical text", base],
    [
      "comments and whitespace",
      `// Orders.\n${base.replace("string id = 1;", "string   id = 1; // the id")}`,
    ],
    [
      "message and enum order",
      proto3(
        `${STATUS}\nmessage Order {\n  string id = 1;\n  Status status = 2;\n  repeated int32 ids = 3;\n  reserved 5, 6;\n  reserved "old";\n}`,
      ),
    ],
    [
      "field order",
      order3(
        '  repeated int32 ids = 3;\n  string id = 1;\n  Status status = 2;\n  reserved 5, 6;\n  reserved "old";',
        STATUS,
      ),
    ],
    ["deprecated option", base.replace("string id = 1;", "string id = 1 [deprecated = true];")],
    ["custom options", base.replace("string id = 1;", 'string id = 1 [(acme.doc) = "the id"];')],
    ["file options", base.replace("package acme;", 'package acme;\noption java_package = "com.acme";')],
    ["reserved ranges written differently", base.replace("reserved 5, 6;", "reserved 5 to 6;")],
    ["json_name equal to the default", base.replace("string id = 1;", 'string id = 1 [json_name = "id"];')],
    [
      "packed = true where proto3 packs anyway",
      base.replace("repeated int32 ids = 3;", "repeated int32 ids = 3 [packed = true];"),
    ],
    ["a fully qualified type name", base.replace("  Status status = 2;", "  .acme.Status status = 2;")],
  ];
  for (const [name, other] of EQUAL) {
    test(`same meaning: ${name}`, () => {
      expect(same(base, other)).toBe(true);
      expect(same(other, base)).toBe(true);
    });
  }

  const DIFFERENT: [string, string][] = [
    ["a field renamed", base.replace("string id = 1;", "string reference = 1;")],
    ["json_name changed", base.replace("string id = 1;", 'string id = 1 [json_name = "ID"];')],
    [
      "packed turned off",
      base.replace("repeated int32 ids = 3;", "repeated int32 ids = 3 [packed = false];"),
    ],
    ["a field's type widened", base.replace("repeated int32 ids = 3;", "repeated int64 ids = 3;")],
    ["a field renumbered", base.replace("string id = 1;", "string id = 4;")],
    ["a field added", base.replace("string id = 1;", "string id = 1;\n  string note = 4;")],
    ["proto3 optional added", base.replace("string id = 1;", "optional string id = 1;")],
    ["a reserved number added", base.replace("reserved 5, 6;", "reserved 5, 6, 9;")],
    ["an enum value added", base.replace("STATUS_DONE = 2;", "STATUS_DONE = 2; STATUS_LOST = 3;")],
    ["an enum value renamed", base.replace("STATUS_DONE", "STATUS_CLOSED")],
    ["the package", base.replace("package acme;", "package acme.v2;")],
    [
      "the syntax",
      base.replace('syntax = "proto3";', 'edition = "2023";').replace('reserved "old";', "reserved old;"),
    ],
    ["a field moved into a oneof", base.replace("  string id = 1;", "  oneof key { string id = 1; }")],
    ["a service method added", `${base}\nservice Orders { rpc Get(Order) returns (Order); }`],
  ];
  for (const [name, other] of DIFFERENT) {
    test(`different meaning: ${name}`, () => {
      expect(same(base, other)).toBe(false);
      expect(same(other, base)).toBe(false);
    });
  }

  test("different meaning: a proto2 default changed", () => {
    expect(
      same(order2("  optional int32 limit = 1 [default = 10];"), order2("  optional int32 limit = 1;")),
    ).toBe(false);
  });

  test("different meaning: an imported message changed, the importing text unchanged", () => {
    expect(same(WITH_MONEY, WITH_MONEY, common(COMMON_V1), common(COMMON_V2))).toBe(false);
    expect(same(WITH_MONEY, WITH_MONEY, common(COMMON_V1), common(COMMON_V1))).toBe(true);
  });
});

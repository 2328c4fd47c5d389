/**
 * `.proto` files for the descriptor round trips: proto2 and proto3, nested
 * types, maps, oneofs, proto3 optional, enums with aliases, reserved
 * ranges and names, defaults, groups, extensions, services, file options,
 * well-known and cross-file imports. `imports` are the files a fixture
 * imports besides the bundled well-known ones.
 */

export interface ProtoFixture {
  name: string;
  source: string;
  imports?: { name: string; content: string }[];
}

const MONEY = `syntax = "proto3";
package acme.common.v1;

message Money {
  string currency_code = 1;
  int64 units = 2;
  int32 nanos = 3;
}

enum Region {
  REGION_UNSPECIFIED = 0;
  REGION_EU = 1;
  REGION_US = 2;
}
`;

const SHARED_TYPES = `syntax = "proto3";
package acme.orders.v1;

message Address {
  string line1 = 1;
  string city = 2;
}
`;

const REEXPORT = `syntax = "proto3";
package acme.orders.v1;

import public "acme/orders/v1/shared.proto";
`;

export const FIXTURES: ProtoFixture[] = [
  {
    name: "order service (proto3, maps, oneof, optional, alias, reserved, streaming)",
    source: `syntax = "proto3";

package acme.orders.v1;

import "google/protobuf/timestamp.proto";

option java_package = "com.acme.orders.v1";
option java_multiple_files = true;
option go_package = "github.com/acme/orders/v1;ordersv1";

// An order as the checkout service emits it.
message Order {
  string order_id = 1;
  google.protobuf.Timestamp created_at = 2;
  map<string, int32> quantities = 3;
  optional string note = 4;
  repeated int32 tags = 5 [packed = false];
  oneof payment {
    string card_token = 6;
    BankTransfer bank = 7;
  }
  Status status = 8;
  map<string, Address> addresses = 9;
  reserved 10, 12 to 15;
  reserved "legacy_total";

  message Address {
    string line1 = 1;
    string postal_code = 2;
  }

  message BankTransfer {
    string iban = 1;
  }

  enum Status {
    option allow_alias = true;
    STATUS_UNSPECIFIED = 0;
    STATUS_PLACED = 1;
    STATUS_CREATED = 1;
    STATUS_SHIPPED = 2;
  }

  string display_name = 11 [json_name = "name"];
  repeated double amounts = 16;
}

message GetOrderRequest {
  string order_id = 1;
}

service OrderService {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc WatchOrders(stream GetOrderRequest) returns (stream Order);
  rpc ExportOrders(GetOrderRequest) returns (stream Order);
  rpc ImportOrders(stream Order) returns (GetOrderRequest);
}
`,
  },
  {
    name: "legacy item (proto2 defaults, group, extensions)",
    source: `syntax = "proto2";

package legacy.catalog;

message Item {
  required int64 id = 1;
  optional string name = 2 [default = "unnamed \\"item\\""];
  optional int32 count = 3 [default = -5];
  repeated int32 values = 4 [packed = true];
  optional Kind kind = 5 [default = KIND_B];
  optional double ratio = 6 [default = 1.5];
  optional bytes raw = 7 [default = "\\001\\377abc\\n"];
  optional group Extra = 8 {
    optional int32 a = 1;
    optional string b = 2;
  }
  extensions 100 to 199;
  enum Kind {
    KIND_A = 1;
    KIND_B = 2;
  }
  optional int64 big = 9 [default = 9223372036854775807];
  optional float share = 10 [default = 0.1];
  optional double ceiling = 11 [default = inf];
  optional double huge = 12 [default = 1e15];
  optional uint64 mask = 13 [default = 0xFFFFFFFFFFFFFFFF];
  optional sint64 low = 14 [default = -9223372036854775808];
  optional bool enabled = 15 [default = true];
  optional double tiny = 16 [default = 0.000012];
  optional float nothing = 17 [default = nan];
  optional fixed32 octal = 18 [default = 017];
}

extend Item {
  optional string ext_name = 100;
  repeated int32 ext_codes = 101;
}
`,
  },
  {
    name: "user profile (deeply nested, repeated messages)",
    source: `syntax = "proto3";

package acme.users.v2;

message UserProfile {
  string user_id = 1;
  Name name = 2;
  repeated Contact contacts = 3;
  Preferences preferences = 4;
  repeated string roles = 5;

  message Name {
    string given = 1;
    string family = 2;
    string display = 3;
  }

  message Contact {
    Kind kind = 1;
    string value = 2;
    bool verified = 3;

    enum Kind {
      KIND_UNSPECIFIED = 0;
      KIND_EMAIL = 1;
      KIND_PHONE = 2;
    }
  }

  message Preferences {
    Locale locale = 1;
    map<string, bool> flags = 2;
    Notifications notifications = 3;

    message Locale {
      string language = 1;
      string region = 2;
    }

    message Notifications {
      bool email = 1;
      bool sms = 2;
      repeated Contact.Kind channels = 3;
    }
  }
}
`,
  },
  {
    name: "event envelope (Any, Struct, Value, NullValue)",
    source: `syntax = "proto3";

package acme.events.v1;

import "google/protobuf/any.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";

message Envelope {
  string id = 1;
  string source = 2;
  string type = 3;
  google.protobuf.Timestamp time = 4;
  google.protobuf.Any payload = 5;
  google.protobuf.Struct attributes = 6;
  map<string, google.protobuf.Value> extensions = 7;
  google.protobuf.NullValue nothing = 8;
}
`,
  },
  {
    name: "wrappers, duration and empty in a service",
    source: `syntax = "proto3";

package acme.billing.v1;

import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/wrappers.proto";

message Plan {
  string plan_id = 1;
  google.protobuf.Int64Value seats = 2;
  google.protobuf.StringValue coupon = 3;
  google.protobuf.Duration trial = 4;
  google.protobuf.BoolValue auto_renew = 5;
  google.protobuf.DoubleValue discount = 6;
  google.protobuf.BytesValue signature = 7;
}

service Billing {
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc GetPlan(google.protobuf.StringValue) returns (Plan);
}
`,
  },
  {
    name: "proto3 without a package",
    source: `syntax = "proto3";

message Ping {
  int64 sent_at_ms = 1;
  bytes nonce = 2;
}

message Pong {
  Ping ping = 1;
  int64 received_at_ms = 2;
}
`,
  },
  {
    name: "proto2 without a package, required and optional",
    source: `syntax = "proto2";

message SensorReading {
  required string sensor_id = 1;
  required fixed64 timestamp_ns = 2;
  optional sfixed32 temperature_centi = 3;
  optional sint32 delta = 4;
  repeated float samples = 5;
  optional Unit unit = 6 [default = CELSIUS];

  enum Unit {
    CELSIUS = 0;
    FAHRENHEIT = 1;
  }
}
`,
  },
  {
    name: "maps of every key kind and enum or message values",
    source: `syntax = "proto3";

package acme.inventory.v1;

message Stock {
  map<int64, Level> by_sku = 1;
  map<bool, string> by_flag = 2;
  map<uint32, Warehouse> warehouses = 3;
  map<sint64, bytes> blobs = 4;
  map<fixed32, double> prices = 5;
  map<string, Stock> children = 6;
  map<sfixed64, int32> counts_by_day = 7;
}

enum Level {
  LEVEL_UNSPECIFIED = 0;
  LEVEL_LOW = 1;
  LEVEL_HIGH = 2;
}

message Warehouse {
  string code = 1;
}
`,
  },
  {
    name: "nested messages declared before and after map fields",
    source: `syntax = "proto3";

package acme.layout.v1;

message Page {
  message Header {
    string title = 1;
  }
  map<string, Header> headers = 1;
  message Footer {
    string text = 1;
  }
  Footer footer = 2;
  map<int32, Footer> footers = 3;
  message Body {
    repeated string paragraphs = 1;
  }
  Body body = 4;
}
`,
  },
  {
    name: "field options: packed, deprecated, json_name, jstype, ctype, lazy",
    source: `syntax = "proto3";

package acme.metrics.v1;

message Series {
  string name = 1 [deprecated = true];
  repeated int64 points = 2 [packed = false, jstype = JS_STRING];
  repeated sint32 deltas = 3 [packed = true];
  string label = 4 [json_name = "seriesLabel"];
  Series parent = 5 [lazy = true];
  string blob = 6 [ctype = CORD];
  int64 total = 7 [jstype = JS_NUMBER, deprecated = true];
}
`,
  },
  {
    name: "top-level enums with aliases, reserved and deprecated values",
    source: `syntax = "proto3";

package acme.codes.v1;

enum ErrorCode {
  option allow_alias = true;
  ERROR_CODE_UNSPECIFIED = 0;
  ERROR_CODE_NOT_FOUND = 1;
  ERROR_CODE_MISSING = 1;
  ERROR_CODE_CONFLICT = 2 [deprecated = true];
  reserved 3, 10 to 20, 100 to max;
  reserved "ERROR_CODE_TIMEOUT", "ERROR_CODE_RETRY";
}

enum Severity {
  option deprecated = true;
  SEVERITY_UNSPECIFIED = 0;
  SEVERITY_LOW = 1;
  SEVERITY_HIGH = 2;
}

message Error {
  ErrorCode code = 1;
  Severity severity = 2;
}
`,
  },
  {
    name: "message reserved up to max, extension ranges (proto2)",
    source: `syntax = "proto2";

package acme.ext.v1;

message Extensible {
  optional string id = 1;
  reserved 2 to 9, 15;
  reserved "old_name", "older_name";
  extensions 100 to 199, 1000 to max;
}

message Other {
  optional int32 x = 1;
  reserved 50 to max;
}
`,
  },
  {
    name: "name shadowing: nested type named like a top-level one",
    source: `syntax = "proto3";

package acme.shadow.v1;

message Item {
  string id = 1;
}

message Cart {
  message Item {
    string sku = 1;
    int32 quantity = 2;
  }
  repeated Item items = 1;
  .acme.shadow.v1.Item featured = 2;
  acme.shadow.v1.Item fallback = 3;
}

message Wishlist {
  repeated Item items = 1;
  repeated Cart.Item saved = 2;
}
`,
  },
  {
    name: "public and weak imports from the same package",
    source: `syntax = "proto3";

package acme.orders.v1;

import public "acme/orders/v1/shared.proto";
import weak "acme/orders/v1/reexport.proto";
import "acme/common/v1/money.proto";

message Shipment {
  Address destination = 1;
  acme.common.v1.Money cost = 2;
  acme.common.v1.Region region = 3;
}
`,
    imports: [
      { name: "acme/orders/v1/shared.proto", content: SHARED_TYPES },
      { name: "acme/orders/v1/reexport.proto", content: REEXPORT },
      { name: "acme/common/v1/money.proto", content: MONEY },
    ],
  },
  {
    name: "cross-package references through an import",
    source: `syntax = "proto3";

package acme.payments.v1;

import "acme/common/v1/money.proto";

message Payment {
  string payment_id = 1;
  acme.common.v1.Money amount = 2;
  map<string, acme.common.v1.Money> fees = 3;
  repeated acme.common.v1.Region regions = 4;
}

service Payments {
  rpc Quote(acme.common.v1.Money) returns (Payment);
}
`,
    imports: [{ name: "acme/common/v1/money.proto", content: MONEY }],
  },
  {
    name: "proto3 optional with synthetic oneof name clashes",
    source: `syntax = "proto3";

package acme.optional.v1;

message Settings {
  optional int32 limit = 1;
  optional string _hidden = 2;
  int32 X_hidden = 3;
  oneof choice {
    string a = 4;
    string b = 5;
  }
  optional bool flag = 6;
  optional Settings parent = 7;
  optional Mode mode = 8;
  int32 plain = 9;

  enum Mode {
    MODE_UNSPECIFIED = 0;
    MODE_ON = 1;
  }
}
`,
  },
  {
    name: "service and method options",
    source: `syntax = "proto3";

package acme.search.v1;

import "google/protobuf/empty.proto";

message Query {
  string text = 1;
  int32 limit = 2;
}

message Results {
  repeated string ids = 1;
}

service Search {
  option deprecated = true;
  rpc Find(Query) returns (Results) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
  rpc Reindex(google.protobuf.Empty) returns (google.protobuf.Empty) {
    option deprecated = true;
    option idempotency_level = IDEMPOTENT;
  }
}
`,
  },
  {
    name: "file options of every common kind",
    source: `syntax = "proto3";

package acme.options.v1;

option java_package = "com.acme.options";
option java_outer_classname = "OptionsProto";
option java_multiple_files = true;
option java_string_check_utf8 = true;
option optimize_for = CODE_SIZE;
option go_package = "acme/options/v1;optionsv1";
option cc_enable_arenas = true;
option objc_class_prefix = "AOP";
option csharp_namespace = "Acme.Options.V1";
option swift_prefix = "AO";
option php_namespace = "Acme\\\\Options\\\\V1";
option ruby_package = "Acme::Options::V1";
option deprecated = true;

message Flag {
  option deprecated = true;
  string key = 1;
}
`,
  },
  {
    name: "proto2 extensions declared inside a message scope and a group extension",
    source: `syntax = "proto2";

package acme.plugins.v1;

message Host {
  optional string name = 1;
  extensions 10 to 99;
}

message Plugin {
  optional string id = 1;
  extend Host {
    optional Plugin plugin = 10;
    repeated string plugin_tags = 11;
  }
}

extend Host {
  optional group Meta = 20 {
    optional string author = 1;
  }
  optional int64 loaded_at = 21 [default = -1];
}
`,
  },
  {
    name: "realistic CloudEvents-like envelope with many payload types",
    source: `syntax = "proto3";

package acme.telemetry.v3;

import "google/protobuf/timestamp.proto";

option java_package = "com.acme.telemetry.v3";

message TelemetryEvent {
  string event_id = 1;
  google.protobuf.Timestamp observed_at = 2;
  Device device = 3;
  oneof payload {
    Heartbeat heartbeat = 10;
    Crash crash = 11;
    Metric metric = 12;
    LogLine log_line = 13;
  }
  map<string, string> labels = 20;
  reserved 4 to 9;
}

message Device {
  string device_id = 1;
  Platform platform = 2;
  string os_version = 3;

  enum Platform {
    PLATFORM_UNSPECIFIED = 0;
    PLATFORM_IOS = 1;
    PLATFORM_ANDROID = 2;
    PLATFORM_WEB = 3;
  }
}

message Heartbeat {
  uint32 battery_percent = 1;
}

message Crash {
  string signal = 1;
  repeated Frame frames = 2;

  message Frame {
    string symbol = 1;
    uint64 address = 2;
  }
}

message Metric {
  string name = 1;
  oneof value {
    double gauge = 2;
    int64 counter = 3;
  }
}

message LogLine {
  Level level = 1;
  string text = 2;

  enum Level {
    LEVEL_UNSPECIFIED = 0;
    LEVEL_DEBUG = 1;
    LEVEL_INFO = 2;
    LEVEL_WARN = 3;
    LEVEL_ERROR = 4;
  }
}
`,
  },
  {
    name: "proto2 oneof with defaults",
    source: `syntax = "proto2";

package acme.legacy.v1;

message Choice {
  oneof pick {
    int32 number = 1 [default = 42];
    string word = 2 [default = "none"];
    Pair pair = 3;
  }
  message Pair {
    optional int32 left = 1;
    optional int32 right = 2;
  }
  optional string after = 4;
}
`,
  },
  {
    name: "field names that stress json_name",
    source: `syntax = "proto3";

package acme.naming.v1;

message Naming {
  string address_line_1 = 1;
  string x__y = 2;
  string _private = 3;
  string HTTPStatus = 4;
  string trailing_ = 5;
  string already_camelCase = 6;
  string a1_b2_c3 = 7;
  map<string, string> meta_data_map = 8;
}
`,
  },
  {
    name: "field-number and enum-value edges",
    source: `syntax = "proto2";

package acme.edges.v1;

message Edges {
  optional int32 first = 1;
  optional int32 last = 536870911;
  optional Signed signed = 2 [default = NEGATIVE];
  reserved 19000 to 19999;
}

enum Signed {
  NEGATIVE = -1;
  ZERO = 0;
  LARGEST = 2147483647;
  SMALLEST = -2147483648;
}
`,
  },
  {
    name: "relative references up and across nesting levels",
    source: `syntax = "proto3";

package acme.tree.v1;

message Outer {
  message Middle {
    message Inner {
      Middle up = 1;
      Outer.Middle.Other across = 2;
      Sibling sibling = 3;
      Other other = 4;
      Top top = 5;
    }
    message Other {
      int32 n = 1;
    }
    Inner inner = 1;
  }
  message Sibling {
    Middle.Inner deep = 1;
  }
  Middle middle = 1;
}

message Top {
  Outer.Middle.Inner inner = 1;
}
`,
  },
  {
    name: "proto2 float and double defaults as protoc formats them",
    source: `syntax = "proto2";

package acme.numbers.v1;

message Limits {
  optional float f_max = 1 [default = 3.4028235e38];
  optional float f_third = 2 [default = 0.3333333333];
  optional double d_third = 3 [default = 0.3333333333333333];
  optional double d_neg_inf = 4 [default = -inf];
  optional double d_small = 5 [default = 1e-7];
  optional double d_int = 6 [default = 100];
  optional double d_big = 7 [default = 123456789012345678];
  optional float f_hex = 8 [default = 0x10];
  optional double d_zero = 9 [default = -0.0];
  optional int32 i_hex = 10 [default = 0x7fffffff];
  optional uint32 u_max = 11 [default = 4294967295];
  optional int32 i_min = 12 [default = -2147483648];
}
`,
  },
  {
    name: "string and bytes defaults with escapes and unicode",
    source: `syntax = "proto2";

package acme.text.v1;

message Texts {
  optional string greeting = 1 [default = "héllo, wörld ✓"];
  optional string escaped = 2 [default = "tab\\there\\nnewline \\\\ back 'single' \\"double\\""];
  optional bytes binary = 3 [default = "\\x00\\x01\\x7f\\x80\\xfe\\xff"];
  optional bytes quotes = 4 [default = "it's \\"q\\""];
  optional string empty = 5 [default = ""];
  optional bytes octal = 6 [default = "\\0\\12\\177"];
}
`,
  },
  {
    name: "service-only file over well-known types",
    source: `syntax = "proto3";

package acme.health.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";

service Health {
  rpc Check(google.protobuf.Empty) returns (google.protobuf.Timestamp);
  rpc Watch(google.protobuf.Empty) returns (stream google.protobuf.Timestamp);
}
`,
  },
  {
    name: "custom option definitions extending descriptor.proto",
    source: `syntax = "proto3";

package acme.annotations.v1;

import "google/protobuf/descriptor.proto";

extend google.protobuf.FieldOptions {
  bool sensitive = 50001;
  string display_format = 50002;
}

extend google.protobuf.MessageOptions {
  string table_name = 50010;
}

message Annotated {
  string id = 1;
}
`,
  },
  {
    name: "messages and enums with the same short names in different scopes",
    source: `syntax = "proto3";

package acme.scopes.v1;

enum State {
  STATE_UNSPECIFIED = 0;
  STATE_ON = 1;
}

message Machine {
  enum State {
    MACHINE_STATE_UNSPECIFIED = 0;
    MACHINE_STATE_RUNNING = 1;
  }
  State state = 1;
  acme.scopes.v1.State global_state = 2;
  Part part = 3;

  message Part {
    State state = 1;
    .acme.scopes.v1.State top_state = 2;
  }
}
`,
  },
  {
    name: "options written before the package statement",
    source: `syntax = "proto3";

option java_package = "com.acme.early";
option go_package = "acme/early";

package acme.early.v1;

option java_outer_classname = "EarlyProto";

message Early {
  string id = 1;
}
`,
  },
  {
    name: "greeter (gRPC style: empty rpc bodies)",
    source: `syntax = "proto3";

package helloworld;

option java_multiple_files = true;
option java_package = "io.grpc.examples.helloworld";
option objc_class_prefix = "HLW";

service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply) {}
  rpc SayHelloStreamReply (HelloRequest) returns (stream HelloReply) {}
  rpc SayHelloAgain (HelloRequest) returns (HelloReply);
}

message HelloRequest {
  string name = 1;
}

message HelloReply {
  string message = 1;
}
`,
  },
  {
    name: "terse formatting, comments holding braces and quotes",
    source: `// A file written without care for layout.
/* block comment { with braces } and "quotes" */
syntax="proto3";package  terse.v1 ;
message M{message N{map<string,N>n=1;}N n=1;map < string , M > m = 2 ;/* } */ string s = 3; // trailing }
  oneof o { int32 x = 4; }
  message map_like { int32 v = 1; }
  map_like ml = 5;
  reserved 6 to max;
}
enum E { E0 = 0; E1 = 1 [deprecated=true]; }
service S { rpc R ( M ) returns ( stream .terse.v1.M ) { option deprecated = true; } rpc Q(M) returns (M) {} }
`,
  },
];

import { describe, expect, test } from "bun:test";
import { common, Field, type INamespace, Namespace, parse, Root, Service, Type } from "protobufjs";
import descriptorJson from "protobufjs/google/protobuf/descriptor.json" with { type: "json" };
import { RegistryError } from "../../src/domain/errors.ts";
import {
  decodeFileDescriptor,
  descriptorToProto,
  type FileDescriptorProto,
  isSerializedDescriptor,
  protoToDescriptor,
} from "../../src/domain/protobuf-descriptor.ts";
import { FIXTURES, type ProtoFixture } from "./protobuf-descriptor-fixtures.ts";
import { PROTOC_DESCRIPTORS } from "./protobuf-descriptor-protoc.ts";

// descriptor.proto as protobufjs reflects it, independent of the module under test.
const descriptorRoot = Root.fromJSON(descriptorJson as unknown as INamespace);
const FileDescriptorProtoType = descriptorRoot.lookupType("google.protobuf.FileDescriptorProto");

function encode(file: FileDescriptorProto): string {
  const bytes = FileDescriptorProtoType.encode(FileDescriptorProtoType.fromObject(file)).finish();
  return Buffer.from(bytes).toString("base64");
}

function decode(base64: string): FileDescriptorProto {
  const message = FileDescriptorProtoType.decode(Buffer.from(base64, "base64"));
  return FileDescriptorProtoType.toObject(message, { defaults: false }) as FileDescriptorProto;
}

function protocOf(name: string): string {
  const descriptor = PROTOC_DESCRIPTORS[name];
  if (!descriptor) throw new Error(`no protoc descriptor for ${name}`);
  return descriptor;
}

function jsonNameOf(name: string): string {
  return name.replace(/_+([^_]?)/g, (_match, next: string) => next.toUpperCase());
}

type JsonObject = Record<string, unknown> & {
  nested?: Record<string, JsonObject>;
  fields?: Record<string, JsonObject>;
  options?: Record<string, unknown>;
};

/**
 * A file as protobufjs reads it (with its imports), with what two spellings
 * of the same schema may legitimately differ in taken out: how a type name is
 * written (every reference becomes the full name it resolves to), where file
 * options stand (before or after `package`), a json_name equal to the
 * default, and a float default's digits beyond float precision.
 */
function semantic(source: string, imports: ProtoFixture["imports"] = []): unknown {
  const root = new Root();
  const loaded = new Set<string>();
  const load = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    const given = imports.find((file) => file.name === path);
    if (given) {
      for (const next of parse(given.content, root, { keepCase: true }).imports ?? []) load(next);
      return;
    }
    const bundled = path === "google/protobuf/descriptor.proto" ? descriptorJson : common.get(path);
    if (bundled) root.addJSON((bundled as INamespace).nested!);
  };
  const parsed = parse(source, root, { keepCase: true });
  for (const path of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) load(path);
  root.resolveAll();

  const qualify = (namespace: Namespace) => {
    for (const object of namespace.nestedArray) {
      if (object instanceof Type) {
        for (const field of object.fieldsArray) {
          if (field.resolvedType) field.type = field.resolvedType.fullName;
        }
      }
      if (object instanceof Field && object.extensionField) {
        object.extend = object.extensionField.parent!.fullName;
        if (object.resolvedType) object.type = object.resolvedType.fullName;
      }
      if (object instanceof Service) {
        for (const method of object.methodsArray) {
          method.requestType = method.resolvedRequestType!.fullName;
          method.responseType = method.resolvedResponseType!.fullName;
        }
      }
      if (object instanceof Namespace) qualify(object);
    }
  };
  qualify(root);

  const json = root.toJSON() as JsonObject;
  let namespace = json;
  for (const part of parsed.package ? parsed.package.split(".") : []) namespace = namespace.nested![part]!;
  if (namespace !== json && json.options) {
    namespace.options = { ...json.options, ...namespace.options };
    delete json.options;
  }
  const visit = (object: JsonObject) => {
    for (const [name, field] of Object.entries(object.fields ?? {})) {
      const options = field.options;
      if (!options) continue;
      if (options.json_name === jsonNameOf(name)) delete options.json_name;
      if (field.type === "float" && typeof options.default === "number")
        options.default = Math.fround(options.default);
      if (Object.keys(options).length === 0) delete field.options;
    }
    for (const nested of Object.values(object.nested ?? {})) visit(nested);
  };
  visit(json);
  return json;
}

function expectInvalidSchema(run: () => unknown, message?: RegExp): RegistryError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RegistryError);
  const error = caught as RegistryError;
  expect(error.code).toBe("invalid_schema");
  expect(error.details.schema_type).toBe("protobuf");
  if (message) expect(error.message).toMatch(message);
  return error;
}

describe("fixtures", () => {
  test("cover the cases the round trips are about", () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(25);
    const all = FIXTURES.map((fixture) => fixture.source).join("\n");
    for (const feature of [
      'syntax = "proto2"',
      'syntax = "proto3"',
      "map<",
      "oneof ",
      "optional string note",
      "allow_alias",
      "reserved ",
      "extensions ",
      "extend ",
      "group ",
      "import public",
      "import weak",
      "google/protobuf/timestamp.proto",
      "stream ",
      "[default = ",
      "json_name",
    ]) {
      expect(all).toContain(feature);
    }
    for (const fixture of FIXTURES) expect(PROTOC_DESCRIPTORS[fixture.name]).toBeString();
  });

  test("the semantic comparison tells different schemas apart and equal spellings together", () => {
    const base = 'syntax = "proto3";\npackage p;\nmessage A { B b = 1; }\nmessage B { int32 n = 1; }\n';
    expect(semantic(base)).toEqual(semantic(base.replace("B b = 1", ".p.B b = 1")));
    expect(semantic(base)).not.toEqual(semantic(base.replace("B b = 1", "B b = 2")));
    expect(semantic(base)).not.toEqual(semantic(base.replace("int32 n", "int64 n")));
    expect(semantic(base)).not.toEqual(semantic(base.replace("B b = 1", "repeated B b = 1")));
  });
});

describe("protoToDescriptor", () => {
  test.each(FIXTURES.map((fixture) => [fixture.name, fixture] as const))(
    "emits protoc's bytes: %s",
    (_name, fixture) => {
      expect(protoToDescriptor(fixture.source, fixture.imports)).toBe(protocOf(fixture.name));
    },
  );

  test("names the file schema.proto unless told otherwise", () => {
    const source = 'syntax = "proto3";\nmessage A { string id = 1; }\n';
    expect(decode(protoToDescriptor(source)).name).toBe("schema.proto");
    expect(decode(protoToDescriptor(source, [], { name: "acme/a.proto" })).name).toBe("acme/a.proto");
  });

  test("leaves a type from an import it was not given as written, with no type (resolution pending)", () => {
    const source = `syntax = "proto3";
package acme.payments.v1;
import "acme/common/v1/money.proto";
message Payment {
  acme.common.v1.Money amount = 1;
  map<string, acme.common.v1.Money> fees = 2;
}
`;
    const descriptor = protoToDescriptor(source);
    const payment = decode(descriptor).messageType![0]!;
    expect(payment.field![0]).toMatchObject({ name: "amount", typeName: "acme.common.v1.Money" });
    expect(payment.field![0]!.type).toBeUndefined();
    expect(payment.nestedType![0]!.field![1]).toMatchObject({
      name: "value",
      typeName: "acme.common.v1.Money",
    });

    const rendered = descriptorToProto(descriptor);
    expect(rendered).toContain("  acme.common.v1.Money amount = 1;");
    expect(rendered).toContain("  map<string, acme.common.v1.Money> fees = 2;");
    expect(protoToDescriptor(rendered)).toBe(descriptor);
  });

  test("resolves the same source fully once the import is given", () => {
    const fixture = FIXTURES.find((candidate) => candidate.name.startsWith("cross-package"))!;
    const payment = decode(protoToDescriptor(fixture.source, fixture.imports)).messageType![0]!;
    expect(payment.field![1]).toMatchObject({ type: 11, typeName: ".acme.common.v1.Money" });
    expect(payment.field![3]).toMatchObject({ type: 14, typeName: ".acme.common.v1.Region", label: 3 });
  });

  test("refuses source protobufjs cannot parse, with the line", () => {
    const error = expectInvalidSchema(() =>
      protoToDescriptor('syntax = "proto3";\nmessage A {\n  string = 1;\n}\n'),
    );
    expect(error.details.line).toBe(3);
  });

  test("refuses editions and unknown syntaxes", () => {
    expectInvalidSchema(
      () => protoToDescriptor('edition = "2023";\nmessage A { string id = 1; }\n'),
      /editions .* not supported/,
    );
    expectInvalidSchema(() => protoToDescriptor('syntax = "proto4";\nmessage A { string id = 1; }\n'));
  });

  test("refuses an empty source and a broken import, naming the import", () => {
    expectInvalidSchema(() => protoToDescriptor("  \n"), /empty/);
    const error = expectInvalidSchema(() =>
      protoToDescriptor('syntax = "proto3";\nimport "b.proto";\nmessage A { B b = 1; }\n', [
        { name: "b.proto", content: "message B {" },
      ]),
    );
    expect(error.details.import).toBe("b.proto");
  });
});

describe("descriptorToProto", () => {
  test.each(FIXTURES.map((fixture) => [fixture.name, fixture] as const))(
    "renders what protobufjs reads as the same schema: %s",
    (_name, fixture) => {
      const rendered = descriptorToProto(protoToDescriptor(fixture.source, fixture.imports));
      expect(() => parse(rendered, { keepCase: true })).not.toThrow();
      expect(semantic(rendered, fixture.imports)).toEqual(semantic(fixture.source, fixture.imports));
    },
  );

  test.each(FIXTURES.map((fixture) => [fixture.name, fixture] as const))(
    "renders protoc's descriptor back into the same descriptor: %s",
    (_name, fixture) => {
      const descriptor = protocOf(fixture.name);
      const again = protoToDescriptor(descriptorToProto(descriptor), fixture.imports);
      expect(decode(again)).toEqual(decode(descriptor));
      expect(again).toBe(descriptor);
    },
  );

  // What protoc emits for:
  //   syntax = "proto3";
  //   package shop.v1;
  //   message Basket {
  //     map<string, Line> lines = 1;
  //     message Line { int64 quantity = 1; }
  //     optional string coupon = 2;
  //   }
  const BASKET: FileDescriptorProto = {
    name: "shop/v1/basket.proto",
    package: "shop.v1",
    messageType: [
      {
        name: "Basket",
        field: [
          {
            name: "lines",
            number: 1,
            label: 3,
            type: 11,
            typeName: ".shop.v1.Basket.LinesEntry",
            jsonName: "lines",
          },
          {
            name: "coupon",
            number: 2,
            label: 1,
            type: 9,
            oneofIndex: 0,
            jsonName: "coupon",
            proto3Optional: true,
          },
        ],
        nestedType: [
          {
            name: "LinesEntry",
            field: [
              { name: "key", number: 1, label: 1, type: 9, jsonName: "key" },
              {
                name: "value",
                number: 2,
                label: 1,
                type: 11,
                typeName: ".shop.v1.Basket.Line",
                jsonName: "value",
              },
            ],
            options: { mapEntry: true },
          },
          { name: "Line", field: [{ name: "quantity", number: 1, label: 1, type: 3, jsonName: "quantity" }] },
        ],
        oneofDecl: [{ name: "_coupon" }],
      },
    ],
    syntax: "proto3",
  };

  test("renders a descriptor built by hand as protoc would emit it (map, proto3 optional)", () => {
    const descriptor = encode(BASKET);
    const rendered = descriptorToProto(descriptor);
    expect(rendered).toBe(`syntax = "proto3";

package shop.v1;

message Basket {
  map<string, Line> lines = 1;
  message Line {
    int64 quantity = 1;
  }
  optional string coupon = 2;
}
`);
    const again = protoToDescriptor(rendered, [], { name: "shop/v1/basket.proto" });
    expect(decode(again)).toEqual(decode(descriptor));
  });

  test("reads a descriptor without json_name (as runtimes embed them) and keeps one that differs", () => {
    const file: FileDescriptorProto = {
      name: "embedded.proto",
      package: "emb",
      messageType: [
        {
          name: "Row",
          field: [
            { name: "row_id", number: 1, label: 1, type: 9 },
            { name: "total_cents", number: 2, label: 1, type: 3, jsonName: "total" },
          ],
        },
      ],
      syntax: "proto3",
    };
    const rendered = descriptorToProto(encode(file));
    expect(rendered).toContain("  string row_id = 1;\n");
    expect(rendered).toContain('  int64 total_cents = 2 [json_name = "total"];\n');
    const field = decode(protoToDescriptor(rendered, [], { name: "embedded.proto" })).messageType![0]!.field!;
    expect(field.map((entry) => entry.jsonName)).toEqual(["rowId", "total"]);
  });

  test("writes a type still to resolve as its descriptor names it", () => {
    const file: FileDescriptorProto = {
      name: "pending.proto",
      package: "p",
      dependency: ["other.proto"],
      messageType: [
        { name: "A", field: [{ name: "b", number: 1, label: 1, typeName: "other.B", jsonName: "b" }] },
      ],
      syntax: "proto3",
    };
    expect(descriptorToProto(encode(file))).toContain("  other.B b = 1;\n");
  });

  test("writes public and weak imports and a fully qualified name where a shorter one would resolve elsewhere", () => {
    const file: FileDescriptorProto = {
      name: "imports.proto",
      package: "a.b",
      dependency: ["x.proto", "y.proto", "z.proto"],
      publicDependency: [1],
      weakDependency: [2],
      messageType: [
        {
          name: "Holder",
          field: [
            { name: "far", number: 1, label: 1, type: 11, typeName: ".b.Thing", jsonName: "far" },
            { name: "near", number: 2, label: 1, type: 11, typeName: ".a.b.Thing", jsonName: "near" },
          ],
        },
        { name: "Thing" },
      ],
      syntax: "proto3",
    };
    const rendered = descriptorToProto(encode(file));
    expect(rendered).toContain('import "x.proto";\nimport public "y.proto";\nimport weak "z.proto";\n');
    // "b.Thing" from a.b would find the package a.b first, so only the leading dot reaches .b.Thing.
    expect(rendered).toContain("  .b.Thing far = 1;\n");
    expect(rendered).toContain("  Thing near = 2;\n");
  });
});

describe("isSerializedDescriptor", () => {
  test("recognizes every descriptor, and no source", () => {
    for (const fixture of FIXTURES) {
      expect(isSerializedDescriptor(protocOf(fixture.name))).toBe(true);
      expect(isSerializedDescriptor(fixture.source)).toBe(false);
    }
  });

  test("tolerates surrounding whitespace and MIME line breaks", () => {
    const descriptor = protocOf(FIXTURES[0]!.name);
    const wrapped = descriptor.match(/.{1,76}/g)!.join("\r\n");
    expect(isSerializedDescriptor(`\n${wrapped}\n`)).toBe(true);
    expect(descriptorToProto(`${wrapped}\n`)).toBe(descriptorToProto(descriptor));
  });

  test("says no to base64 that is not a descriptor, and to text that is not base64", () => {
    const timestamp = Buffer.from([0x08, 0x05, 0x10, 0x07]).toString("base64");
    const source = Buffer.from(FIXTURES[0]!.source).toString("base64");
    const nameless = encode({ package: "only.a.package" });
    for (const text of [
      "",
      "   ",
      "hello",
      "AAAA",
      "abc=def",
      "aGVsbG8gd29ybGQ=",
      timestamp,
      source,
      nameless,
    ]) {
      expect(isSerializedDescriptor(text)).toBe(false);
    }
  });
});

describe("errors", () => {
  test("text that is not base64 is not a descriptor", () => {
    expectInvalidSchema(() => descriptorToProto("message A {}"), /not a base64-encoded FileDescriptorProto/);
    expectInvalidSchema(() => decodeFileDescriptor(""), /not base64/);
  });

  test("base64 that is not a FileDescriptorProto is invalid_schema", () => {
    const source = Buffer.from(FIXTURES[0]!.source).toString("base64");
    const error = expectInvalidSchema(
      () => descriptorToProto(source),
      /not a base64-encoded FileDescriptorProto/,
    );
    expect(error.details.format).toBe("serialized");
    expectInvalidSchema(() => descriptorToProto(Buffer.from([0x08, 0x05]).toString("base64")));
    expectInvalidSchema(
      () => descriptorToProto(encode({ package: "only.a.package" })),
      /no file name, message or enum/,
    );
  });

  test("a truncated or corrupted descriptor never crashes: it renders or is invalid_schema", () => {
    const descriptor = Buffer.from(protocOf(FIXTURES[1]!.name), "base64");
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const inputs: Uint8Array[] = [];
    for (let length = 0; length < descriptor.length; length += 3) inputs.push(descriptor.subarray(0, length));
    for (let i = 0; i < 200; i++) {
      const corrupted = Uint8Array.from(descriptor);
      corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
      inputs.push(corrupted);
    }
    for (const bytes of inputs) {
      const base64 = Buffer.from(bytes).toString("base64");
      try {
        const rendered = descriptorToProto(base64);
        expect(() => parse(rendered, { keepCase: true })).not.toThrow();
      } catch (error) {
        expect(error).toBeInstanceOf(RegistryError);
        expect((error as RegistryError).code).toBe("invalid_schema");
      }
    }
  });

  test("a name that is not an identifier is refused rather than written into the source", () => {
    const injected: FileDescriptorProto = {
      name: "evil.proto",
      messageType: [
        { name: "A", field: [{ name: "x = 1; } message B { string y", number: 1, label: 1, type: 9 }] },
      ],
      syntax: "proto3",
    };
    expectInvalidSchema(() => descriptorToProto(encode(injected)), /invalid field name/);
    const badType: FileDescriptorProto = {
      name: "evil.proto",
      messageType: [{ name: "A", field: [{ name: "x", number: 1, label: 1, type: 11, typeName: ".A {" }] }],
    };
    expectInvalidSchema(() => descriptorToProto(encode(badType)), /invalid type name/);
  });

  test("what a .proto file cannot say is invalid_schema", () => {
    expectInvalidSchema(
      () =>
        descriptorToProto(
          encode({ name: "e.proto", syntax: "editions", edition: 1000, messageType: [{ name: "A" }] }),
        ),
      /editions/,
    );
    expectInvalidSchema(
      () =>
        descriptorToProto(
          encode({
            name: "d.proto",
            syntax: "proto3",
            messageType: [
              { name: "A", field: [{ name: "n", number: 1, label: 1, type: 5, defaultValue: "3" }] },
            ],
          }),
        ),
      /has a default/,
    );
    expectInvalidSchema(
      () =>
        descriptorToProto(
          encode({
            name: "m.proto",
            syntax: "proto3",
            messageType: [
              {
                name: "A",
                nestedType: [
                  {
                    name: "OrphanEntry",
                    field: [
                      { name: "key", number: 1, label: 1, type: 9 },
                      { name: "value", number: 2, label: 1, type: 9 },
                    ],
                    options: { mapEntry: true },
                  },
                ],
              },
            ],
          }),
        ),
      /map entry OrphanEntry has no map field/,
    );
    expectInvalidSchema(
      () =>
        descriptorToProto(
          encode({
            name: "n.proto",
            messageType: [{ name: "A", field: [{ name: "zero", number: 0, label: 1, type: 5 }] }],
          }),
        ),
      /number 0/,
    );
  });
});

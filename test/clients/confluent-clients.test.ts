/**
 * Confluent's own JavaScript clients against the registry's Confluent API,
 * served as a real process (`bun src/server.ts`) on a fresh PostgreSQL
 * database: the official @confluentinc/schemaregistry (client and its Avro,
 * JSON Schema and Protobuf serializers) and @kafkajs/confluent-schema-registry.
 * Each test does what an application does with the client, and asserts what
 * the application would notice: ids, versions, schemas, decoded messages,
 * and the errors (status and Confluent error code) it branches on.
 *
 * When the server lacks a behaviour a client needs, the test fails naming the
 * request and the answer; it never skips for that. Only a missing PostgreSQL
 * skips, loudly and never in CI (see test/support/database.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create, createFileRegistry, createMutableRegistry, equals } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import {
  AvroDeserializer,
  AvroSerializer,
  Compatibility,
  JsonDeserializer,
  JsonSerializer,
  ProtobufDeserializer,
  ProtobufSerializer,
  RestError,
  SchemaRegistryClient,
  SerdeType,
} from "@confluentinc/schemaregistry";
import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
// The error classes are not re-exported by the package's entry point.
import {
  ConfluentSchemaRegistryCompatibilityError,
  ConfluentSchemaRegistryValidationError,
} from "@kafkajs/confluent-schema-registry/dist/errors";
import { postgresAvailable } from "../support/database.ts";
import { type RegistryProcess, requireConfluentApi, startRegistryProcess } from "./registry-process.ts";

const available = await postgresAvailable();

let server: RegistryProcess;

/**
 * A new official client: each caches what it read (ids, versions, latest),
 * so a check that must reach the server uses one that has seen nothing.
 */
function officialClient(): SchemaRegistryClient {
  // No retries: a failing request should fail the test at once, with its own answer.
  return new SchemaRegistryClient({ baseURLs: [server.url], maxRetries: 0 });
}

function kafkajsClient(): SchemaRegistry {
  return new SchemaRegistry({ host: server.url, retry: { retries: 0 } });
}

/** A raw call, for what neither client exposes (referencedby, ?deleted=true lists). */
async function raw(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: { "Content-Type": "application/vnd.schemaregistry.v1+json" },
        }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, body: json, text };
}

/** The rejection of `promise` as a RestError, so a test can assert status and Confluent code together. */
async function restError(promise: Promise<unknown>): Promise<{ status: number; errorCode: number }> {
  try {
    const value = await promise;
    throw new Error(`expected a Confluent error answer, got success: ${JSON.stringify(value)}`);
  } catch (error) {
    if (!(error instanceof RestError)) throw error;
    return { status: error.status, errorCode: error.errorCode };
  }
}

let counter = 0;
/** Subject and topic names unique to the test, so tests share one server without seeing each other. */
function unique(name: string): string {
  counter += 1;
  return `clients.${name}.${counter}`;
}

const orderAvro = (namespace: string, extra: Record<string, unknown>[] = []) =>
  JSON.stringify({
    type: "record",
    name: "Order",
    namespace,
    fields: [{ name: "id", type: "string" }, { name: "quantity", type: "int" }, ...extra],
  });

describe.skipIf(!available)("Confluent's clients against a running registry", () => {
  beforeAll(async () => {
    server = await startRegistryProcess();
    await requireConfluentApi(server.url);
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe("@confluentinc/schemaregistry (the official client)", () => {
    test("registers, looks up by content, reads the latest and by id", async () => {
      const subject = unique("official.register");
      const info = { schemaType: "AVRO", schema: orderAvro("com.example.register") };
      const id = await officialClient().register(subject, info);
      expect(id).toBeGreaterThan(0);
      // Registering the same content again answers the same id, not a new version.
      expect(await officialClient().register(subject, info)).toBe(id);
      expect(await officialClient().getId(subject, info)).toBe(id);
      expect(await officialClient().getVersion(subject, info)).toBe(1);

      const latest = await officialClient().getLatestSchemaMetadata(subject);
      expect(latest.id).toBe(id);
      expect(latest.version).toBe(1);
      expect(latest.subject).toBe(subject);
      expect(JSON.parse(latest.schema)).toEqual(JSON.parse(info.schema));

      const byId = await officialClient().getBySubjectAndId(subject, id);
      expect(JSON.parse(byId.schema)).toEqual(JSON.parse(info.schema));
      expect(await officialClient().getAllVersions(subject)).toEqual([1]);
      expect(await officialClient().getAllSubjects()).toContain(subject);

      // The same content under a second subject keeps its id (ids name content).
      expect(await officialClient().register(`${subject}.copy`, info)).toBe(id);
    });

    test("a lookup of content the subject does not hold answers 404 with code 40403, an unknown subject 40401", async () => {
      const subject = unique("official.lookup");
      await officialClient().register(subject, {
        schemaType: "AVRO",
        schema: orderAvro("com.example.lookup"),
      });
      const other = { schemaType: "AVRO", schema: orderAvro("com.example.other") };
      expect(await restError(officialClient().getId(subject, other))).toEqual({
        status: 404,
        errorCode: 40403,
      });
      expect(await restError(officialClient().getId(`${subject}.missing`, other))).toEqual({
        status: 404,
        errorCode: 40401,
      });
    });

    test("subject and global compatibility round trip; a subject without its own answers 404 with 40408", async () => {
      const subject = unique("official.config");
      expect(await restError(officialClient().getConfig(subject))).toEqual({ status: 404, errorCode: 40408 });

      expect(await officialClient().updateCompatibility(subject, Compatibility.FULL)).toBe(
        Compatibility.FULL,
      );
      expect(await officialClient().getCompatibility(subject)).toBe(Compatibility.FULL);
      const config = await officialClient().getConfig(subject);
      expect(config.compatibilityLevel).toBe(Compatibility.FULL);

      const before = await officialClient().getDefaultCompatibility();
      expect(before).toBe(Compatibility.BACKWARD);
      try {
        expect(await officialClient().updateDefaultCompatibility(Compatibility.FORWARD_TRANSITIVE)).toBe(
          Compatibility.FORWARD_TRANSITIVE,
        );
        expect(await officialClient().getDefaultCompatibility()).toBe(Compatibility.FORWARD_TRANSITIVE);
        // The subject's own level still wins over the global one.
        expect(await officialClient().getCompatibility(subject)).toBe(Compatibility.FULL);
      } finally {
        await officialClient().updateDefaultCompatibility(before);
      }
    });

    test("an incompatible change is refused with 409; testSubjectCompatibility answers false, then true", async () => {
      const subject = unique("official.compatibility");
      await officialClient().updateCompatibility(subject, Compatibility.BACKWARD);
      await officialClient().register(subject, {
        schemaType: "AVRO",
        schema: orderAvro("com.example.compat"),
      });

      // A new field without a default: a reader on it cannot read old data (not BACKWARD).
      const breaking = {
        schemaType: "AVRO",
        schema: orderAvro("com.example.compat", [{ name: "currency", type: "string" }]),
      };
      const safe = {
        schemaType: "AVRO",
        schema: orderAvro("com.example.compat", [{ name: "currency", type: "string", default: "EUR" }]),
      };
      expect(await officialClient().testSubjectCompatibility(subject, breaking)).toBe(false);
      expect(await officialClient().testSubjectCompatibility(subject, safe)).toBe(true);
      expect(await officialClient().testCompatibility(subject, 1, safe)).toBe(true);

      const refused = await restError(officialClient().register(subject, breaking));
      expect(refused.status).toBe(409);
      expect(await officialClient().getAllVersions(subject)).toEqual([1]);

      expect(await officialClient().register(subject, safe)).toBeGreaterThan(0);
      expect(await officialClient().getAllVersions(subject)).toEqual([1, 2]);
    });

    test("soft and permanent deletes of a version and of a subject", async () => {
      const subject = unique("official.deletes");
      await officialClient().updateCompatibility(subject, Compatibility.NONE);
      const v1 = { schemaType: "AVRO", schema: orderAvro("com.example.del1") };
      const v2 = { schemaType: "AVRO", schema: orderAvro("com.example.del2") };
      const v3 = { schemaType: "AVRO", schema: orderAvro("com.example.del3") };
      await officialClient().register(subject, v1);
      const id2 = await officialClient().register(subject, v2);
      await officialClient().register(subject, v3);

      // A permanent delete must follow a soft one.
      expect(await restError(officialClient().deleteSubjectVersion(subject, 2, true))).toEqual({
        status: 404,
        errorCode: 40407,
      });
      expect(await officialClient().deleteSubjectVersion(subject, 2, false)).toBe(2);
      expect(await officialClient().getAllVersions(subject)).toEqual([1, 3]);
      expect(await restError(officialClient().getSchemaMetadata(subject, 2, false))).toEqual({
        status: 404,
        errorCode: 40402,
      });
      const soft = await officialClient().getSchemaMetadata(subject, 2, true);
      expect(soft.id).toBe(id2);
      expect(soft.version).toBe(2);
      // The id still decodes old messages after a soft delete.
      expect(JSON.parse((await officialClient().getBySubjectAndId(subject, id2)).schema)).toEqual(
        JSON.parse(v2.schema),
      );

      expect(await officialClient().deleteSubjectVersion(subject, 2, true)).toBe(2);
      expect(await restError(officialClient().getSchemaMetadata(subject, 2, true))).toEqual({
        status: 404,
        errorCode: 40402,
      });

      // The subject: soft delete hides it from the list, ?deleted=true still shows it.
      expect(await restError(officialClient().deleteSubject(subject, true))).toEqual({
        status: 404,
        errorCode: 40405,
      });
      expect(await officialClient().deleteSubject(subject, false)).toEqual([1, 3]);
      expect(await officialClient().getAllSubjects()).not.toContain(subject);
      expect((await raw("GET", "/subjects?deleted=true")).body).toContain(subject);
      expect(await restError(officialClient().getLatestSchemaMetadata(subject))).toEqual({
        status: 404,
        errorCode: 40401,
      });

      expect(await officialClient().deleteSubject(subject, true)).toEqual([1, 3]);
      expect((await raw("GET", "/subjects?deleted=true")).body).not.toContain(subject);
      // Once every version is gone for good, the subject starts again at version 1.
      await officialClient().register(subject, v3);
      expect(await officialClient().getAllVersions(subject)).toEqual([1]);
    });

    test("Avro: AvroSerializer and AvroDeserializer round trip a message in Confluent's wire format", async () => {
      const topic = unique("official.avro");
      const id = await officialClient().register(`${topic}-value`, {
        schemaType: "AVRO",
        schema: orderAvro("com.example.avro", [{ name: "note", type: ["null", "string"], default: null }]),
      });
      const serializer = new AvroSerializer(officialClient(), SerdeType.VALUE, { useLatestVersion: true });
      const deserializer = new AvroDeserializer(officialClient(), SerdeType.VALUE, {});
      const message = { id: "o-1", quantity: 3, note: "gift" };
      const bytes = await serializer.serialize(topic, message);
      expect(bytes[0]).toBe(0);
      expect(bytes.readInt32BE(1)).toBe(id);
      expect(await deserializer.deserialize(topic, bytes)).toEqual(message);
    });

    test("JSON Schema: JsonSerializer validates and round trips; an invalid message is refused", async () => {
      const topic = unique("official.json");
      const schema = {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: { id: { type: "string" }, quantity: { type: "integer", minimum: 1 } },
        required: ["id", "quantity"],
      };
      const id = await officialClient().register(`${topic}-value`, {
        schemaType: "JSON",
        schema: JSON.stringify(schema),
      });
      const serializer = new JsonSerializer(officialClient(), SerdeType.VALUE, {
        useLatestVersion: true,
        validate: true,
      });
      const deserializer = new JsonDeserializer(officialClient(), SerdeType.VALUE, { validate: true });
      const message = { id: "o-1", quantity: 2 };
      const bytes = await serializer.serialize(topic, message);
      expect(bytes.readInt32BE(1)).toBe(id);
      expect(await deserializer.deserialize(topic, bytes)).toEqual(message);
      await expect(serializer.serialize(topic, { id: "o-2", quantity: 0 })).rejects.toThrow(
        /Invalid message/,
      );
    });

    test("Protobuf: ProtobufSerializer registers its descriptor and round trips a message, imports as references", async () => {
      const topic = unique("official.protobuf");
      // Two files, the second importing the first, as protoc would describe them.
      const set = create(FileDescriptorSetSchema, {
        file: [
          {
            name: `${topic}/money.proto`,
            package: "shop",
            syntax: "proto3",
            messageType: [
              {
                name: "Money",
                field: [
                  field("currency", 1, FieldDescriptorProto_Type.STRING),
                  field("cents", 2, FieldDescriptorProto_Type.INT64),
                ],
              },
            ],
          },
          {
            name: `${topic}/order.proto`,
            package: "shop",
            syntax: "proto3",
            dependency: [`${topic}/money.proto`],
            messageType: [
              {
                name: "Order",
                field: [
                  field("id", 1, FieldDescriptorProto_Type.STRING),
                  field("quantity", 2, FieldDescriptorProto_Type.INT32),
                  { ...field("total", 3, FieldDescriptorProto_Type.MESSAGE), typeName: ".shop.Money" },
                ],
              },
            ],
          },
        ],
      });
      const registry = createFileRegistry(set);
      const Order = registry.getMessage("shop.Order")!;
      const Money = registry.getMessage("shop.Money")!;
      const serializer = new ProtobufSerializer(officialClient(), SerdeType.VALUE, {
        autoRegisterSchemas: true,
        registry: createMutableRegistry(registry),
      });
      const deserializer = new ProtobufDeserializer(officialClient(), SerdeType.VALUE, {});
      const message = create(Order, {
        id: "o-1",
        quantity: 3,
        total: create(Money, { currency: "EUR", cents: 1250n }),
      });
      // The serializer registers each file as a base64 FileDescriptorProto (schemaType PROTOBUF) and
      // reads it back with ?format=serialized: say so when the registry refuses that form.
      const bytes = await serializer.serialize(topic, message).catch((error: unknown) => {
        throw new Error(
          `ProtobufSerializer's register (POST /subjects/{subject}/versions, schema: a base64 FileDescriptorProto) ` +
            `was refused: ${error instanceof RestError ? `${error.status} ${error.errorCode} ${error.message}` : error}`,
        );
      });
      const decoded = await deserializer.deserialize(topic, bytes).catch((error: unknown) => {
        throw new Error(
          "ProtobufDeserializer's read (GET /schemas/ids/{id}?subject=…&format=serialized, and each reference " +
            "by GET /subjects/{s}/versions/{v}?deleted=true&format=serialized) failed; the schema it reads " +
            `must be a base64 FileDescriptorProto: ` +
            `${error instanceof RestError ? `${error.status} ${error.errorCode} ${error.message}` : error}`,
        );
      });
      expect(equals(Order, decoded, message)).toBe(true);

      // The import became a subject of its own, named after the file, and the reference points at it.
      const latest = await officialClient().getLatestSchemaMetadata(`${topic}-value`);
      expect(latest.schemaType).toBe("PROTOBUF");
      expect(latest.references).toEqual([
        { name: `${topic}/money.proto`, subject: `${topic}/money.proto`, version: 1 },
      ]);
      expect(bytes.readInt32BE(1)).toBe(latest.id!);
    });

    test("Avro references: a record using a type of another subject registers, round trips, and pins that version", async () => {
      const topic = unique("official.references");
      const addressSubject = `${topic}.Address`;
      const address = {
        type: "record",
        name: "Address",
        namespace: "com.example.refs",
        fields: [{ name: "street", type: "string" }],
      };
      const addressId = await officialClient().register(addressSubject, {
        schemaType: "AVRO",
        schema: JSON.stringify(address),
      });
      const customer = {
        type: "record",
        name: "Customer",
        namespace: "com.example.refs",
        fields: [
          { name: "name", type: "string" },
          { name: "address", type: "com.example.refs.Address" },
        ],
      };
      const references = [{ name: "com.example.refs.Address", subject: addressSubject, version: 1 }];
      const customerId = await officialClient().register(`${topic}-value`, {
        schemaType: "AVRO",
        schema: JSON.stringify(customer),
        references,
      });
      expect(customerId).not.toBe(addressId);
      expect((await officialClient().getLatestSchemaMetadata(`${topic}-value`)).references).toEqual(
        references,
      );

      const serializer = new AvroSerializer(officialClient(), SerdeType.VALUE, { useLatestVersion: true });
      const deserializer = new AvroDeserializer(officialClient(), SerdeType.VALUE, {});
      const message = { name: "Ada", address: { street: "1 Analytical Way" } };
      expect(await deserializer.deserialize(topic, await serializer.serialize(topic, message))).toEqual(
        message,
      );

      const referencedBy = await raw(
        "GET",
        `/subjects/${encodeURIComponent(addressSubject)}/versions/1/referencedby`,
      );
      expect(referencedBy).toMatchObject({ status: 200, body: [customerId] });
      // A version something references cannot be deleted (Confluent: 422, 42206).
      expect(await restError(officialClient().deleteSubjectVersion(addressSubject, 1, false))).toEqual({
        status: 422,
        errorCode: 42206,
      });
    });
  });

  describe("@kafkajs/confluent-schema-registry", () => {
    test("the first register of a subject reads its config (404), registers, then sets the subject to BACKWARD", async () => {
      const subject = unique("kafkajs.register");
      expect((await raw("GET", `/config/${encodeURIComponent(subject)}`)).status).toBe(404);
      const registry = kafkajsClient();
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: orderAvro("com.example.kafkajs") },
        { subject },
      );
      expect(id).toBeGreaterThan(0);
      expect((await raw("GET", `/config/${encodeURIComponent(subject)}`)).body).toEqual({
        compatibilityLevel: "BACKWARD",
      });

      // A fresh client resolves the same id three ways.
      const fresh = kafkajsClient();
      expect(await fresh.getLatestSchemaId(subject)).toBe(id);
      expect(await fresh.getRegistryId(subject, 1)).toBe(id);
      expect(
        await fresh.getRegistryIdBySchema(subject, {
          type: SchemaType.AVRO,
          schema: orderAvro("com.example.kafkajs"),
        }),
      ).toBe(id);

      // Registering again reads the subject's level, which now matches the client's default.
      const second = await registry.register(
        {
          type: SchemaType.AVRO,
          schema: orderAvro("com.example.kafkajs", [{ name: "note", type: "string", default: "" }]),
        },
        { subject },
      );
      expect(second.id).not.toBe(id);
      expect(await kafkajsClient().getLatestSchemaId(subject)).toBe(second.id);

      // Asking for another level than the subject's is the client's own refusal, read from GET /config/{subject}.
      await expect(
        registry.register(
          { type: SchemaType.AVRO, schema: orderAvro("com.example.kafkajs.other") },
          { subject, compatibility: COMPATIBILITY.FULL },
        ),
      ).rejects.toBeInstanceOf(ConfluentSchemaRegistryCompatibilityError);
    });

    test("Avro: encode and decode round trip, and an incompatible register is refused with 409", async () => {
      const subject = unique("kafkajs.avro");
      const registry = kafkajsClient();
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: orderAvro("com.example.kafkajs.avro") },
        { subject },
      );
      const message = { id: "o-7", quantity: 7 };
      const encoded = await registry.encode(id, message);
      expect(encoded.readInt32BE(1)).toBe(id);
      expect(await kafkajsClient().decode(encoded)).toEqual(message);

      const refused = registry.register(
        {
          type: SchemaType.AVRO,
          schema: orderAvro("com.example.kafkajs.avro", [{ name: "currency", type: "string" }]),
        },
        { subject },
      );
      await expect(refused).rejects.toMatchObject({ status: 409 });
    });

    test("JSON Schema: encode and decode round trip; an invalid payload is refused", async () => {
      const subject = unique("kafkajs.json");
      const registry = kafkajsClient();
      const { id } = await registry.register(
        {
          type: SchemaType.JSON,
          schema: JSON.stringify({
            type: "object",
            properties: { id: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
            required: ["id"],
          }),
        },
        { subject },
      );
      const message = { id: "o-1", tags: ["a", "b"] };
      expect(await kafkajsClient().decode(await registry.encode(id, message))).toEqual(message);
      await expect(registry.encode(id, { tags: [1] })).rejects.toBeInstanceOf(
        ConfluentSchemaRegistryValidationError,
      );
    });

    test("Protobuf: .proto source registers, round trips, and an import resolves through references", async () => {
      const prefix = unique("kafkajs.protobuf");
      const registry = kafkajsClient();
      const money =
        'syntax = "proto3";\npackage shop;\n\nmessage Money {\n  string currency = 1;\n  int64 cents = 2;\n}\n';
      const moneySubject = `${prefix}.money`;
      await registry.register({ type: SchemaType.PROTOBUF, schema: money }, { subject: moneySubject });

      const order =
        'syntax = "proto3";\npackage shop;\n\nimport "money.proto";\n\n' +
        "message Order {\n  string id = 1;\n  int32 quantity = 2;\n  shop.Money total = 3;\n}\n";
      const { id } = await registry.register(
        {
          type: SchemaType.PROTOBUF,
          schema: order,
          references: [{ name: "money.proto", subject: moneySubject, version: 1 }],
        },
        { subject: `${prefix}.order` },
      );
      const message = { id: "o-1", quantity: 2, total: { currency: "EUR", cents: 990 } };
      const decoded = await kafkajsClient().decode(await registry.encode(id, message));
      expect(decoded.id).toBe("o-1");
      expect(decoded.quantity).toBe(2);
      expect(decoded.total.currency).toBe("EUR");
      expect(Number(decoded.total.cents)).toBe(990);

      // The stored text reads back as it was registered, references included.
      const stored = await raw("GET", `/schemas/ids/${id}`);
      expect(stored.status).toBe(200);
      expect(stored.body).toMatchObject({
        schemaType: "PROTOBUF",
        references: [{ name: "money.proto", subject: moneySubject, version: 1 }],
      });
    });
  });
});

function field(name: string, number: number, type: FieldDescriptorProto_Type) {
  return { name, number, type, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: name };
}

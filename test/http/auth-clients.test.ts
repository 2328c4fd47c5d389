/**
 * Confluent's own JavaScript clients against a registry process with auth
 * on, sending an API key as they send credentials: HTTP Basic with the key id
 * as user and the secret as password (`basic.auth.credentials.source=USER_INFO`
 * for the official client, `auth: {username, password}` for kafkajs). A
 * writer registers and round trips messages through the serializers (the
 * deserializer's by-id read goes through the fast path); a reader's register
 * is refused with 40301; no credentials is 40101.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AvroDeserializer,
  AvroSerializer,
  RestError,
  SchemaRegistryClient,
  SerdeType,
} from "@confluentinc/schemaregistry";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { type RegistryProcess, startRegistryProcess } from "../clients/registry-process.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();
const BOOTSTRAP = "bootstrap-admin-key-for-the-client-tests-0123456789";

const ORDER = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "com.example.auth",
  fields: [
    { name: "id", type: "string" },
    { name: "quantity", type: "int" },
  ],
});

describe.skipIf(!available)("Confluent's clients with an API key as Basic credentials", () => {
  let server: RegistryProcess;
  let writer: { id: string; secret: string };
  let reader: { id: string; secret: string };

  const official = (key?: { id: string; secret: string }) =>
    new SchemaRegistryClient({
      baseURLs: [server.url],
      maxRetries: 0,
      ...(key
        ? { basicAuthCredentials: { credentialsSource: "USER_INFO", userInfo: `${key.id}:${key.secret}` } }
        : {}),
    });

  const createKey = async (by: string, role: string) => {
    const response = await fetch(`${server.url}/api/v1/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${by}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role }),
    });
    expect(response.status).toBe(201);
    const { key } = (await response.json()) as { key: string };
    const [id, secret] = key.split(".") as [string, string];
    return { id, secret, key };
  };

  beforeAll(async () => {
    server = await startRegistryProcess({ AUTH_REQUIRED: "true", AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP });
    const admin = await createKey(BOOTSTRAP, "admin");
    writer = await createKey(admin.key, "writer");
    reader = await createKey(admin.key, "reader");
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("the official client registers and round trips Avro messages with a writer key", async () => {
    const topic = "auth.orders";
    const id = await official(writer).register(`${topic}-value`, { schemaType: "AVRO", schema: ORDER });
    const serializer = new AvroSerializer(official(writer), SerdeType.VALUE, { useLatestVersion: true });
    const deserializer = new AvroDeserializer(official(reader), SerdeType.VALUE, {});
    const message = { id: "o-1", quantity: 3 };
    const bytes = await serializer.serialize(topic, message);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await deserializer.deserialize(topic, bytes)).toEqual(message);
  });

  test("a reader's register is 403 40301; no credentials is 401 40101", async () => {
    const refused = await official(reader)
      .register("auth.refused-value", { schemaType: "AVRO", schema: ORDER })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RestError);
    expect(refused).toMatchObject({ status: 403, errorCode: 40301 });
    const anonymous = await official()
      .getAllSubjects()
      .catch((error: unknown) => error);
    expect(anonymous).toMatchObject({ status: 401, errorCode: 40101 });
  });

  test("kafkajs's client with auth {username: key id, password: secret}", async () => {
    const registry = new SchemaRegistry({
      host: server.url,
      auth: { username: writer.id, password: writer.secret },
      retry: { retries: 0 },
    });
    // kafkajs sets a new subject's compatibility after its first register (PUT /config/{subject}), which
    // is an admin operation: a writer's register is refused there, after the schema was registered …
    const refused = await registry
      .register({ type: SchemaType.AVRO, schema: ORDER }, { subject: "auth.kafkajs-default-value" })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403 });
    // … and a writer registers without that step (the subject follows the global level).
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: ORDER },
      { subject: "auth.kafkajs-value", compatibility: undefined as never },
    );
    const encoded = await registry.encode(id, { id: "o-2", quantity: 5 });
    const readerRegistry = new SchemaRegistry({
      host: server.url,
      auth: { username: reader.id, password: reader.secret },
      retry: { retries: 0 },
    });
    expect(await readerRegistry.decode(encoded)).toEqual({ id: "o-2", quantity: 5 });
  });
});

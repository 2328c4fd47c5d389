/**
 * The Confluent identity model as the native API sees it, against the real
 * PostgreSQL backend: content_id and subject_version on the resource,
 * references on register (each must exist; Avro named types, JSON Schema
 * $refs and Protobuf imports resolve through them; a referenced version
 * cannot be deleted), the modes refusing writes of both APIs, and subjects
 * with spaces, Unicode and `/` (sent as %2F).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

const ADDRESS_AVRO = {
  type: "record",
  name: "Address",
  namespace: "com.acme",
  fields: [{ name: "street", type: "string" }],
};
const CUSTOMER_AVRO = {
  type: "record",
  name: "Customer",
  namespace: "com.acme",
  fields: [
    { name: "name", type: "string" },
    { name: "address", type: "com.acme.Address" },
  ],
};

const COMMON_PROTO = `syntax = "proto3";
package acme;
message Money { int64 cents = 1; }
`;
const ORDER_PROTO = `syntax = "proto3";
package acme;
import "acme/money.proto";
message Order { acme.Money total = 1; }
`;

describe.skipIf(!available)("identity, references and modes over the native API", () => {
  let api: TestRegistry;
  let n = 0;
  const subject = (name: string) => `identity.${name}.${++n}`;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  const register = (body: Record<string, unknown>) => api.post("/api/v1/schemas", body);

  test("the resource carries content_id, subject_version and references; one content_id per content", async () => {
    const a = subject("a");
    const b = subject("b");
    const first = await register({ subject: a, schema_type: "json", content: { title: "x" } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ subject_version: 1, references: [] });
    const second = await register({ subject: b, schema_type: "json", content: { title: "x" } });
    expect(second.body.content_id).toBe(first.body.content_id);
    const read = await api.get(`/api/v1/schemas/${first.body.id}`);
    expect(read.body).toMatchObject({ content_id: first.body.content_id, subject_version: 1 });
  });

  test("Avro: a named type from a referenced subject version resolves; without the reference the schema is invalid", async () => {
    const address = subject("address");
    const customer = subject("customer");
    expect((await register({ subject: address, schema_type: "avro", content: ADDRESS_AVRO })).status).toBe(
      201,
    );
    const without = await register({ subject: customer, schema_type: "avro", content: CUSTOMER_AVRO });
    expect(without.status).toBe(422);
    expect(without.body.error.code).toBe("invalid_schema");
    const references = [{ name: "com.acme.Address", subject: address, version: 1 }];
    const withRef = await register({
      subject: customer,
      schema_type: "avro",
      content: CUSTOMER_AVRO,
      references,
    });
    expect(withRef.status).toBe(201);
    expect(withRef.body.references).toEqual(references);
    // Data validation resolves the referenced named type too.
    const valid = await api.post(`/api/v1/schemas/${withRef.body.id}/validate`, {
      name: "Ada",
      address: { street: "Main" },
    });
    expect(valid.body).toMatchObject({ valid: true });
    const invalid = await api.post(`/api/v1/schemas/${withRef.body.id}/validate`, {
      name: "Ada",
      address: {},
    });
    expect(invalid.body).toMatchObject({ valid: false });
    // A dry run takes the references as a register does.
    const dryRun = await api.post(`/api/v1/subjects/${customer}/compatibility`, {
      schema_type: "avro",
      content: CUSTOMER_AVRO,
      references,
    });
    expect(dryRun.body).toMatchObject({ compatible: true, existing_id: withRef.body.id });
    // The same again answers the same schema.
    const again = await register({
      subject: customer,
      schema_type: "avro",
      content: CUSTOMER_AVRO,
      references,
    });
    expect([again.status, again.body.id]).toEqual([200, withRef.body.id]);
  });

  test("a reference to a version that does not exist is 422 invalid_schema naming it, and nothing is stored", async () => {
    const s = subject("dangling");
    const before = await api.snapshot();
    const res = await register({
      subject: s,
      schema_type: "json",
      content: { $ref: "other.json" },
      references: [{ name: "other.json", subject: subject("nowhere"), version: 3 }],
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "invalid_schema", details: { resource: "reference" } });
    expect(res.body.error.message).toContain("other.json");
    expect(await api.snapshot()).toEqual(before);
  });

  test("JSON Schema: a $ref fragment into a reference must resolve in it", async () => {
    const common = subject("common");
    await register({
      subject: common,
      schema_type: "json",
      content: { $defs: { Id: { type: "string" } } },
    });
    const references = [{ name: "common.json", subject: common, version: 1 }];
    const good = await register({
      subject: subject("user"),
      schema_type: "json",
      content: { type: "object", properties: { id: { $ref: "common.json#/$defs/Id" } } },
      references,
    });
    expect(good.status).toBe(201);
    const bad = await register({
      subject: subject("user"),
      schema_type: "json",
      content: { type: "object", properties: { id: { $ref: "common.json#/$defs/Nope" } } },
      references,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain("common.json");
  });

  test("Protobuf: an import resolves against its reference; a referenced version cannot be deleted", async () => {
    const money = subject("money");
    const base = await register({ subject: money, schema_type: "protobuf", content: COMMON_PROTO });
    expect(base.status).toBe(201);
    const order = await register({
      subject: subject("order"),
      schema_type: "protobuf",
      content: ORDER_PROTO,
      references: [{ name: "acme/money.proto", subject: money, version: 1 }],
    });
    expect(order.status).toBe(201);
    const refused = await api.request("DELETE", `/api/v1/schemas/${base.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toMatchObject({
      resource: "reference",
      referenced_by: [order.body.content_id],
    });
    expect((await api.get(`/api/v1/schemas/${base.body.id}`)).status).toBe(200);
  });

  test("subjects with spaces, Unicode and / (as %2F) register and read back", async () => {
    for (const name of ["a/b", "orders value", "订单/价值"]) {
      const s = `${name} ${++n}`;
      const res = await register({ subject: s, schema_type: "json", content: { title: s } });
      expect(res.status).toBe(201);
      const versions = await api.get(`/api/v1/subjects/${encodeURIComponent(s)}/versions`);
      expect(versions.status).toBe(200);
      expect(versions.body.items.map((item: { id: string }) => item.id)).toEqual([res.body.id]);
      const found = await api.get(`/api/v1/search?subject=${encodeURIComponent(s)}`);
      expect(found.body.items.map((item: { id: string }) => item.id)).toEqual([res.body.id]);
    }
    const control = await register({ subject: "a\u0001b", schema_type: "json", content: { title: "c" } });
    expect(control.status).toBe(400);
  });

  test("READONLY refuses the native API's writes with 409 read_only, and the Confluent API's too", async () => {
    const s = subject("readonly");
    const first = await register({ subject: s, schema_type: "json", content: { title: "ro" } });
    await api.registry.confluent.setSubjectMode(s, "READONLY");
    const refusals = [
      await register({ subject: s, schema_type: "json", content: { title: "ro-2" } }),
      await api.request("DELETE", `/api/v1/schemas/${first.body.id}`),
      await api.request("PATCH", `/api/v1/schemas/${first.body.id}/state`, { body: { state: "deprecated" } }),
      await api.request("PUT", `/api/v1/subjects/${s}/config`, { body: { compatibility: "NONE" } }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({
        code: "read_only",
        details: { resource: "mode", mode: "READONLY" },
      });
    }
    const confluent = await api.registry.confluent
      .register(s, { schema: '{"title":"ro-3"}', schemaType: "json", references: [] })
      .catch((error: unknown) => error);
    expect(confluent).toMatchObject({ code: "read_only" });
    // The mode itself may change: back to READWRITE, the write goes through.
    expect(await api.registry.confluent.deleteSubjectMode(s)).toBe("READONLY");
    expect((await register({ subject: s, schema_type: "json", content: { title: "ro-2" } })).status).toBe(
      201,
    );
  });

  test("IMPORT: only into an empty subject (unless forced); registers keep their id and version; an id outside IMPORT is refused", async () => {
    const confluent = api.registry.confluent;
    const busy = subject("busy");
    await register({ subject: busy, schema_type: "json", content: { title: "busy" } });
    expect(await confluent.setSubjectMode(busy, "IMPORT").catch((e: unknown) => e)).toMatchObject({
      details: { resource: "mode", reason: "not_empty" },
    });
    const s = subject("import");
    const outside = await confluent
      .register(s, { schema: '{"title":"imp"}', schemaType: "json", references: [], id: 4242, version: 3 })
      .catch((e: unknown) => e);
    expect(outside).toMatchObject({ code: "read_only", details: { resource: "mode" } });
    await confluent.setSubjectMode(s, "IMPORT");
    const id = 5_000_000 + n;
    expect(
      await confluent.register(s, {
        schema: '{"title":"imported"}',
        schemaType: "json",
        references: [],
        id,
        version: 3,
      }),
    ).toMatchObject({ id, version: 3 });
    expect((await confluent.version(s, 3)).id).toBe(id);
    expect((await confluent.schemaById(id)).schema).toBe('{"title":"imported"}');
  });
});

/**
 * One HTTP suite for every host (Bun, Deno with an edge host's permissions,
 * workerd): a list of cases, each a request and what a user must see, run in
 * order against a registry reached only by its URL. Every host gets the same
 * expectations; a case that a host cannot serve the same way is a finding,
 * not a branch here.
 *
 * Cases share what earlier ones created (ids, subjects) through `state`; a
 * subject name is unique per run so one database can serve several hosts.
 */
import { expect } from "bun:test";

export interface SuiteState {
  /** Unique per host run: subjects do not collide when hosts share a database. */
  tag: string;
  ids: Record<string, string>;
  numbers: Record<string, number>;
}

export interface HttpCase {
  name: string;
  run(url: string, state: SuiteState): Promise<void>;
}

const JSON_HEADERS = { "Content-Type": "application/json" };
const CONFLUENT = { "Content-Type": "application/vnd.schemaregistry.v1+json" };

async function call(
  url: string,
  method = "GET",
  body?: unknown,
  headers: Record<string, string> = JSON_HEADERS,
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, {
    method,
    redirect: "manual",
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body), headers }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: the case asserts on the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const orderSchema = (required: string[]) => ({
  type: "object",
  title: "Order placed at the edge",
  properties: { id: { type: "string" }, total: { type: "number" } },
  required,
});

/** A JSON schema over S3_MIN_SIZE_BYTES (2 KiB in hostEnv), so its content goes to the object store. */
const largeSchema = {
  type: "object",
  properties: Object.fromEntries(
    Array.from({ length: 80 }, (_, i) => [
      `field_${i}`,
      { type: "string", description: `field number ${i}` },
    ]),
  ),
};

const avroSchema = JSON.stringify({
  type: "record",
  name: "Payment",
  namespace: "edge.test",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "double" },
  ],
});

export const HTTP_SUITE: readonly HttpCase[] = [
  {
    name: "is live and ready",
    async run(url) {
      expect((await call(`${url}/health/live`)).status).toBe(200);
      // The first probes of a fresh process may find a backend's first connection slower than the L2
      // budget (degraded); ready within a few seconds is what a load balancer waits for.
      let ready = await call(`${url}/health/ready`);
      for (let tries = 0; ready.body?.status !== "ready" && tries < 20; tries++) {
        await Bun.sleep(250);
        ready = await call(`${url}/health/ready`);
      }
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("ready");
    },
  },
  {
    // A Worker builds the app on the first request its schema fast path passes on (create-registry.ts):
    // the pages and the answers that come from the app itself, not from a route's handler.
    name: "serves the OpenAPI document, the docs page and the console; 404 and 405 in the envelope",
    async run(url) {
      const document = await call(`${url}/openapi.json`);
      expect(document.status).toBe(200);
      expect(document.body.openapi).toBe("3.1.0");
      expect(Object.keys(document.body.paths)).toContain("/api/v1/schemas/{id}");
      expect(document.body.components.schemas.Schema.properties.content_id).toBeDefined();
      for (const page of ["/docs", "/ui"]) {
        const html = await call(`${url}${page}`);
        expect(html.status).toBe(200);
        expect(html.headers.get("content-type")).toContain("text/html");
      }
      expect(String((await call(`${url}/ui`)).body)).toContain("· Schema Registry</title>");
      const missing = await call(`${url}/no/such/path`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
      const wrongMethod = await call(`${url}/api/v1/subjects`, "DELETE");
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.body.error.code).toBe("method_not_allowed");
      expect(wrongMethod.headers.get("allow")).toContain("GET");
    },
  },
  {
    name: "registers a JSON schema (201), and the same content again answers the existing one (200)",
    async run(url, state) {
      const subject = `edge.${state.tag}.Order`;
      const created = await call(`${url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content: orderSchema(["id"]),
        metadata: { tags: ["edge"] },
      });
      expect(created.status).toBe(201);
      expect(created.body.version).toBe("1.0.0");
      expect(created.body.content_location).toBe("inline");
      state.ids.order = created.body.id;
      state.numbers.orderGlobal = created.body.global_id;
      const again = await call(`${url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content: orderSchema(["id"]),
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(created.body.id);
      const next = await call(`${url}/api/v1/schemas`, "POST", {
        subject,
        schema_type: "json",
        content: orderSchema([]),
      });
      expect(next.status).toBe(201);
      expect(next.body.version).toBe("1.1.0");
    },
  },
  {
    name: "reads it by id, by global id, by subject and version, and as the latest",
    async run(url, state) {
      const subject = `edge.${state.tag}.Order`;
      const byId = await call(`${url}/api/v1/schemas/${state.ids.order}`);
      expect(byId.status).toBe(200);
      expect(byId.body.content).toEqual(orderSchema(["id"]));
      const etag = byId.headers.get("ETag");
      expect(etag).toBeTruthy();
      // A second read is an L1 hit on every host: same body, same ETag.
      const cached = await call(`${url}/api/v1/schemas/${state.ids.order}`);
      expect(cached.headers.get("ETag")).toBe(etag);
      const notModified = await fetch(`${url}/api/v1/schemas/${state.ids.order}`, {
        headers: { "If-None-Match": etag ?? "" },
      });
      expect(notModified.status).toBe(304);
      await notModified.arrayBuffer();
      const byGlobal = await call(`${url}/api/v1/schemas/${state.numbers.orderGlobal}`);
      expect(byGlobal.body.id).toBe(state.ids.order);
      const byVersion = await call(`${url}/api/v1/subjects/${subject}/versions/1.0.0`);
      expect(byVersion.body.id).toBe(state.ids.order);
      const latest = await call(`${url}/api/v1/subjects/${subject}/versions/latest`);
      expect(latest.body.version).toBe("1.1.0");
      const versions = await call(`${url}/api/v1/subjects/${subject}/versions`);
      expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(["1.1.0", "1.0.0"]);
    },
  },
  {
    name: "answers an unknown id 404 and a malformed one 400, in the error envelope",
    async run(url) {
      const missing = await call(`${url}/api/v1/schemas/00000000-0000-4000-8000-000000000000`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
      const malformed = await call(`${url}/api/v1/schemas/not-an-id!`);
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe("invalid_request");
    },
  },
  {
    name: "refuses an invalid schema with 422 invalid_schema",
    async run(url, state) {
      const refused = await call(`${url}/api/v1/schemas`, "POST", {
        subject: `edge.${state.tag}.Broken`,
        schema_type: "json",
        content: { type: "no-such-type" },
      });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe("invalid_schema");
    },
  },
  {
    name: "refuses a body over the host's limit with 413 payload_too_large, and keeps serving",
    async run(url, state) {
      const huge = JSON.stringify({
        subject: `edge.${state.tag}.Huge`,
        schema_type: "json",
        // Over the registry's body limit (MAX_SCHEMA_BYTES 256 KiB in hostEnv gives about 0.6 MiB), under
        // Bun's own cap (1 MiB above it), so the registry answers, in its envelope, on every host.
        content: { type: "string", description: "x".repeat(1024 * 1024) },
      });
      const refused = await call(`${url}/api/v1/schemas`, "POST", huge);
      expect(refused.status).toBe(413);
      expect(refused.body.error.code).toBe("payload_too_large");
      expect((await call(`${url}/health/live`)).status).toBe(200);
    },
  },
  {
    name: "keeps large content in S3 and hands out a presigned URL that serves it",
    async run(url, state) {
      const created = await call(`${url}/api/v1/schemas`, "POST", {
        subject: `edge.${state.tag}.Large`,
        schema_type: "json",
        content: largeSchema,
      });
      expect(created.status).toBe(201);
      expect(created.body.content_location).toBe("object_store");
      const read = await call(`${url}/api/v1/schemas/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(typeof read.body.content_url).toBe("string");
      const object = await fetch(read.body.content_url);
      expect(object.status).toBe(200);
      expect(JSON.parse(await object.text())).toEqual(largeSchema);
      const inlined = await call(`${url}/api/v1/schemas/${created.body.id}?include=content`);
      expect(inlined.body.content).toEqual(largeSchema);
    },
  },
  {
    name: "Confluent API: registers, reads by id, looks a schema up under its subject",
    async run(url, state) {
      const subject = `edge-${state.tag}-payments-value`;
      const registered = await call(
        `${url}/subjects/${subject}/versions`,
        "POST",
        { schemaType: "AVRO", schema: avroSchema },
        CONFLUENT,
      );
      expect(registered.status).toBe(200);
      expect(typeof registered.body.id).toBe("number");
      const id = registered.body.id as number;
      const again = await call(
        `${url}/subjects/${subject}/versions`,
        "POST",
        { schemaType: "AVRO", schema: avroSchema },
        CONFLUENT,
      );
      expect(again.body.id).toBe(id);
      const byId = await call(`${url}/schemas/ids/${id}`);
      expect(byId.status).toBe(200);
      expect(JSON.parse(byId.body.schema)).toEqual(JSON.parse(avroSchema));
      const lookup = await call(
        `${url}/subjects/${subject}`,
        "POST",
        { schemaType: "AVRO", schema: avroSchema },
        CONFLUENT,
      );
      expect(lookup.status).toBe(200);
      expect(lookup.body).toMatchObject({ subject, id, version: 1 });
      const versions = await call(`${url}/subjects/${subject}/versions`);
      expect(versions.body).toEqual([1]);
      const latest = await call(`${url}/subjects/${subject}/versions/latest`);
      expect(latest.body).toMatchObject({ subject, id, version: 1 });
      const unknown = await call(`${url}/schemas/ids/99999999`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error_code).toBe(40403);
      const notThere = await call(
        `${url}/subjects/${subject}`,
        "POST",
        { schemaType: "AVRO", schema: avroSchema.replace("amount", "sum") },
        CONFLUENT,
      );
      expect(notThere.status).toBe(404);
      expect(notThere.body.error_code).toBe(40403);
    },
  },
];

export function newSuiteState(host: string): SuiteState {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return { tag: `${host.replace(/[^a-z]/g, "")}${random}`, ids: {}, numbers: {} };
}

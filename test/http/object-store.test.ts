/**
 * The object-store tier end to end through `app.request()`: the registry
 * started by its composition root with S3_BUCKET pointing at s3rver, on a
 * database of the machine's PostgreSQL. Size routing, reads (resource with
 * content_url, include=content, the content route's 307 and redirect=false,
 * the presigned URL with plain fetch), direct uploads, nothing orphaned
 * (failed registers, permanent deletes, the sweep, the commit lock), an
 * object store that cannot be reached, health and OpenAPI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { ObjectContentStore } from "../../src/content/object-content-store.ts";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { prepareContent } from "../../src/domain/content.ts";
import type { SchemaRepository } from "../../src/storage/storage.ts";
import { bytesOf, KiB, largeJsonSchema, MiB, sameBytes } from "../content/helpers.ts";
import { type JsonBody, jsonSchema, startTestRegistry, type TestRegistry, until } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { closedEndpoint, S3RVER_CREDENTIALS, s3Env, startS3, type TestS3 } from "../support/s3.ts";

const available = await postgresAvailable();
const HOUR = 60 * 60 * 1000;
const encoder = new TextEncoder();

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const keyOf = (hash: string) => `schemas/${hash.slice("sha256:".length)}.json`;

const credentials = { credentials: { ...S3RVER_CREDENTIALS } };

describe.skipIf(!available)("object-store tier through the API", () => {
  let s3: TestS3;
  let api: TestRegistry;
  let tier: ObjectContentStore<SchemaRepository>;

  beforeAll(async () => {
    s3 = await startS3();
    api = await startTestRegistry({ database: "postgres", env: s3Env(s3), objectStore: credentials });
    tier = api.registry.objectContent!;
  });
  afterAll(async () => {
    await api?.close();
    await s3?.stop();
  });

  const register = (body: Record<string, unknown>) => api.post("/api/v1/schemas", body);

  /** The canonical bytes of a JSON value, as the registry stores and serves them. */
  const canonical = (value: unknown) => encoder.encode(canonicalJson(value));

  test("1 KiB stays inline", async () => {
    const res = await register({ subject: "small.inline", schema_type: "json", content: jsonSchema(1) });
    expect(res.status).toBe(201);
    expect(res.body.content_location).toBe("inline");
    expect(res.body.content).toEqual(jsonSchema(1));
    expect(res.body.content_url).toBeUndefined();
    expect(res.body.content_size).toBeLessThan(KiB);
    expect(await s3.store.head(keyOf(res.body.content_hash))).toBeNull();
    const [row] = (await api.snapshot()).schemas.filter((r) => r.id === res.body.id);
    expect(row).toMatchObject({ content_location: "inline", content_key: null });
  });

  describe("2 MiB goes to the object store and reads back byte-identical", () => {
    const content = largeJsonSchema(2 * MiB, 1);
    const bytes = canonical(content);
    let created: JsonBody;

    test("register: 201 with content_url in place of content; the row records key, size and hash", async () => {
      const before = Date.now();
      const res = await register({ subject: "large.two", schema_type: "json", content });
      expect(res.status).toBe(201);
      created = res.body;
      expect(created.content_location).toBe("object_store");
      expect(created.content).toBeUndefined();
      expect(created.content_size).toBe(bytes.byteLength);
      expect(created.content_hash).toBe(sha256(bytes));
      expect(created.content_url).toStartWith(`${s3.endpoint}/${s3.bucket}/schemas/`);
      const expires = Date.parse(created.content_url_expires_at);
      expect(expires - before).toBeGreaterThan(HOUR - 60_000);
      expect(expires - before).toBeLessThanOrEqual(HOUR + 60_000);

      const [row] = (await api.snapshot()).schemas.filter((r) => r.id === created.id);
      expect(row).toMatchObject({
        content: null,
        content_location: "object_store",
        content_key: keyOf(created.content_hash),
        content_size: bytes.byteLength,
        content_hash: created.content_hash,
      });
      const head = await s3.store.head(keyOf(created.content_hash));
      expect(head?.size).toBe(bytes.byteLength);
      expect(head?.contentType).toBe("application/schema+json");
    });

    test("GET gives content_url; the presigned URL serves the bytes to plain fetch", async () => {
      const res = await api.get(`/api/v1/schemas/${created.id}`);
      expect(res.status).toBe(200);
      expect(res.body.content).toBeUndefined();
      expect(res.body.content_url_expires_at).toBeDefined();
      const direct = await fetch(res.body.content_url);
      expect(direct.status).toBe(200);
      expect(direct.headers.get("content-type")).toBe("application/schema+json");
      expect(sameBytes(new Uint8Array(await direct.arrayBuffer()), bytes)).toBe(true);
    });

    test("?include=content inlines it, in the resource and in lists", async () => {
      const one = await api.get(`/api/v1/schemas/${created.global_id}?include=content`);
      expect(one.status).toBe(200);
      expect(one.body.content_url).toBeUndefined();
      expect(canonicalJson(one.body.content)).toBe(canonicalJson(content));
      const list = await api.get("/api/v1/subjects/large.two/versions?include=content");
      expect(canonicalJson(list.body.items[0].content)).toBe(canonicalJson(content));
      const bare = await api.get("/api/v1/subjects/large.two/versions");
      expect(bare.body.items[0].content).toBeUndefined();
    });

    test("the content route answers 307 to the presigned URL; ?redirect=false streams the bytes", async () => {
      const redirect = await api.registry.app.request(`/api/v1/schemas/${created.id}/content`);
      expect(redirect.status).toBe(307);
      expect(redirect.headers.get("Cache-Control")).toBe("no-store");
      const location = redirect.headers.get("Location")!;
      const followed = await fetch(location);
      expect(sameBytes(new Uint8Array(await followed.arrayBuffer()), bytes)).toBe(true);

      const streamed = await api.registry.app.request(`/api/v1/schemas/${created.id}/content?redirect=false`);
      expect(streamed.status).toBe(200);
      expect(streamed.headers.get("Content-Type")).toBe("application/schema+json");
      expect(streamed.headers.get("Content-Length")).toBe(String(bytes.byteLength));
      expect(streamed.headers.get("ETag")).toBe(`"${created.content_hash}"`);
      expect(sameBytes(new Uint8Array(await streamed.arrayBuffer()), bytes)).toBe(true);
    });

    test("the same content registered again is the same schema; under another subject, the same object", async () => {
      const again = await register({ subject: "large.two", schema_type: "json", content });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(created.id);
      expect(again.body.content_url).toBeDefined();
      const uploads = tier.stats().uploads;
      const other = await register({ subject: "large.two.copy", schema_type: "json", content });
      expect(other.status).toBe(201);
      expect(tier.stats().uploads).toBe(uploads);
      const rows = (await api.snapshot()).schemas.filter((r) => r.content_hash === created.content_hash);
      expect(rows.map((r) => r.content_key)).toEqual([
        keyOf(created.content_hash),
        keyOf(created.content_hash),
      ]);
    });
  });

  describe("nothing orphaned, nothing dangling", () => {
    test("a register refused after its upload (version_exists) removes the object", async () => {
      const first = await register({
        subject: "orphan.clash",
        schema_type: "json",
        version: "1.0.0",
        content: largeJsonSchema(MiB + 10 * KiB, 2),
      });
      expect(first.status).toBe(201);
      const clashing = largeJsonSchema(MiB + 10 * KiB, 3);
      const before = await api.snapshot();
      const res = await register({
        subject: "orphan.clash",
        schema_type: "json",
        version: "1.0.0",
        content: clashing,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("version_exists");
      expect(await s3.store.head(keyOf(sha256(canonical(clashing))))).toBeNull();
      expect(await api.snapshot()).toEqual(before);
      expect(await s3.store.head(keyOf(first.body.content_hash))).not.toBeNull();
    });

    test("an object another row uses is kept when a register sharing it fails", async () => {
      const shared = largeJsonSchema(MiB + 20 * KiB, 4);
      const owner = await register({ subject: "orphan.owner", schema_type: "json", content: shared });
      await register({
        subject: "orphan.taken",
        schema_type: "json",
        version: "1.0.0",
        content: jsonSchema(7),
      });
      const res = await register({
        subject: "orphan.taken",
        schema_type: "json",
        version: "1.0.0",
        content: shared,
      });
      expect(res.status).toBe(409);
      expect(await s3.store.head(keyOf(owner.body.content_hash))).not.toBeNull();
    });

    test("a permanent delete removes the object once no row uses it; soft-deleted rows keep theirs", async () => {
      const content = largeJsonSchema(MiB + 30 * KiB, 5);
      const a = (await register({ subject: "purge.a", schema_type: "json", content })).body;
      const b = (await register({ subject: "purge.b", schema_type: "json", content })).body;
      const key = keyOf(a.content_hash);
      for (const id of [a.id, b.id]) {
        expect((await api.request("DELETE", `/api/v1/schemas/${id}`)).status).toBe(204);
      }
      expect(await s3.store.head(key)).not.toBeNull();
      expect((await api.request("DELETE", `/api/v1/schemas/${a.id}?permanent=true`)).status).toBe(204);
      expect(await s3.store.head(key)).not.toBeNull();
      expect((await api.request("DELETE", `/api/v1/schemas/${b.id}?permanent=true`)).status).toBe(204);
      expect(await s3.store.head(key)).toBeNull();
    });

    test("the sweep removes old orphans and expired uploads, and nothing a row points at", async () => {
      const referenced = (
        await register({
          subject: "sweep.kept",
          schema_type: "json",
          content: largeJsonSchema(MiB + 40 * KiB, 6),
        })
      ).body;
      const orphan = await s3.content.putContent(bytesOf(3 * KiB, 61), "json");
      const youngOrphan = await s3.content.putContent(bytesOf(3 * KiB, 62), "json");
      const ticket = (await api.post("/api/v1/uploads", { schema_type: "json", content_length: 10 })).body;
      const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: '{"a": 1}  ' });
      expect(put.ok).toBe(true);
      const uploadKey = `schemas/uploads/${ticket.upload_id}`;
      // s3rver may still be writing the upload after it answered: age each object until the store says so.
      for (const key of [keyOf(referenced.content_hash), orphan.key, uploadKey]) {
        await until(
          async () => {
            await s3.backdate(key, 2 * HOUR);
            return (await s3.store.head(key))?.lastModified.getTime() ?? Date.now();
          },
          (modified) => modified < Date.now() - HOUR,
          2_000,
        );
      }

      const dry = await tier.sweep({ dryRun: true });
      expect(dry).toMatchObject({ orphansDeleted: 1, uploadsExpired: 1 });
      expect(await s3.store.head(orphan.key)).not.toBeNull();

      const report = await tier.sweep();
      expect(report).toMatchObject({ orphansDeleted: 1, uploadsExpired: 1, failed: 0 });
      expect(await s3.store.head(orphan.key)).toBeNull();
      expect(await s3.store.head(uploadKey)).toBeNull();
      expect(await s3.store.head(youngOrphan.key)).not.toBeNull();
      expect(await s3.store.head(keyOf(referenced.content_hash))).not.toBeNull();
      expect(tier.stats()).toMatchObject({ sweptOrphans: 1, sweptUploads: 1 });
    });

    test("the server sweeps by itself every S3_SWEEP_INTERVAL_SECONDS", async () => {
      const orphan = await s3.content.putContent(bytesOf(2 * KiB, 63), "json");
      await s3.backdate(orphan.key, 2 * HOUR);
      const sweeping = await startTestRegistry({
        database: api.registry.database.url as `postgres://${string}`,
        env: s3Env(s3, { S3_SWEEP_INTERVAL_SECONDS: "1" }),
        objectStore: credentials,
      });
      try {
        const deadline = Date.now() + 5000;
        while ((await s3.store.head(orphan.key)) !== null && Date.now() < deadline) await Bun.sleep(100);
        expect(await s3.store.head(orphan.key)).toBeNull();
        expect(sweeping.registry.objectContent!.stats().sweeps).toBeGreaterThanOrEqual(1);
      } finally {
        await sweeping.registry.close();
      }
    });

    test("a commit writes the object again when a removal took it after it was placed", async () => {
      const prepared = await prepareContent("json", largeJsonSchema(MiB + 50 * KiB, 7));
      const placed = await tier.place({ ...prepared, schemaType: "json" });
      await s3.store.delete(placed.contentKey!);
      const restored = tier.stats().restored;
      const outcome = await tier.commit(placed, (db) =>
        db!.register(rowOf("lock.restore", prepared, placed.contentKey!)),
      );
      expect(outcome.created).toBe(true);
      expect(tier.stats().restored).toBe(restored + 1);
      expect(sameBytes(await s3.content.readContent(placed.contentKey!), canonical(prepared.value))).toBe(
        true,
      );
    });

    test("a removal waits for a commit holding the key, then sees its row and keeps the object", async () => {
      const prepared = await prepareContent("json", largeJsonSchema(MiB + 60 * KiB, 8));
      const placed = await tier.place({ ...prepared, schemaType: "json" });
      const again = await tier.place({ ...prepared, schemaType: "json" });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const committing = tier.commit(placed, async (db) => {
        const outcome = await db!.register(rowOf("lock.wait", prepared, placed.contentKey!));
        await gate;
        return outcome;
      });
      await Bun.sleep(100);
      let discarded = false;
      const discarding = tier.discard(again).then(() => {
        discarded = true;
      });
      await Bun.sleep(200);
      expect(discarded).toBe(false);
      open();
      await committing;
      await discarding;
      expect(await s3.store.head(placed.contentKey!)).not.toBeNull();
    });
  });

  describe("direct uploads", () => {
    const upload = async (text: string, schemaType = "json") => {
      const body = encoder.encode(text);
      const res = await api.post("/api/v1/uploads", {
        schema_type: schemaType,
        content_length: body.byteLength,
      });
      expect(res.status).toBe(201);
      const put = await fetch(res.body.url, { method: res.body.method, headers: res.body.headers, body });
      expect(put.status).toBe(200);
      return res.body;
    };

    test("ticket, PUT straight to the store, register with upload_id: the staging object goes", async () => {
      const content = largeJsonSchema(2 * MiB, 9);
      // Pretty printed: the registry stores the canonical form, whatever the client wrote.
      const ticket = await upload(JSON.stringify(content, null, 2));
      expect(ticket.upload_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(ticket.expires_at)).toBeGreaterThan(Date.now());
      expect(ticket.headers["content-type"]).toBe("application/schema+json");

      const res = await register({
        subject: "upload.large",
        schema_type: "json",
        upload_id: ticket.upload_id,
      });
      expect(res.status).toBe(201);
      expect(res.body.content_location).toBe("object_store");
      expect(res.body.content_hash).toBe(sha256(canonical(content)));
      expect(res.body.content_url).toBeDefined();
      expect(await s3.store.head(`schemas/uploads/${ticket.upload_id}`)).toBeNull();
      const read = await api.get(`/api/v1/schemas/${res.body.id}?include=content`);
      expect(canonicalJson(read.body.content)).toBe(canonicalJson(content));

      const reused = await register({
        subject: "upload.again",
        schema_type: "json",
        upload_id: ticket.upload_id,
      });
      expect(reused.status).toBe(404);
      expect(reused.body.error.code).toBe("not_found");
    });

    test("small uploaded content lands inline; .proto source is taken as it is", async () => {
      const ticket = await upload(
        'syntax = "proto3";\npackage up;\nmessage Ping {\n  string id = 1;\n}\n',
        "protobuf",
      );
      const res = await register({
        subject: "upload.proto",
        schema_type: "protobuf",
        upload_id: ticket.upload_id,
      });
      expect(res.status).toBe(201);
      expect(res.body.content_location).toBe("inline");
      expect(res.body.content).toContain("message Ping");
    });

    test("uploaded content that is not a valid schema: 422, nothing stored, the upload kept for a retry", async () => {
      const ticket = await upload('{"type": "no such type"}');
      const before = await api.snapshot();
      const res = await register({ subject: "upload.bad", schema_type: "json", upload_id: ticket.upload_id });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("invalid_schema");
      expect(await api.snapshot()).toEqual(before);
      expect(await s3.store.head(`schemas/uploads/${ticket.upload_id}`)).not.toBeNull();
    });

    test("limits and malformed requests answer with the error envelope", async () => {
      const tooLarge = await api.post("/api/v1/uploads", {
        schema_type: "json",
        content_length: 48 * MiB + 1,
      });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.error.code).toBe("payload_too_large");
      const noType = await api.post("/api/v1/uploads", { content_length: 10 });
      expect(noType.status).toBe(400);
      const zero = await api.post("/api/v1/uploads", { schema_type: "json", content_length: 0 });
      expect(zero.status).toBe(400);
      const both = await register({
        subject: "upload.both",
        schema_type: "json",
        content: jsonSchema(1),
        upload_id: crypto.randomUUID(),
      });
      expect(both.status).toBe(400);
      expect(both.body.error.message).toContain("either content or upload_id");
      const neither = await register({ subject: "upload.neither", schema_type: "json" });
      expect(neither.status).toBe(400);
      const notUuid = await register({ subject: "upload.x", schema_type: "json", upload_id: "nope" });
      expect(notUuid.status).toBe(400);
      const unknown = await register({
        subject: "upload.x",
        schema_type: "json",
        upload_id: crypto.randomUUID(),
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
    });

    test("an upload larger than the limit it announced is refused by the store", async () => {
      const res = await api.post("/api/v1/uploads", { schema_type: "json", content_length: 10 });
      const put = await fetch(res.body.url, {
        method: "PUT",
        headers: res.body.headers,
        body: "x".repeat(11),
      });
      expect(put.ok).toBe(false);
    });
  });

  test("health shows the object store with its latency; its counters are there for metrics", async () => {
    const res = await api.get("/health");
    expect(res.body.components.object_store).toMatchObject({ status: "up", critical: false });
    expect(res.body.components.object_store.latency_ms).toBeGreaterThan(0);
    const stats = tier.stats();
    expect(stats.uploads).toBeGreaterThan(0);
    // Nothing registered here reaches the 8 MiB multipart threshold.
    expect(stats.multipartUploads).toBe(0);
    expect(stats.presignedGets).toBeGreaterThan(0);
    expect(stats.presignedPuts).toBeGreaterThan(0);
    expect(stats.placedObjectStore).toBeGreaterThan(0);
    expect(stats.placedInline).toBeGreaterThan(0);
  });

  test("the OpenAPI document has the upload route and upload_id", async () => {
    const doc = (await api.get("/openapi.json")).body;
    const post = doc.paths["/api/v1/uploads"]?.post;
    expect(Object.keys(post.responses).sort()).toEqual(["201", "400", "404", "413", "415", "500", "503"]);
    expect(doc.components.schemas.UploadTicket.properties.url).toBeDefined();
    expect(doc.components.schemas.RegisterSchema.properties.upload_id).toBeDefined();
    expect(doc.paths["/api/v1/schemas"].post.responses["404"]).toBeDefined();
  });

  describe("object store unreachable", () => {
    let down: TestRegistry;
    let large: JsonBody;

    beforeAll(async () => {
      large = (
        await register({
          subject: "down.before",
          schema_type: "json",
          content: largeJsonSchema(MiB + KiB, 10),
        })
      ).body;
      down = await startTestRegistry({
        database: api.registry.database.url as `postgres://${string}`,
        env: s3Env(s3, { S3_ENDPOINT: await closedEndpoint() }),
        objectStore: credentials,
      });
    });
    afterAll(async () => {
      await down?.registry.close();
    });

    test("registering large content answers 503 unavailable and leaves no row", async () => {
      const before = await down.snapshot();
      const started = performance.now();
      const res = await down.post("/api/v1/schemas", {
        subject: "down.large",
        schema_type: "json",
        content: largeJsonSchema(MiB + KiB, 11),
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("unavailable");
      expect(res.body.error.message).not.toContain("127.0.0.1");
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(await down.snapshot()).toEqual(before);
    });

    test("small content and metadata reads go on; content from the store answers 503", async () => {
      const small = await down.post("/api/v1/schemas", {
        subject: "down.small",
        schema_type: "json",
        content: jsonSchema(3),
      });
      expect(small.status).toBe(201);
      const meta = await down.get(`/api/v1/schemas/${large.id}`);
      expect(meta.status).toBe(200);
      expect(meta.body.content_location).toBe("object_store");
      expect(meta.body.content_url).toBeDefined();
      expect((await down.get("/api/v1/subjects/down.before/versions")).status).toBe(200);
      expect((await down.get("/api/v1/search?subject=down.*")).body.total).toBe(2);
      const inlined = await down.get(`/api/v1/schemas/${large.id}?include=content`);
      expect(inlined.status).toBe(503);
      expect(inlined.body.error.code).toBe("unavailable");
    });

    test("health: the object store down makes the instance degraded, still ready", async () => {
      const health = await down.get("/health");
      expect(health.status).toBe(200);
      expect(health.body.status).toBe("degraded");
      expect(health.body.components.object_store.status).toBe("down");
      const ready = await down.get("/health/ready");
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("degraded");
    });
  });
});

describe.skipIf(!available)("direct uploads without an object store", () => {
  let api: TestRegistry;
  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("POST /uploads and upload_id answer 404 not_found, saying why", async () => {
    const res = await api.post("/api/v1/uploads", { schema_type: "json", content_length: 10 });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain("no object store");
    const reg = await api.post("/api/v1/schemas", {
      subject: "no.store",
      schema_type: "json",
      upload_id: crypto.randomUUID(),
    });
    expect(reg.status).toBe(404);
    expect(api.registry.objectContent).toBeNull();
  });
});

/** A row as the service writes it for placed content, for the tier's commit tests. */
function rowOf(subject: string, prepared: Awaited<ReturnType<typeof prepareContent>>, key: string) {
  return {
    subject,
    version: "1.0.0",
    schemaType: "json" as const,
    state: "active" as const,
    content: null,
    contentText: null,
    contentHash: prepared.contentHash,
    contentSize: prepared.contentSize,
    contentLocation: "object_store" as const,
    contentKey: key,
    metadata: {},
  };
}

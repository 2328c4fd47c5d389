/**
 * ContentBucket against s3rver: content-addressed keys and their idempotence,
 * integrity on read, and the direct-upload flow (ticket, presigned PUT with
 * plain fetch, size-checked read, staging cleanup).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { ContentBucket } from "../../src/content/content-bucket.ts";
import { startS3, type TestS3 } from "../support/s3.ts";
import { bytesOf, KiB, MiB, rejection, sameBytes } from "./helpers.ts";

let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("content-addressed storage", () => {
  test("the key is the prefix, the SHA-256 of the bytes and the type's extension", async () => {
    const bytes = new TextEncoder().encode('{"type":"object"}');
    const stored = await s3.content.putContent(bytes, "json");
    expect(stored).toEqual({
      key: `schemas/${sha256(bytes)}.json`,
      size: bytes.byteLength,
      sha256: sha256(bytes),
      created: true,
    });
    expect(s3.content.keyFor(`sha256:${sha256(bytes)}`, "json")).toBe(stored.key);
    const head = await s3.store.head(stored.key);
    expect(head?.contentType).toBe("application/schema+json");
  });

  test("identical content is stored once", async () => {
    const bytes = bytesOf(2 * MiB, 11);
    const uploadsBefore = s3.store.stats().uploads;
    const first = await s3.content.putContent(bytes, "avro");
    const second = await s3.content.putContent(bytes, "avro");
    expect(second.key).toBe(first.key);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(s3.store.stats().uploads - uploadsBefore).toBe(1);
    expect(sameBytes(await s3.content.readContent(first.key), bytes)).toBe(true);
  });

  test("an old object is written again when reused, so the sweep sees it young", async () => {
    const bytes = bytesOf(3 * KiB, 12);
    const { key } = await s3.content.putContent(bytes, "protobuf");
    await s3.backdate(key, 2 * 60 * 60 * 1000);
    const aged = await s3.store.head(key);
    expect(Date.now() - aged!.lastModified.getTime()).toBeGreaterThan(60 * 60 * 1000);
    const again = await s3.content.putContent(bytes, "protobuf");
    expect(again.created).toBe(false);
    const renewed = await s3.store.head(key);
    expect(Date.now() - renewed!.lastModified.getTime()).toBeLessThan(60 * 1000);
  });

  test("content whose bytes do not match its key is refused on read", async () => {
    const key = s3.content.keyFor(sha256(new TextEncoder().encode("the real content")), "json");
    await s3.store.put(key, new TextEncoder().encode("something else"), { contentType: "application/json" });
    const error = await rejection(s3.content.readContent(key));
    expect(error.code).toBe("internal");
    expect(error.message).toBe("stored content does not match its hash");
  });

  test("a presigned content URL serves the exact bytes", async () => {
    const bytes = bytesOf(2 * MiB, 13);
    const { key } = await s3.content.putContent(bytes, "json");
    const { url, expiresAt } = await s3.content.contentUrl(key);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500 * 1000);
    const response = await fetch(url);
    expect(response.headers.get("content-type")).toBe("application/schema+json");
    expect(sameBytes(new Uint8Array(await response.arrayBuffer()), bytes)).toBe(true);
  });

  test("deleteContent removes the object", async () => {
    const { key } = await s3.content.putContent(bytesOf(500, 14), "json");
    await s3.content.deleteContent(key);
    expect(await s3.store.head(key)).toBeNull();
  });
});

describe("direct upload", () => {
  test("ticket, presigned PUT with plain fetch, read back, promote, discard", async () => {
    const bytes = bytesOf(2 * MiB, 21);
    const ticket = await s3.content.createUpload({ schemaType: "json", contentLength: bytes.byteLength });
    expect(ticket.upload_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ticket.method).toBe("PUT");
    expect(ticket.headers).toEqual({ "content-type": "application/schema+json" });
    expect(Math.abs(Date.parse(ticket.expires_at) - (Date.now() + 3600 * 1000))).toBeLessThan(5000);
    // The checksum pitfall: a presigner left on WHEN_SUPPORTED adds checksum parameters a plain PUT cannot meet.
    expect(ticket.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);

    const put = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: bytes });
    expect(put.status).toBe(200);

    const uploaded = await s3.content.readUpload(ticket.upload_id);
    expect(sameBytes(uploaded, bytes)).toBe(true);

    const stored = await s3.content.putContent(uploaded, "json");
    await s3.content.discardUpload(ticket.upload_id);
    expect(sameBytes(await s3.content.readContent(stored.key), bytes)).toBe(true);
    expect((await rejection(s3.content.readUpload(ticket.upload_id))).code).toBe("not_found");
  });

  test("the signed Content-Type and length are enforced on the PUT", async () => {
    const bytes = bytesOf(1000, 22);
    const ticket = await s3.content.createUpload({ schemaType: "protobuf", contentLength: 1000 });
    const wrongType = await fetch(ticket.url, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(wrongType.status).toBe(403);
    const wrongLength = await fetch(ticket.url, {
      method: "PUT",
      headers: ticket.headers,
      body: bytesOf(1001, 22),
    });
    expect(wrongLength.status).toBe(403);
    expect((await rejection(s3.content.readUpload(ticket.upload_id))).code).toBe("not_found");
  });

  test("ticket requests over the limit or without a length are refused", async () => {
    const tooBig = await rejection(
      s3.content.createUpload({ schemaType: "json", contentLength: 32 * MiB + 1 }),
    );
    expect(tooBig.code).toBe("payload_too_large");
    expect((await rejection(s3.content.createUpload({ schemaType: "json", contentLength: 0 }))).code).toBe(
      "invalid_request",
    );
    expect(await s3.content.createUpload({ schemaType: "json", contentLength: 32 * MiB })).toHaveProperty(
      "upload_id",
    );
  });

  test("an upload over the limit is refused before it is read", async () => {
    const small = new ContentBucket(s3.store, {
      maxObjectBytes: 1000,
      uploadExpirySeconds: 60,
      refreshAfterMs: 0,
    });
    const id = crypto.randomUUID();
    await s3.store.put(`schemas/uploads/${id}`, bytesOf(1001), { contentType: "application/json" });
    const downloads = s3.store.stats().downloads;
    const error = await rejection(small.readUpload(id));
    expect(error.code).toBe("payload_too_large");
    expect(s3.store.stats().downloads).toBe(downloads);
  });

  test("a bounded read stops soon after the limit", async () => {
    await s3.store.put("schemas/bounded", bytesOf(8 * MiB), { contentType: "text/plain" });
    const before = s3.store.stats().bytesDown;
    expect((await rejection(s3.store.get("schemas/bounded", { maxBytes: 1000 }))).code).toBe(
      "payload_too_large",
    );
    expect(s3.store.stats().bytesDown - before).toBeLessThan(2 * MiB);
    const exact = await s3.store.get("schemas/bounded", { maxBytes: 8 * MiB });
    expect(sameBytes(exact, bytesOf(8 * MiB))).toBe(true);
    await s3.store.put("schemas/empty", new Uint8Array(0), { contentType: "text/plain" });
    expect((await s3.store.get("schemas/empty", { maxBytes: 10 })).byteLength).toBe(0);
  });

  test("unknown and malformed upload ids", async () => {
    expect((await rejection(s3.content.readUpload(crypto.randomUUID()))).code).toBe("not_found");
    expect((await rejection(s3.content.readUpload("../../etc/passwd"))).code).toBe("invalid_request");
    expect((await rejection(s3.content.discardUpload("not-a-uuid"))).code).toBe("invalid_request");
  });
});

/**
 * The S3 ObjectStore against a real S3-protocol server (s3rver on 127.0.0.1):
 * byte-exact round trips through get, stream and presigned URL, the single-put
 * and multipart paths, abort on a failed multipart upload, error mapping and
 * counters.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { MAX_PRESIGN_SECONDS } from "../../src/content/config.ts";
import { createS3Client } from "../../src/content/s3-object-store.ts";
import { closedEndpoint, startS3, type TestS3 } from "../support/s3.ts";
import { bytesOf, KiB, MiB, rejection, sameBytes } from "./helpers.ts";

let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

describe("round trips", () => {
  test("1 KiB put and get are byte-identical and single-part", async () => {
    const bytes = bytesOf(KiB, 7);
    const result = await s3.store.put("schemas/small", bytes, { contentType: "application/json" });
    expect(result).toMatchObject({ key: "schemas/small", size: KiB, created: true, multipart: false });
    expect(sameBytes(await s3.store.get("schemas/small"), bytes)).toBe(true);
    const head = await s3.store.head("schemas/small");
    expect(head?.size).toBe(KiB);
    expect(head?.contentType).toBe("application/json");
  });

  test("2 MiB reads back identical through get, stream and a presigned URL with plain fetch", async () => {
    const bytes = bytesOf(2 * MiB, 2);
    const result = await s3.store.put("schemas/two", bytes, { contentType: "application/schema+json" });
    expect(result.multipart).toBe(false);

    expect(sameBytes(await s3.store.get("schemas/two"), bytes)).toBe(true);

    const stream = await s3.store.getStream("schemas/two");
    expect(stream.size).toBe(2 * MiB);
    expect(stream.contentType).toBe("application/schema+json");
    expect(sameBytes(new Uint8Array(await new Response(stream.body).arrayBuffer()), bytes)).toBe(true);

    const presigned = await s3.store.presignGet("schemas/two");
    const expectedExpiry = Date.now() + 3600 * 1000;
    expect(Math.abs(presigned.expiresAt.getTime() - expectedExpiry)).toBeLessThan(5000);
    const response = await fetch(presigned.url);
    expect(response.status).toBe(200);
    expect(sameBytes(new Uint8Array(await response.arrayBuffer()), bytes)).toBe(true);
  });

  test("20 MiB takes the multipart path and reads back identical, presigned URL included", async () => {
    const bytes = bytesOf(20 * MiB, 20);
    const before = s3.store.stats();
    const result = await s3.store.put("schemas/twenty", bytes, { contentType: "application/json" });
    expect(result.multipart).toBe(true);
    const after = s3.store.stats();
    expect(after.multipartUploads - before.multipartUploads).toBe(1);
    expect(after.bytesUp - before.bytesUp).toBe(20 * MiB);

    const head = await s3.store.head("schemas/twenty");
    expect(head?.size).toBe(20 * MiB);
    expect(sameBytes(await s3.store.get("schemas/twenty"), bytes)).toBe(true);
    const response = await fetch((await s3.store.presignGet("schemas/twenty", 60)).url);
    expect(sameBytes(new Uint8Array(await response.arrayBuffer()), bytes)).toBe(true);
  });

  test("with a public endpoint, presigned URLs name it (and work there), while the server uses its own", async () => {
    // Same server, another name for it: what clients outside a compose network would use.
    const publicEndpoint = s3.endpoint.replace("127.0.0.1", "localhost");
    const store = await s3.makeStore({ publicEndpoint });
    await store.put("schemas/public", bytesOf(KiB, 9), { contentType: "application/json" });
    const { url } = await store.presignGet("schemas/public");
    expect(url).toStartWith(`${publicEndpoint}/${s3.bucket}/schemas/public?`);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(sameBytes(new Uint8Array(await response.arrayBuffer()), bytesOf(KiB, 9))).toBe(true);
  });

  test("a presigned URL for a missing object answers 404 from the store, not from the registry", async () => {
    const response = await fetch((await s3.store.presignGet("schemas/never-written")).url);
    expect(response.status).toBe(404);
  });
});

describe("multipart failure", () => {
  test("the test server really lists an upload left incomplete", async () => {
    const admin = createS3Client(s3.config);
    const started = await admin.send(
      new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: "schemas/left-open" }),
    );
    const listed = await s3.listMultipartUploads();
    expect(listed).toContainEqual({ key: "schemas/left-open", uploadId: started.UploadId! });
    admin.destroy();
  });

  test("a part that fails aborts the upload: unavailable, no incomplete upload left, nothing stored", async () => {
    const store = await s3.makeStore({ partSizeBytes: 5 * MiB, partConcurrency: 2 });
    const openBefore = (await s3.listMultipartUploads()).map((u) => u.uploadId);
    s3.injectFault({
      match: (r) => r.method === "PUT" && r.query.get("partNumber") === "2",
      status: 500,
      code: "InternalError",
      times: Number.POSITIVE_INFINITY,
    });
    try {
      const error = await rejection(
        store.put("schemas/broken", bytesOf(12 * MiB, 3), { contentType: "application/json" }),
      );
      expect(error.code).toBe("unavailable");
      expect(error.message).not.toContain("127.0.0.1");
    } finally {
      s3.clearFaults();
    }
    const openAfter = (await s3.listMultipartUploads()).filter((u) => !openBefore.includes(u.uploadId));
    expect(openAfter).toEqual([]);
    expect(await store.head("schemas/broken")).toBeNull();
    expect(store.stats().multipartAborts).toBe(1);
    expect(store.stats().uploads).toBe(0);
  });
});

describe("idempotence and listing", () => {
  test("ifAbsent skips the write when the object is already there", async () => {
    const bytes = bytesOf(4 * KiB, 9);
    const first = await s3.store.put("schemas/once", bytes, { contentType: "text/plain", ifAbsent: true });
    const uploads = s3.store.stats().uploads;
    const second = await s3.store.put("schemas/once", bytes, { contentType: "text/plain", ifAbsent: true });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(s3.store.stats().uploads).toBe(uploads);
    expect(s3.store.stats().dedupedUploads).toBeGreaterThanOrEqual(1);
  });

  test("list yields keys under the prefix with size and last-modified", async () => {
    await s3.store.put("schemas/list/a", bytesOf(10), { contentType: "text/plain" });
    await s3.store.put("schemas/list/b", bytesOf(20), { contentType: "text/plain" });
    await s3.store.put("elsewhere/c", bytesOf(30), { contentType: "text/plain" });
    const seen = [];
    for await (const item of s3.store.list("schemas/list/")) seen.push(item);
    seen.sort((a, b) => a.key.localeCompare(b.key));
    expect(seen.map((i) => [i.key, i.size])).toEqual([
      ["schemas/list/a", 10],
      ["schemas/list/b", 20],
    ]);
    for (const item of seen) expect(Math.abs(item.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
  });

  test("delete removes the object; deleting a missing object is fine", async () => {
    await s3.store.put("schemas/gone", bytesOf(100), { contentType: "text/plain" });
    await s3.store.delete("schemas/gone");
    expect(await s3.store.head("schemas/gone")).toBeNull();
    await s3.store.delete("schemas/gone");
  });
});

describe("errors", () => {
  test("a missing object: head is null, get and getStream throw not_found", async () => {
    expect(await s3.store.head("schemas/missing")).toBeNull();
    expect((await rejection(s3.store.get("schemas/missing"))).code).toBe("not_found");
    expect((await rejection(s3.store.getStream("schemas/missing"))).code).toBe("not_found");
  });

  test("presign expiry must be 1 s to 7 days", async () => {
    expect((await rejection(s3.store.presignGet("schemas/small", 0))).code).toBe("invalid_request");
    expect((await rejection(s3.store.presignGet("schemas/small", MAX_PRESIGN_SECONDS + 1))).code).toBe(
      "invalid_request",
    );
    const longest = await s3.store.presignGet("schemas/small", MAX_PRESIGN_SECONDS);
    expect(longest.url).toContain(`X-Amz-Expires=${MAX_PRESIGN_SECONDS}`);
  });

  test("an unreachable store answers unavailable within seconds, naming no endpoint", async () => {
    const endpoint = await closedEndpoint();
    const store = await s3.makeStore({ endpoint });
    const port = new URL(endpoint).port;
    for (const operation of [
      () => store.put("schemas/x", bytesOf(KiB), { contentType: "text/plain" }),
      () => store.get("schemas/x"),
      () => store.head("schemas/x"),
      () => store.ping(),
    ]) {
      const started = performance.now();
      const error = await rejection(operation());
      expect(performance.now() - started).toBeLessThan(3000);
      expect(error.code).toBe("unavailable");
      expect(error.message).not.toContain(port);
      expect(error.message).not.toContain("127.0.0.1");
    }
    expect(store.stats().errors).toBe(4);
  });

  test("wrong credentials answer unavailable without echoing the key id", async () => {
    const store = await s3.makeStore({
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "wrong-secret" },
    });
    const error = await rejection(store.get("schemas/small"));
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("object store refused the registry's credentials");
  });

  test("a missing bucket answers unavailable", async () => {
    const store = await s3.makeStore({ bucket: "no-such-bucket" });
    const error = await rejection(store.ping());
    expect(error.code).toBe("unavailable");
    const put = await rejection(store.put("schemas/x", bytesOf(10), { contentType: "text/plain" }));
    expect(put.message).toBe("object store bucket does not exist");
  });
});

describe("health and counters", () => {
  test("ping measures the HEAD on the bucket", async () => {
    const { latencyMs } = await s3.store.ping();
    expect(latencyMs).toBeGreaterThan(0);
    expect(latencyMs).toBeLessThan(2000);
  });

  test("stats count uploads, downloads, bytes and presigned URLs", async () => {
    const store = await s3.makeStore();
    const bytes = bytesOf(3000, 5);
    await store.put("schemas/counted", bytes, { contentType: "text/plain" });
    await store.get("schemas/counted");
    const stream = await store.getStream("schemas/counted");
    await new Response(stream.body).arrayBuffer();
    await store.presignGet("schemas/counted");
    await store.presignPut("schemas/uploads/x", 60, { contentType: "text/plain", contentLength: 10 });
    await store.delete("schemas/counted");
    await store.get("schemas/counted").catch(() => undefined);
    expect(store.stats()).toEqual({
      uploads: 1,
      multipartUploads: 0,
      multipartAborts: 0,
      dedupedUploads: 0,
      downloads: 2,
      bytesUp: 3000,
      bytesDown: 6000,
      deletes: 1,
      presignedGets: 1,
      presignedPuts: 1,
      errors: 1,
    });
  });
});

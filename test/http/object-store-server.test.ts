/**
 * The object-store tier over real HTTP: the registry served by Bun.serve on a
 * free port, s3rver behind it, and every request a plain `fetch()` as a client
 * makes it. 2 MiB and 20 MiB schemas register, then read back byte-identical
 * through the 307 (followed by fetch itself), the presigned URL, the streamed
 * route (?redirect=false) and ?include=content.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { largeJsonSchema, MiB, sameBytes } from "../content/helpers.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { S3RVER_CREDENTIALS, s3Env, startS3, type TestS3 } from "../support/s3.ts";

const available = await postgresAvailable();

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe.skipIf(!available)("object-store content over a real server", () => {
  let s3: TestS3;
  let api: TestRegistry;
  let server: ReturnType<typeof Bun.serve>;
  let base: string;

  beforeAll(async () => {
    s3 = await startS3();
    api = await startTestRegistry({
      database: "postgres",
      env: s3Env(s3),
      objectStore: { credentials: { ...S3RVER_CREDENTIALS } },
    });
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: api.registry.fetch });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.stop(true);
    await api?.close();
    await s3?.stop();
  });

  for (const [label, size, seed] of [
    ["2 MiB", 2 * MiB, 21],
    ["20 MiB", 20 * MiB, 22],
  ] as const) {
    test(`${label}: registers over HTTP and reads back byte-identical on every path`, async () => {
      const content = largeJsonSchema(size, seed);
      const text = canonicalJson(content);
      const bytes = new TextEncoder().encode(text);
      const multipartBefore = api.registry.objectContent!.stats().multipartUploads;

      const created = await fetch(`${base}/api/v1/schemas`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ subject: `served.${seed}`, schema_type: "json", content }),
      });
      expect(created.status).toBe(201);
      const schema = (await created.json()) as Record<string, string>;
      expect(schema.content_location).toBe("object_store");
      expect(schema.content_hash).toBe(sha256(bytes));
      // Over the 8 MiB part size the object goes up in parts.
      expect(api.registry.objectContent!.stats().multipartUploads - multipartBefore).toBe(
        size > 8 * MiB ? 1 : 0,
      );

      const contentPath = `${base}/api/v1/schemas/${schema.id}/content`;
      const manual = await fetch(contentPath, { redirect: "manual" });
      expect(manual.status).toBe(307);
      expect(manual.headers.get("Location")).toStartWith(`${s3.endpoint}/${s3.bucket}/schemas/`);

      const followed = await fetch(contentPath);
      expect(followed.redirected).toBe(true);
      expect(followed.status).toBe(200);
      expect(sameBytes(new Uint8Array(await followed.arrayBuffer()), bytes)).toBe(true);

      const presigned = await fetch(schema.content_url!);
      expect(sameBytes(new Uint8Array(await presigned.arrayBuffer()), bytes)).toBe(true);

      const streamed = await fetch(`${contentPath}?redirect=false`);
      expect(streamed.status).toBe(200);
      // Bun sends a streamed body chunked, without the route's Content-Length; the bytes are what count.
      const length = streamed.headers.get("Content-Length");
      if (length !== null) expect(length).toBe(String(bytes.byteLength));
      expect(sameBytes(new Uint8Array(await streamed.arrayBuffer()), bytes)).toBe(true);

      const inlined = await fetch(`${base}/api/v1/schemas/${schema.id}?include=content`);
      const resource = (await inlined.json()) as { content: unknown };
      expect(canonicalJson(resource.content)).toBe(text);
    }, 60_000);
  }
});

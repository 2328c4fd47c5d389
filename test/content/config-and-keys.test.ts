/**
 * The content tier's configuration (defaults, validation, the bridge from the
 * application's configuration) and its object-key shapes.
 */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { resolveS3Config, s3ConfigFromApp } from "../../src/app/config/s3-config.ts";
import { MAX_PRESIGN_SECONDS } from "../../src/content/config.ts";
import { classifyKey, contentKey, uploadKey } from "../../src/content/content-keys.ts";

const HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

describe("configuration", () => {
  test("defaults", () => {
    const config = resolveS3Config({ bucket: "registry" });
    expect(config).toMatchObject({
      bucket: "registry",
      region: "us-east-1",
      prefix: "schemas/",
      forcePathStyle: false,
      minSizeBytes: 1024 * 1024,
      presignExpirySeconds: 3600,
      partSizeBytes: 8 * 1024 * 1024,
    });
    expect(config.endpoint).toBeUndefined();
  });

  test("a prefix gets its trailing slash; null means default", () => {
    expect(resolveS3Config({ bucket: "registry", prefix: "tenant-a/schemas" }).prefix).toBe(
      "tenant-a/schemas/",
    );
    expect(resolveS3Config({ bucket: "registry", prefix: "" }).prefix).toBe("");
    expect(resolveS3Config({ bucket: "registry", endpoint: null }).endpoint).toBeUndefined();
  });

  test("presign expiry is at most seven days; parts are at least 5 MiB", () => {
    expect(
      resolveS3Config({ bucket: "b-1", presignExpirySeconds: MAX_PRESIGN_SECONDS }).presignExpirySeconds,
    ).toBe(604_800);
    expect(() => resolveS3Config({ bucket: "b-1", presignExpirySeconds: MAX_PRESIGN_SECONDS + 1 })).toThrow(
      "presignExpirySeconds",
    );
    expect(() => resolveS3Config({ bucket: "b-1", presignExpirySeconds: 0 })).toThrow("presignExpirySeconds");
    expect(() => resolveS3Config({ bucket: "b-1", partSizeBytes: 1024 * 1024 })).toThrow("partSizeBytes");
    expect(() => resolveS3Config({ bucket: "b-1", endpoint: "not a url" })).toThrow("endpoint");
    expect(() => resolveS3Config({ bucket: "b-1", prefix: "/abs" })).toThrow("prefix");
  });

  test("from the application's configuration (environment)", async () => {
    const app = await loadConfig({
      env: {
        S3_BUCKET: "registry",
        S3_REGION: "eu-west-1",
        S3_PREFIX: "blobs",
        S3_ENDPOINT: "http://minio:9000",
        S3_FORCE_PATH_STYLE: "true",
        S3_MIN_SIZE_BYTES: "2048",
        S3_PRESIGN_EXPIRY_SECONDS: "600",
        S3_PUBLIC_ENDPOINT: "http://localhost:9000",
        S3_UPLOAD_EXPIRY_SECONDS: "900",
        MAX_SCHEMA_BYTES: "1000000",
      },
    });
    expect(s3ConfigFromApp(app)).toMatchObject({
      bucket: "registry",
      region: "eu-west-1",
      prefix: "blobs/",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      minSizeBytes: 2048,
      presignExpirySeconds: 600,
      publicEndpoint: "http://localhost:9000",
      // An upload is the client's text, which may be pretty printed: twice the content limit, as for a body.
      maxObjectBytes: 2_000_000,
      uploadExpirySeconds: 900,
    });
    expect(s3ConfigFromApp(await loadConfig({ env: {} }))).toBeNull();
  });

  test("the sweep schedule and settings configuration does not carry reach the tier, checked alike", async () => {
    const app = await loadConfig({ env: { S3_BUCKET: "registry", S3_SWEEP_INTERVAL_SECONDS: "0" } });
    const credentials = { accessKeyId: "id", secretAccessKey: "secret" };
    expect(s3ConfigFromApp(app, { credentials, partSizeBytes: 5 * 1024 * 1024 })).toMatchObject({
      sweepIntervalSeconds: 0,
      sweepGraceSeconds: 3600,
      partSizeBytes: 5 * 1024 * 1024,
      credentials,
      maxObjectBytes: 32 * 1024 * 1024,
    });
    expect(() => s3ConfigFromApp(app, { partSizeBytes: 1024 })).toThrow("partSizeBytes");
  });
});

describe("keys", () => {
  test("content keys are content-addressed, with the type's extension", () => {
    expect(contentKey("schemas/", `sha256:${HEX}`, "json")).toBe(`schemas/${HEX}.json`);
    expect(contentKey("schemas/", HEX, "avro")).toBe(`schemas/${HEX}.avsc`);
    expect(contentKey("schemas/", HEX, "protobuf")).toBe(`schemas/${HEX}.proto`);
    expect(() => contentKey("schemas/", "sha256:xyz")).toThrow();
  });

  test("upload keys take only UUIDs", () => {
    const id = "3f2b8c1e-5d4a-4b6c-9e8f-0a1b2c3d4e5f";
    expect(uploadKey("schemas/", id)).toBe(`schemas/uploads/${id}`);
    expect(() => uploadKey("schemas/", "../x")).toThrow();
  });

  test("classification tells the sweep what it may touch", () => {
    expect(classifyKey("schemas/", `schemas/${HEX}.json`)).toBe("content");
    expect(classifyKey("schemas/", `schemas/${HEX}`)).toBe("content");
    expect(classifyKey("schemas/", "schemas/uploads/3f2b8c1e-5d4a-4b6c-9e8f-0a1b2c3d4e5f")).toBe("upload");
    expect(classifyKey("schemas/", "schemas/uploads/other")).toBe("foreign");
    expect(classifyKey("schemas/", `schemas/${HEX}.txt`)).toBe("foreign");
    expect(classifyKey("schemas/", `schemas/nested/${HEX}.json`)).toBe("foreign");
    expect(classifyKey("schemas/", `other/${HEX}.json`)).toBe("foreign");
  });
});

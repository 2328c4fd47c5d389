/**
 * ObjectStore on S3 (or any S3-compatible server) through @aws-sdk/client-s3
 * and its presigner. This is the only module that loads the SDK; it is reached
 * through `createObjectStore`'s dynamic import.
 *
 * Two settings matter on every client, the presigning one included:
 * `requestChecksumCalculation` / `responseChecksumValidation` = WHEN_REQUIRED.
 * With the SDK's default (WHEN_SUPPORTED) uploads are sent with aws-chunked
 * framing that some S3-compatible servers store verbatim inside the object,
 * and presigned URLs carry checksum parameters a plain `fetch()` cannot meet.
 * Bodies are always whole Uint8Arrays: Bun's HTTP stack mis-sends web streams
 * and Blobs as PutObject bodies.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { isRegistryError, RegistryError } from "../domain/errors.ts";
import { MAX_PRESIGN_SECONDS, type S3Config } from "./config.ts";
import {
  type ObjectInfo,
  type ObjectStore,
  ObjectStoreCounters,
  type ObjectStoreStats,
  type ObjectStream,
  type PingResult,
  type PresignedPut,
  type PresignedUrl,
  type PresignPutOptions,
  type PutOptions,
  type PutResult,
} from "./object-store.ts";

/**
 * An S3 client configured the way the registry needs it. Exported for the
 * scripts (bucket setup) so that every client shares these settings.
 */
export function createS3Client(config: S3Config, options: { forPresigning?: boolean } = {}): S3Client {
  const endpoint = options.forPresigning ? (config.publicEndpoint ?? config.endpoint) : config.endpoint;
  return new S3Client({
    region: config.region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // The SDK's own provider asks the OS for its release (os.release()), which an edge host refuses
    // (Deno without --allow-sys): a fixed user agent needs no such access.
    defaultUserAgentProvider: async () => [["schema-registry"], ["aws-sdk-js"]],
    maxAttempts: config.maxAttempts,
    requestHandler: {
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: config.idleTimeoutMs,
    },
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly counters = new ObjectStoreCounters();

  static create(config: S3Config): S3ObjectStore {
    const client = createS3Client(config);
    const presigner = config.publicEndpoint ? createS3Client(config, { forPresigning: true }) : client;
    return new S3ObjectStore(config, client, presigner);
  }

  private constructor(
    readonly config: S3Config,
    private readonly client: S3Client,
    private readonly presigner: S3Client,
  ) {
    this.bucket = config.bucket;
    this.prefix = config.prefix;
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions): Promise<PutResult> {
    if (options.ifAbsent) {
      const existing = await this.head(key);
      if (existing && existing.size === bytes.byteLength) {
        this.counters.add("dedupedUploads");
        return {
          key,
          size: existing.size,
          created: false,
          multipart: false,
          lastModified: existing.lastModified,
        };
      }
    }
    const multipart = bytes.byteLength > this.config.partSizeBytes;
    try {
      if (multipart) {
        await this.putMultipart(key, bytes, options.contentType);
        this.counters.add("multipartUploads");
      } else {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentType: options.contentType,
          }),
        );
      }
    } catch (error) {
      throw this.fail(error, "upload");
    }
    this.counters.add("uploads");
    this.counters.add("bytesUp", bytes.byteLength);
    return { key, size: bytes.byteLength, created: true, multipart, lastModified: new Date() };
  }

  /**
   * Parts go up a few at a time; on the first failure no new part starts, the
   * ones in flight are waited for (so none lands after the abort), and the
   * upload is aborted so no incomplete upload keeps costing storage.
   */
  private async putMultipart(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new RegistryError("internal", "object store did not start a multipart upload");

    const partSize = this.config.partSizeBytes;
    const partCount = Math.ceil(bytes.byteLength / partSize);
    const etags: string[] = new Array(partCount);
    let next = 0;
    let failure: unknown = null;

    const worker = async () => {
      while (failure === null && next < partCount) {
        const index = next++;
        const body = bytes.subarray(index * partSize, Math.min((index + 1) * partSize, bytes.byteLength));
        try {
          const part = await this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: index + 1,
              Body: body,
              ContentLength: body.byteLength,
            }),
          );
          if (!part.ETag) throw new RegistryError("internal", "object store returned no ETag for a part");
          etags[index] = part.ETag;
        } catch (error) {
          failure ??= error;
        }
      }
    };

    try {
      await Promise.all(Array.from({ length: Math.min(this.config.partConcurrency, partCount) }, worker));
      if (failure !== null) throw failure;
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (error) {
      await this.abortMultipart(key, uploadId);
      throw error;
    }
  }

  private async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
      this.counters.add("multipartAborts");
    } catch {
      // The upload's own error is the one worth reporting; an abort that fails
      // too is left to the bucket's lifecycle rule (abort incomplete uploads after a day).
      this.counters.add("errors");
    }
  }

  async get(key: string, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
    if (options.maxBytes !== undefined) return this.getBounded(key, options.maxBytes);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array(0);
      this.counters.add("downloads");
      this.counters.add("bytesDown", bytes.byteLength);
      return bytes;
    } catch (error) {
      throw this.fail(error, "download");
    }
  }

  /**
   * Reads at most `maxBytes`, whatever the object's size turns out to be: the
   * stream is cancelled (and its connection dropped) as soon as it goes past
   * the limit. A Range request would bound it on the server side, but ranges
   * over empty objects differ between S3-compatible servers.
   */
  private async getBounded(key: string, maxBytes: number): Promise<Uint8Array> {
    const { body } = await this.getStream(key);
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel();
          this.counters.add("errors");
          throw new RegistryError("payload_too_large", `content is larger than ${maxBytes} bytes`, {
            max_bytes: maxBytes,
          });
        }
        chunks.push(value);
      }
    } catch (error) {
      // The stream already counted and translated its own failures.
      throw isRegistryError(error) ? error : this.fail(error, "download");
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  }

  async getStream(key: string): Promise<ObjectStream> {
    let get: GetObjectCommandOutput;
    try {
      get = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw this.fail(error, "download");
    }
    if (!get.Body)
      throw this.fail(new RegistryError("internal", "object store returned no body"), "download");
    this.counters.add("downloads");
    // Counts bytes as they pass, and turns a failure halfway (a reset, an idle
    // timeout) into the same RegistryError the other operations throw.
    const source = (get.Body.transformToWebStream() as ReadableStream<Uint8Array>).getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await source.read();
          if (done) {
            controller.close();
            return;
          }
          this.counters.add("bytesDown", value.byteLength);
          controller.enqueue(value);
        } catch (error) {
          controller.error(this.fail(error, "download"));
        }
      },
      cancel: (reason) => source.cancel(reason),
    });
    return {
      body,
      size: get.ContentLength ?? 0,
      ...(get.ContentType ? { contentType: get.ContentType } : {}),
      ...(get.ETag ? { etag: get.ETag } : {}),
    };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: response.ContentLength ?? 0,
        lastModified: response.LastModified ?? new Date(0),
        ...(response.ETag ? { etag: response.ETag } : {}),
        ...(response.ContentType ? { contentType: response.ContentType } : {}),
      };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw this.fail(error, "metadata");
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      this.counters.add("deletes");
    } catch (error) {
      if (isMissingObject(error)) return;
      throw this.fail(error, "delete");
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw this.fail(error, "list");
      }
      for (const item of page.Contents ?? []) {
        if (!item.Key) continue;
        yield {
          key: item.Key,
          size: item.Size ?? 0,
          lastModified: item.LastModified ?? new Date(0),
          ...(item.ETag ? { etag: item.ETag } : {}),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async presignGet(key: string, expiresInSeconds = this.config.presignExpirySeconds): Promise<PresignedUrl> {
    checkExpiry(expiresInSeconds);
    const issuedAt = Date.now();
    try {
      const url = await getSignedUrl(
        this.presigner,
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
        {
          expiresIn: expiresInSeconds,
        },
      );
      this.counters.add("presignedGets");
      return { url, expiresAt: new Date(issuedAt + expiresInSeconds * 1000) };
    } catch (error) {
      throw this.fail(error, "presign");
    }
  }

  async presignPut(key: string, expiresInSeconds: number, options: PresignPutOptions): Promise<PresignedPut> {
    checkExpiry(expiresInSeconds);
    const issuedAt = Date.now();
    try {
      const url = await getSignedUrl(
        this.presigner,
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: options.contentType,
          ...(options.contentLength !== undefined ? { ContentLength: options.contentLength } : {}),
        }),
        // Content-Type is signed so the stored object carries the type the ticket promised.
        { expiresIn: expiresInSeconds, signableHeaders: new Set(["content-type"]) },
      );
      this.counters.add("presignedPuts");
      return {
        url,
        expiresAt: new Date(issuedAt + expiresInSeconds * 1000),
        method: "PUT",
        headers: { "content-type": options.contentType },
      };
    } catch (error) {
      throw this.fail(error, "presign");
    }
  }

  async ping(): Promise<PingResult> {
    const started = performance.now();
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // HEAD answers carry no error body: a 404 here can only mean the bucket.
      if (statusOf(error) === 404) {
        this.counters.add("errors");
        throw RegistryError.unavailable("object store bucket does not exist", error);
      }
      throw this.fail(error, "health check");
    }
    return { latencyMs: performance.now() - started };
  }

  stats(): ObjectStoreStats {
    return this.counters.snapshot();
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }

  private fail(error: unknown, action: string): RegistryError {
    this.counters.add("errors");
    return toRegistryError(error, action);
  }
}

function checkExpiry(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw RegistryError.invalidRequest(
      `presigned URL expiry must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}`,
      { max_seconds: MAX_PRESIGN_SECONDS },
    );
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

function isMissingObject(error: unknown): boolean {
  const name = (error as SdkErrorShape | null)?.name;
  return name === "NoSuchKey" || name === "NotFound" || (statusOf(error) === 404 && name !== "NoSuchBucket");
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ConnectionRefused",
]);
const TIMEOUT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const CREDENTIAL_NAMES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
]);

/**
 * SDK errors to RegistryErrors. The SDK's own messages are kept only as the
 * cause: they can carry the endpoint, the bucket or the access key id.
 */
export function toRegistryError(error: unknown, action: string): RegistryError {
  if (isRegistryError(error)) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const status = statusOf(error);
  const name = e.name ?? "";
  if (isMissingObject(error)) return RegistryError.notFound("object does not exist in the object store");
  if (name === "NoSuchBucket") return RegistryError.unavailable("object store bucket does not exist", error);
  if (name === "CredentialsProviderError") {
    return RegistryError.unavailable("object store credentials are not configured", error);
  }
  if (status === 403 || CREDENTIAL_NAMES.has(name)) {
    return RegistryError.unavailable("object store refused the registry's credentials", error);
  }
  if (TIMEOUT_NAMES.has(name) || e.code === "ETIMEDOUT") {
    return RegistryError.unavailable(`object store timed out during ${action}`, error);
  }
  if (status === undefined || NETWORK_CODES.has(e.code ?? "") || NETWORK_CODES.has(name)) {
    return RegistryError.unavailable("object store is unreachable", error);
  }
  if (status >= 500 || status === 429) {
    return RegistryError.unavailable(`object store failed during ${action}`, error);
  }
  return new RegistryError("internal", `object store rejected the ${action} request`, {}, { cause: error });
}

/**
 * ObjectStore: the content layer's contract with a blob store, kept to what the
 * registry needs (put/get/stream/head/delete/list, presigned URLs, a health
 * ping, counters). Keys are full object keys, prefix included. Failures are
 * RegistryErrors: `unavailable` when the store cannot be reached or refuses to
 * serve, `not_found` for a missing object on get; messages never name the
 * endpoint or credentials.
 *
 * `createObjectStore` loads the S3 implementation with `await import()`, so a
 * deployment without S3 never loads the AWS SDK.
 */
import type { S3Config } from "./config.ts";

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  etag?: string;
  contentType?: string;
}

export interface PutOptions {
  contentType: string;
  /**
   * HEAD first and skip the write when an object of the same size is already
   * there: for content-addressed keys, where equal key means equal bytes.
   */
  ifAbsent?: boolean;
}

export interface PutResult {
  key: string;
  size: number;
  /** false when `ifAbsent` found the object already stored. */
  created: boolean;
  /** true when the bytes went up as a multipart upload. */
  multipart: boolean;
  /** When the stored object was last written (for `ifAbsent` hits: the existing object's time). */
  lastModified: Date;
}

export interface ObjectStream {
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType?: string;
  etag?: string;
}

export interface PresignedUrl {
  url: string;
  expiresAt: Date;
}

export interface PresignedPut extends PresignedUrl {
  method: "PUT";
  /** Headers the client must send with its PUT (they are part of the signature). */
  headers: Record<string, string>;
}

export interface PresignPutOptions {
  contentType: string;
  /** Signed too, so the store refuses a body of any other length. */
  contentLength?: number;
}

export interface PingResult {
  latencyMs: number;
}

export interface ObjectStoreStats {
  /** Objects written (single PutObject or completed multipart). */
  uploads: number;
  multipartUploads: number;
  /** Multipart uploads aborted after a failure. */
  multipartAborts: number;
  /** Writes skipped because the content-addressed object was already there. */
  dedupedUploads: number;
  downloads: number;
  bytesUp: number;
  bytesDown: number;
  deletes: number;
  presignedGets: number;
  presignedPuts: number;
  /** Operations that ended in an error (a missing object on get included). */
  errors: number;
}

export interface ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  put(key: string, bytes: Uint8Array, options: PutOptions): Promise<PutResult>;
  /** Throws `not_found` when the object does not exist. */
  get(key: string, options?: { maxBytes?: number }): Promise<Uint8Array>;
  /** Throws `not_found` before any byte is streamed when the object does not exist. */
  getStream(key: string): Promise<ObjectStream>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** `expiresInSeconds` defaults to the configured presign expiry; at most 7 days. */
  presignGet(key: string, expiresInSeconds?: number): Promise<PresignedUrl>;
  presignPut(key: string, expiresInSeconds: number, options: PresignPutOptions): Promise<PresignedPut>;
  /** HEAD on the bucket; throws `unavailable` when it fails. */
  ping(): Promise<PingResult>;
  stats(): ObjectStoreStats;
  close(): Promise<void>;
}

/** Builds the S3 store, loading the AWS SDK only now. */
export async function createObjectStore(config: S3Config): Promise<ObjectStore> {
  const { S3ObjectStore } = await import("./s3-object-store.ts");
  return S3ObjectStore.create(config);
}

/** Counters kept by an ObjectStore implementation; `snapshot()` is its `stats()`. */
export class ObjectStoreCounters {
  private readonly values: ObjectStoreStats = {
    uploads: 0,
    multipartUploads: 0,
    multipartAborts: 0,
    dedupedUploads: 0,
    downloads: 0,
    bytesUp: 0,
    bytesDown: 0,
    deletes: 0,
    presignedGets: 0,
    presignedPuts: 0,
    errors: 0,
  };

  add(name: keyof ObjectStoreStats, amount = 1): void {
    this.values[name] += amount;
  }

  snapshot(): ObjectStoreStats {
    return { ...this.values };
  }
}

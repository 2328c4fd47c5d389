/**
 * ContentBucket: content-addressed objects on an ObjectStore. It names objects by the SHA-256 of their bytes (so identical
 * content is stored once and never changes), hands out presigned GET URLs, and
 * runs the direct-upload flow: a ticket with a presigned PUT to a staging key,
 * a size-checked read of what the client sent, and removal of the staging
 * object once the content has been registered under its own key. The
 * ObjectContentStore (object-content-store.ts) is built on it.
 */
import { sha256HexOfBytes } from "../domain/canonical.ts";
import { RegistryError } from "../domain/errors.ts";
import type { SchemaType } from "../domain/types.ts";
import type { S3Config } from "./config.ts";
import { CONTENT_MEDIA_TYPES, contentKey, hashOfContentKey, isUploadId, uploadKey } from "./content-keys.ts";
import type { ObjectStore, PresignedUrl } from "./object-store.ts";
import { createObjectStore } from "./object-store.ts";

export interface ContentBucketOptions {
  /** Largest content accepted from an upload (bytes). */
  maxObjectBytes: number;
  /** Lifetime of a presigned PUT, in seconds. */
  uploadExpirySeconds: number;
  /** See `S3Config.refreshAfterMs`. */
  refreshAfterMs: number;
  now?: () => number;
}

export interface StoredContent {
  key: string;
  size: number;
  /** Hex SHA-256 of the stored bytes (the key is named after it). */
  sha256: string;
  /** false when the object was already there and was left as it was. */
  created: boolean;
}

/** What `POST /uploads` answers (snake_case, as it goes out over HTTP). */
export interface UploadTicket {
  upload_id: string;
  url: string;
  expires_at: string;
  method: "PUT";
  headers: Record<string, string>;
}

export interface CreateUploadRequest {
  schemaType: SchemaType;
  contentLength: number;
}

export class ContentBucket {
  private readonly now: () => number;

  constructor(
    readonly objects: ObjectStore,
    private readonly options: ContentBucketOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get prefix(): string {
    return this.objects.prefix;
  }

  keyFor(hash: string, schemaType: SchemaType): string {
    return contentKey(this.prefix, hash, schemaType);
  }

  /**
   * Stores the bytes under their content address. An object already there is
   * left alone, unless it is old enough that the orphan sweep could take it
   * before the row that will use it commits: then it is written again, which
   * renews its age.
   */
  async putContent(
    bytes: Uint8Array,
    schemaType: SchemaType,
    options: { sha256?: string } = {},
  ): Promise<StoredContent> {
    // A caller that has just hashed these bytes (the registry's content hash) spares a second pass over them.
    const sha256 = options.sha256 ?? (await sha256HexOfBytes(bytes));
    const key = contentKey(this.prefix, sha256, schemaType);
    const contentType = CONTENT_MEDIA_TYPES[schemaType];
    const existing = await this.objects.head(key);
    const fresh =
      existing !== null &&
      existing.size === bytes.byteLength &&
      this.now() - existing.lastModified.getTime() < this.options.refreshAfterMs;
    if (fresh) return { key, size: bytes.byteLength, sha256, created: false };
    await this.objects.put(key, bytes, { contentType });
    return { key, size: bytes.byteLength, sha256, created: existing === null };
  }

  /**
   * Reads content back and checks it against the hash in its key, so bytes
   * altered in storage or in transit are never served as the schema.
   */
  async readContent(key: string, options: { size?: number } = {}): Promise<Uint8Array> {
    const bytes =
      options.size === undefined ? await this.objects.get(key) : await this.readSized(key, options.size);
    const expected = hashOfContentKey(this.prefix, key);
    if (expected !== null && (await sha256HexOfBytes(bytes)) !== expected) {
      throw new RegistryError("internal", "stored content does not match its hash");
    }
    return bytes;
  }

  /**
   * Reads an object whose size the caller knows (the row's content_size) into
   * one buffer of that size as it streams in: no list of chunks to join, so
   * a large content costs its size once, not twice.
   */
  private async readSized(key: string, size: number): Promise<Uint8Array> {
    const { body } = await this.objects.getStream(key);
    const bytes = new Uint8Array(size);
    const reader = body.getReader();
    let offset = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (offset + value.byteLength > size) {
        await reader.cancel();
        throw new RegistryError("internal", "stored content is larger than its row says");
      }
      bytes.set(value, offset);
      offset += value.byteLength;
    }
    if (offset !== size) throw new RegistryError("internal", "stored content is smaller than its row says");
    return bytes;
  }

  async contentUrl(key: string, expiresInSeconds?: number): Promise<PresignedUrl> {
    return this.objects.presignGet(key, expiresInSeconds);
  }

  /** Removes content that no row uses any more (the caller has checked that). */
  async deleteContent(key: string): Promise<void> {
    await this.objects.delete(key);
  }

  async createUpload(request: CreateUploadRequest): Promise<UploadTicket> {
    const { contentLength, schemaType } = request;
    if (!Number.isSafeInteger(contentLength) || contentLength < 1) {
      throw RegistryError.invalidRequest("content_length must be a positive integer");
    }
    if (contentLength > this.options.maxObjectBytes) {
      throw new RegistryError(
        "payload_too_large",
        `content_length ${contentLength} is over the limit of ${this.options.maxObjectBytes} bytes`,
        { max_bytes: this.options.maxObjectBytes },
      );
    }
    const uploadId = crypto.randomUUID();
    const presigned = await this.objects.presignPut(
      uploadKey(this.prefix, uploadId),
      this.options.uploadExpirySeconds,
      { contentType: CONTENT_MEDIA_TYPES[schemaType], contentLength },
    );
    return {
      upload_id: uploadId,
      url: presigned.url,
      expires_at: presigned.expiresAt.toISOString(),
      method: presigned.method,
      headers: presigned.headers,
    };
  }

  /**
   * The bytes a client uploaded. The size is checked with a HEAD before any
   * byte is read, and the read itself stops at the limit, so an object
   * swapped in between cannot make the server buffer more than that.
   */
  async readUpload(uploadId: string): Promise<Uint8Array> {
    const key = this.uploadKeyOf(uploadId);
    const head = await this.objects.head(key);
    if (!head) {
      throw RegistryError.notFound(`upload ${uploadId} does not exist or has expired`, {
        upload_id: uploadId,
      });
    }
    const max = this.options.maxObjectBytes;
    if (head.size > max) {
      throw new RegistryError("payload_too_large", `uploaded content is over the limit of ${max} bytes`, {
        max_bytes: max,
        upload_id: uploadId,
      });
    }
    try {
      return await this.objects.get(key, { maxBytes: max });
    } catch (error) {
      if (error instanceof RegistryError && error.code === "not_found") {
        throw RegistryError.notFound(`upload ${uploadId} does not exist or has expired`, {
          upload_id: uploadId,
        });
      }
      throw error;
    }
  }

  /** Drops the staging object once its content is registered (or refused). */
  async discardUpload(uploadId: string): Promise<void> {
    await this.objects.delete(this.uploadKeyOf(uploadId));
  }

  private uploadKeyOf(uploadId: string): string {
    if (!isUploadId(uploadId)) throw RegistryError.invalidRequest("upload_id must be a UUID");
    return uploadKey(this.prefix, uploadId);
  }
}

/** The bucket from its settings: the S3 store (SDK loaded now) and the ContentBucket on it. */
export async function createContentBucket(config: S3Config): Promise<ContentBucket> {
  const objects = await createObjectStore(config);
  return new ContentBucket(objects, {
    maxObjectBytes: config.maxObjectBytes,
    uploadExpirySeconds: config.uploadExpirySeconds,
    refreshAfterMs: config.refreshAfterMs,
  });
}

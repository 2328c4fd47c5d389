/**
 * Where a schema's content lives: the port the registry service writes and
 * reads content through.
 *
 * The service hands every validated content to `place` before writing the
 * row, commits the row through `commit`, and asks `load`/`link`/`open` when a
 * read needs content the row does not hold. `inlineContentStore` keeps
 * everything in the database row (and has no uploads); the object-store
 * implementation (content/object-content-store.ts) routes large content to
 * S3 and offers direct uploads.
 */

import type { CreateUploadRequest, UploadTicket } from "../content/content-bucket.ts";
import type { ContentLink, PlacedContent, PreparedContent } from "../domain/content.ts";
import { RegistryError } from "../domain/errors.ts";
import type { SchemaRecord } from "../domain/types.ts";
import type { SchemaRepository } from "../storage/schema-repository.ts";

export type { ContentLink, CreateUploadRequest, PlacedContent, PreparedContent, UploadTicket };

export interface ContentStore {
  /** Decides where content goes and, when that is not the row, stores it there first. */
  place(content: PreparedContent): Promise<PlacedContent>;
  /** Undoes `place` when the row that would have used it was not committed. */
  discard(placed: PlacedContent): Promise<void>;
  /** The content of a record whose row does not hold it. */
  load(record: SchemaRecord): Promise<unknown>;
  /** The canonical bytes of a record whose row does not hold the content, as a stream (large content). */
  open(record: SchemaRecord): Promise<ReadableStream<Uint8Array>>;
  /** A direct URL for a record whose row does not hold the content; null to serve it through the registry. */
  link(record: SchemaRecord): Promise<ContentLink | null>;
  /** Called after a permanent delete: the store may drop content no other row uses. */
  release(record: SchemaRecord): Promise<void>;
  /**
   * Runs `write` (the row's register) so that the object `placed` names
   * exists when the row commits: inside a transaction holding the content
   * key's lock, handing `write` that transaction's repository. For content
   * in the row `write` gets null and uses the service's own repository.
   */
  commit<T>(placed: PlacedContent, write: (tx: SchemaRepository | null) => Promise<T>): Promise<T>;
  /** A presigned PUT for a direct upload; `not_found` without an object store. */
  createUpload(request: CreateUploadRequest): Promise<UploadTicket>;
  /** The bytes the client uploaded; `not_found` for an upload never made, expired or already registered. */
  readUpload(uploadId: string): Promise<Uint8Array>;
  /** Removes the staging object once its content is registered. */
  discardUpload(uploadId: string): Promise<void>;
}

/** Every content in the database row: the default when no object store is configured. */
export const inlineContentStore: ContentStore = {
  async place(content) {
    return { contentLocation: "inline", content: content.value, contentKey: null };
  },
  async discard() {},
  async load(record) {
    throw unreachableStore(record);
  },
  async open(record) {
    throw unreachableStore(record);
  },
  async link() {
    return null;
  },
  async release() {},
  commit(_placed, write) {
    return write(null);
  },
  async createUpload() {
    throw noUploads();
  },
  async readUpload(uploadId) {
    throw noUploads(uploadId);
  },
  async discardUpload() {},
};

/** Without an object store no upload can exist: 404, like any upload that does not. */
function noUploads(uploadId?: string): RegistryError {
  const what = uploadId === undefined ? "direct uploads are" : `upload ${uploadId} is`;
  return RegistryError.notFound(
    `${what} not available: this registry has no object store configured (S3_BUCKET); send the content in the request instead`,
    uploadId === undefined ? {} : { upload_id: uploadId },
  );
}

// A row written by an instance with S3 configured, read by one without.
function unreachableStore(record: SchemaRecord): RegistryError {
  return RegistryError.unavailable(
    `the content of schema ${record.id} is in the object store, which this instance is not configured to reach`,
  );
}

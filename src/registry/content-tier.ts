/**
 * Where a schema's content lives: the seam of the object-store tier (issue 4).
 *
 * The service hands every validated content to `place` before writing the row,
 * and asks `load`/`link` when a read needs content the row does not hold.
 * `inlineContentTier` keeps everything in the database row; an S3 tier
 * implements the same interface and routes large content to the bucket.
 */

import type { PreparedContent as CanonicalContent } from "../domain/content.ts";
import { RegistryError } from "../domain/errors.ts";
import type { ContentLocation, SchemaRecord, SchemaType } from "../domain/types.ts";

/** Content after validation and canonicalisation (domain/content.ts's prepareContent), with its type. */
export interface PreparedContent extends CanonicalContent {
  schemaType: SchemaType;
}

/** What the row records about where its content is. */
export interface PlacedContent {
  contentLocation: ContentLocation;
  /** The value kept in the row; null when it lives in the object store. */
  content: unknown | null;
  contentKey: string | null;
}

/** A URL the client fetches the content from without passing through the registry. */
export interface ContentLink {
  url: string;
  expiresAt: Date;
}

export interface ContentTier {
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
}

/** Every content in the database row: the default when no object store is configured. */
export const inlineContentTier: ContentTier = {
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
};

// A row written by an instance with S3 configured, read by one without.
function unreachableStore(record: SchemaRecord): RegistryError {
  return RegistryError.unavailable(
    `the content of schema ${record.id} is in the object store, which this instance is not configured to reach`,
  );
}

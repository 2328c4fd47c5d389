/**
 * What the registry service needs of an object-store tier beyond the
 * ContentTier seam: the direct-upload flow (a presigned PUT, then a register
 * naming the upload instead of carrying the content) and committing a row so
 * that the object it points at cannot be removed before the commit. The
 * service has none when no object store is configured: no upload can exist then.
 */
import type { CreateUploadRequest, UploadTicket } from "../content/object-content-store.ts";
import type { SchemaRepository } from "../storage/schema-repository.ts";
import type { PlacedContent } from "./content-tier.ts";

export type { CreateUploadRequest, UploadTicket };

export interface ObjectStoreSeam {
  createUpload(request: CreateUploadRequest): Promise<UploadTicket>;
  /** The bytes the client uploaded; `not_found` for an upload never made, expired or already registered. */
  readUpload(uploadId: string): Promise<Uint8Array>;
  /** Removes the staging object once its content is registered. */
  discardUpload(uploadId: string): Promise<void>;
  /** Runs `write` (the row's register) so that the object `placed` names exists when the row commits. */
  commit<T>(placed: PlacedContent, write: (schemas: SchemaRepository) => Promise<T>): Promise<T>;
}

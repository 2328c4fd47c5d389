/**
 * The read path's seam: the lookups the hot routes make. The schema
 * repository answers them itself; the tiered cache implements the same interface in
 * front of it, and the service never knows which it talks to.
 *
 * `getById` may answer synchronously: a reader with an in-process cache
 * hands out a row it holds without a promise, so the hottest read (one
 * schema by id, from L1) costs no microtask on the way up to the HTTP fast
 * path. Callers that do not care simply `await` it.
 */
import type { ReadOptions, SchemaRecord, SchemaRef } from "../domain/types.ts";
import type { SchemaRepository } from "../storage/schema-repository.ts";

export interface SchemaReader extends Pick<SchemaRepository, "getBySubjectVersion" | "getLatest"> {
  getById(ref: SchemaRef, options?: ReadOptions): SchemaRecord | null | Promise<SchemaRecord | null>;
}

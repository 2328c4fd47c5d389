/**
 * The read path's seam: the lookups the hot routes make. The schema
 * repository answers them itself; the tiered cache (issue 3) implements the same
 * interface in front of it, and the service never knows which it talks to.
 */
import type { ReadOptions, SchemaRecord, SchemaRef } from "../domain/types.ts";
import type { SchemaRepository } from "../storage/schema-repository.ts";

export type SchemaReader = Pick<SchemaRepository, "getById" | "getBySubjectVersion" | "getLatest"> & {
  /**
   * The schema if an in-process cache holds it right now (null: held as
   * missing or not visible), undefined when it would take I/O to know.
   * Readers without an in-process cache leave it out.
   */
  peekById?(ref: SchemaRef, options?: ReadOptions): SchemaRecord | null | undefined;
};

/**
 * The write path's seam: after a write has committed, the service tells a
 * listener what changed, so caches (this instance's and, through their bus,
 * every other one's) drop what they hold. The default listener does nothing.
 */
import type { SchemaRecord } from "../domain/types.ts";

export type SchemaChangeKind = "registered" | "state_changed" | "soft_deleted" | "deleted";

export interface SchemaChange {
  kind: SchemaChangeKind;
  /** The schema as it is after the change (as it was, for `deleted`). */
  schema: SchemaRecord;
}

export interface SchemaChangeListener {
  schemaChanged(change: SchemaChange): Promise<void>;
}

export const ignoreChanges: SchemaChangeListener = {
  async schemaChanged() {},
};

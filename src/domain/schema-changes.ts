/**
 * What the write path announces: after a write has committed, the registry
 * service tells a listener what changed, so caches (this instance's and,
 * through their bus, every other one's) drop what they hold. Vocabulary of
 * the domain so that the caches below the service can listen without
 * knowing it. The default listener does nothing.
 */
import type { SchemaRecord } from "./types.ts";

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

/** Told of every change by each listener in turn; the first failure is rethrown after all have run. */
export function combineListeners(...listeners: SchemaChangeListener[]): SchemaChangeListener {
  return {
    async schemaChanged(change) {
      const results = await Promise.allSettled(listeners.map((listener) => listener.schemaChanged(change)));
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

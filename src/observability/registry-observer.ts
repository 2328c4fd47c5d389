/**
 * What the registry service tells about the schemas it serves, for metrics:
 * a seam like the change listener, so the service never imports a metrics
 * library and a registry built without metrics pays nothing.
 */
import type { SchemaType } from "../domain/types.ts";

/** How a single schema was asked for (one per read route of the HTTP API). */
export const FETCH_KINDS = ["id", "global_id", "subject_version", "latest", "content"] as const;
export type FetchKind = (typeof FETCH_KINDS)[number];

export const DELETE_MODES = ["soft", "permanent"] as const;
export type DeleteMode = (typeof DELETE_MODES)[number];

export interface RegistryObserver {
  /** A register that succeeded: `created` false when the content was already there. */
  registered(schemaType: SchemaType, created: boolean): void;
  /** A register refused because the subject's compatibility rules found it breaking. */
  rejected(schemaType: SchemaType): void;
  /** A schema served by a single-schema read. */
  fetched(kind: FetchKind): void;
  deleted(mode: DeleteMode): void;
}

export const ignoreRegistryEvents: RegistryObserver = {
  registered() {},
  rejected() {},
  fetched() {},
  deleted() {},
};

/**
 * The schema lifecycle (docs/api.md). `archived` is final; every allowed move is
 * listed here and nowhere else.
 */
import type { SchemaState } from "./types.ts";

export const ALLOWED_TRANSITIONS: Readonly<Record<SchemaState, readonly SchemaState[]>> = {
  draft: ["active", "archived"],
  active: ["deprecated"],
  deprecated: ["active", "archived"],
  archived: [],
};

/** States a schema may be registered in. */
export const INITIAL_STATES: readonly SchemaState[] = ["draft", "active"];

export function canTransition(from: SchemaState, to: SchemaState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** States that `.../versions/latest` may answer with. */
export const LATEST_ELIGIBLE_STATES: readonly SchemaState[] = ["active", "deprecated"];

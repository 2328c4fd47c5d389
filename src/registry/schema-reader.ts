/**
 * The read path's seam: the lookups the hot routes make. The storage backend
 * answers them itself; the tiered cache (issue 3) implements the same
 * interface in front of it, and the service never knows which it talks to.
 */
import type { StorageBackend } from "../storage/backend.ts";

export type SchemaReader = Pick<StorageBackend, "getById" | "getBySubjectVersion" | "getLatest">;

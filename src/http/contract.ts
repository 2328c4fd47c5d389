/**
 * The plain values of the HTTP contract that requests meet before any route:
 * the API's path prefix and the page sizes of lists. No zod here: the schema
 * fast path, the permission table and the rate limiter import this module,
 * and an edge isolate serves its first read without building a single zod
 * schema. The schemas themselves (the resources, the error envelope, paging,
 * the common parameters) are in contract-schemas.ts, which re-exports these.
 */
export type { batchVerdict, dataVerdict, SchemaResource } from "./contract-schemas.ts";

export const API_PREFIX = "/api/v1";

/** Page size of lists when `limit` is not given, and the most a client may ask for. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

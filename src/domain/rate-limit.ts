/**
 * Rate limiting's vocabulary: a token bucket's limit and what taking a token
 * answers. The HTTP layer asks a TokenBuckets store (cache/rate-limit/: in
 * Redis, shared by every instance, or in process) and decides the answer.
 */

/** A bucket: it refills `perSecond` tokens a second up to `burst`; each request takes one. */
export interface BucketLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export interface BucketDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: how long until a token is there, in ms; 0 when allowed. */
  retryAfterMs: number;
  /** How long until the bucket is full again, in ms. */
  resetMs: number;
}

export interface TokenBuckets {
  /** Takes one token from the bucket `key` under `limit`. Never rejects: a store that fails decides in process. */
  take(key: string, limit: BucketLimit): Promise<BucketDecision> | BucketDecision;
}

/**
 * A component whose state the health routes report: the composition root
 * gives one probe per backend (postgres, redis, object_store, replicas) and
 * the HTTP layer runs them.
 */

export interface HealthProbe {
  name: string;
  /** A critical component down makes the instance unready; any other only degraded. */
  critical: boolean;
  /** Resolves when the component answers; throws when it does not. */
  check(): Promise<void>;
}

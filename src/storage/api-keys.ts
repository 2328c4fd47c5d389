/**
 * ApiKeyStore: the API keys the registry accepts, kept by id with the hash of
 * their secret (never the secret itself). PostgreSQL implements it
 * (postgres/api-key-store.ts, migration 006); the HTTP layer's authenticator
 * reads it on a cache miss, the key routes and scripts/keys.ts write it.
 */
import type { ApiKey, NewApiKey, StoredApiKey } from "../domain/api-keys.ts";
import type { WriteContext } from "../domain/audit.ts";

export interface ApiKeyStore {
  /**
   * Stores a key under `id` with the hash of its secret; answers it as stored.
   * Given `audit`, the audit entry is written in the same transaction (so are revokes').
   */
  create(id: string, secretHash: Uint8Array, key: NewApiKey, audit?: WriteContext): Promise<ApiKey>;
  /** The key with its secret's hash; null when there is none (never created, or revoked). */
  find(id: string): Promise<StoredApiKey | null>;
  /** Every key, oldest first, without secrets. */
  list(): Promise<ApiKey[]>;
  /** Deletes the key; answers what it was, null when there was none. */
  revoke(id: string, audit?: WriteContext): Promise<ApiKey | null>;
  /** How many keys exist (the bootstrap key is accepted only while none does). */
  count(): Promise<number>;
}

/**
 * ApiKeyStore on PostgreSQL: the `api_keys` table of migration 006. Every
 * statement goes to the primary, never a replica: a key revoked a moment ago
 * must not be found by a replica that has not replayed the delete yet.
 */
import type { ApiKey, NewApiKey, StoredApiKey } from "../../domain/api-keys.ts";
import type { Role } from "../../domain/principal.ts";
import type { ApiKeyStore } from "../api-keys.ts";
import { toRegistryError } from "./db-errors.ts";
import type { Pool } from "./pool.ts";

interface KeyRow {
  id: string;
  role: Role;
  subjects: string[] | null;
  description: string | null;
  created_at: Date;
  expires_at: Date | null;
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    role: row.role,
    subjects: row.subjects,
    description: row.description,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly sql: Pool) {}

  async create(id: string, secretHash: Uint8Array, key: NewApiKey): Promise<ApiKey> {
    return this.run(async (sql) => {
      const [row] = await sql<KeyRow[]>`
        INSERT INTO api_keys (id, secret_hash, role, subjects, description, expires_at)
        VALUES (${id}, ${secretHash}, ${key.role}, ${key.subjects === null ? null : [...key.subjects]},
                ${key.description}, ${key.expiresAt})
        RETURNING id, role, subjects, description, created_at, expires_at`;
      return toKey(row!);
    });
  }

  async find(id: string): Promise<StoredApiKey | null> {
    return this.run(async (sql) => {
      const [row] = await sql<(KeyRow & { secret_hash: Uint8Array })[]>`
        SELECT id, secret_hash, role, subjects, description, created_at, expires_at
        FROM api_keys WHERE id = ${id}`;
      return row ? { ...toKey(row), secretHash: new Uint8Array(row.secret_hash) } : null;
    });
  }

  async list(): Promise<ApiKey[]> {
    return this.run(async (sql) => {
      const rows = await sql<KeyRow[]>`
        SELECT id, role, subjects, description, created_at, expires_at
        FROM api_keys ORDER BY created_at, id`;
      return rows.map(toKey);
    });
  }

  async revoke(id: string): Promise<ApiKey | null> {
    return this.run(async (sql) => {
      const [row] = await sql<KeyRow[]>`
        DELETE FROM api_keys WHERE id = ${id}
        RETURNING id, role, subjects, description, created_at, expires_at`;
      return row ? toKey(row) : null;
    });
  }

  async count(): Promise<number> {
    return this.run(async (sql) => {
      const [row] = await sql<{ count: number }[]>`SELECT count(*)::integer AS count FROM api_keys`;
      return row!.count;
    });
  }

  private async run<T>(work: (sql: Pool) => Promise<T>): Promise<T> {
    try {
      return await work(this.sql);
    } catch (error) {
      throw toRegistryError(error);
    }
  }
}

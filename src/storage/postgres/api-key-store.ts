/**
 * ApiKeyStore on PostgreSQL: the `api_keys` table of migration 006. Every
 * statement goes to the primary, never a replica: a key revoked a moment ago
 * must not be found by a replica that has not replayed the delete yet.
 */
import type { ApiKey, NewApiKey, StoredApiKey } from "../../domain/api-keys.ts";
import type { WriteContext } from "../../domain/audit.ts";
import type { Role } from "../../domain/principal.ts";
import type { ApiKeyStore } from "../api-keys.ts";
import { insertAudit, keyEntry } from "./audit-store.ts";
import { toRegistryError } from "./db-errors.ts";
import { atomic, type Db, type Pool } from "./pool.ts";

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

  async create(id: string, secretHash: Uint8Array, key: NewApiKey, audit?: WriteContext): Promise<ApiKey> {
    return this.audited(audit, "key.create", async (sql) => {
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

  async revoke(id: string, audit?: WriteContext): Promise<ApiKey | null> {
    return this.audited(audit, "key.revoke", async (sql) => {
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

  /** `work`; given `audit`, in one transaction with the audit entry of the key it created or revoked. */
  private async audited<T extends ApiKey | null>(
    audit: WriteContext | undefined,
    operation: "key.create" | "key.revoke",
    work: (sql: Db) => Promise<T>,
  ): Promise<T> {
    if (!audit) return this.run(work);
    return this.run((sql) =>
      atomic(sql, async (tx) => {
        const key = await work(tx);
        if (key !== null) await insertAudit(tx, audit, [keyEntry(operation, key)]);
        return key;
      }),
    );
  }

  private async run<T>(work: (sql: Pool) => Promise<T>): Promise<T> {
    try {
      return await work(this.sql);
    } catch (error) {
      throw toRegistryError(error);
    }
  }
}

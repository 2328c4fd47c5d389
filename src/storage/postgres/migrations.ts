/**
 * The SQL migrations of `migrations/`, embedded in the module graph with text
 * imports so that no filesystem access is needed at run time (Bun, Deno 2 and
 * compiled binaries alike). Adding a migration means adding its two files and
 * one entry below; a test checks that this list and the folder agree.
 */

import initialSchemaDown from "../../../migrations/001_initial_schema.down.sql" with { type: "text" };
import initialSchemaUp from "../../../migrations/001_initial_schema.up.sql" with { type: "text" };
import indexesOptimizationDown from "../../../migrations/002_indexes_optimization.down.sql" with {
  type: "text",
};
import indexesOptimizationUp from "../../../migrations/002_indexes_optimization.up.sql" with { type: "text" };
import schemaEvolutionDown from "../../../migrations/003_schema_evolution.down.sql" with { type: "text" };
import schemaEvolutionUp from "../../../migrations/003_schema_evolution.up.sql" with { type: "text" };
import confluentIdentityDown from "../../../migrations/004_confluent_identity.down.sql" with { type: "text" };
import confluentIdentityUp from "../../../migrations/004_confluent_identity.up.sql" with { type: "text" };
import searchAtScaleDown from "../../../migrations/005_search_at_scale.down.sql" with { type: "text" };
import searchAtScaleUp from "../../../migrations/005_search_at_scale.up.sql" with { type: "text" };
import apiKeysDown from "../../../migrations/006_api_keys.down.sql" with { type: "text" };
import apiKeysUp from "../../../migrations/006_api_keys.up.sql" with { type: "text" };
import auditLogDown from "../../../migrations/007_audit_log.down.sql" with { type: "text" };
import auditLogUp from "../../../migrations/007_audit_log.up.sql" with { type: "text" };
import leanRegisterDown from "../../../migrations/008_lean_register.down.sql" with { type: "text" };
import leanRegisterUp from "../../../migrations/008_lean_register.up.sql" with { type: "text" };
import searchDocumentHelpersDown from "../../../migrations/009_search_document_helpers.down.sql" with {
  type: "text",
};
import searchDocumentHelpersUp from "../../../migrations/009_search_document_helpers.up.sql" with {
  type: "text",
};
import { sha256Hex } from "../../domain/canonical.ts";
import { withoutLockNotes } from "./migration-locks.ts";

export interface MigrationSource {
  version: number;
  name: string;
  up: string;
  down: string;
}

export interface Migration extends MigrationSource {
  /**
   * Hex SHA-256 of the up file without its `-- locks:` notes (migration-locks.ts),
   * recorded when the migration is applied: a note added later changes no checksum.
   */
  checksum: string;
}

export const MIGRATION_SOURCES: readonly MigrationSource[] = [
  { version: 1, name: "initial_schema", up: initialSchemaUp, down: initialSchemaDown },
  { version: 2, name: "indexes_optimization", up: indexesOptimizationUp, down: indexesOptimizationDown },
  { version: 3, name: "schema_evolution", up: schemaEvolutionUp, down: schemaEvolutionDown },
  { version: 4, name: "confluent_identity", up: confluentIdentityUp, down: confluentIdentityDown },
  { version: 5, name: "search_at_scale", up: searchAtScaleUp, down: searchAtScaleDown },
  { version: 6, name: "api_keys", up: apiKeysUp, down: apiKeysDown },
  { version: 7, name: "audit_log", up: auditLogUp, down: auditLogDown },
  { version: 8, name: "lean_register", up: leanRegisterUp, down: leanRegisterDown },
  {
    version: 9,
    name: "search_document_helpers",
    up: searchDocumentHelpersUp,
    down: searchDocumentHelpersDown,
  },
];

/** `001_initial_schema`: the file stem of a migration. */
export function migrationId(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(3, "0")}_${m.name}`;
}

/** The migrations with their checksums, in version order. */
export async function loadMigrations(
  sources: readonly MigrationSource[] = MIGRATION_SOURCES,
): Promise<Migration[]> {
  const sorted = [...sources].sort((a, b) => a.version - b.version);
  return Promise.all(sorted.map(async (m) => ({ ...m, checksum: await sha256Hex(withoutLockNotes(m.up)) })));
}

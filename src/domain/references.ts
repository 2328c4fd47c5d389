/**
 * References between schemas: a schema may use versions of other subjects
 * under names of its own (an Avro named type, a JSON Schema `$ref`, a
 * Protobuf import). The references are part of a schema's identity, so the
 * same text with other references is another schema id; `referencesKey` is
 * their canonical text, the form the database compares.
 */
import { RegistryError } from "./errors.ts";
import type { SchemaReference } from "./types.ts";

/** Most references one schema may make; far beyond any real schema. */
export const MAX_REFERENCES = 1000;

/** The references as one text, '' for none; order is kept (Protobuf imports are ordered). */
export function referencesKey(references: readonly SchemaReference[]): string {
  if (references.length === 0) return "";
  return JSON.stringify(references.map((r) => [r.name, r.subject, r.version]));
}

/** References from a caller checked for shape: a name, a subject and a positive integer version each, names unique. */
export function validateReferences(references: unknown): SchemaReference[] {
  if (references === undefined || references === null) return [];
  if (!Array.isArray(references)) {
    throw RegistryError.invalidRequest("references must be an array of {name, subject, version}", {
      field: "references",
    });
  }
  if (references.length > MAX_REFERENCES) {
    throw RegistryError.invalidRequest(`a schema makes at most ${MAX_REFERENCES} references`, {
      field: "references",
      limit: MAX_REFERENCES,
    });
  }
  const names = new Set<string>();
  return references.map((reference, index) => {
    const r = reference as Partial<SchemaReference> | null;
    if (
      r === null ||
      typeof r !== "object" ||
      typeof r.name !== "string" ||
      r.name.length === 0 ||
      typeof r.subject !== "string" ||
      r.subject.length === 0 ||
      typeof r.version !== "number" ||
      !Number.isSafeInteger(r.version) ||
      r.version < 1
    ) {
      throw RegistryError.invalidRequest(
        `references[${index}] must be {name, subject, version} with a positive integer version`,
        { field: "references", index },
      );
    }
    if (names.has(r.name)) {
      throw RegistryError.invalidRequest(`references[${index}] repeats the name ${r.name}`, {
        field: "references",
        index,
      });
    }
    names.add(r.name);
    return { name: r.name, subject: r.subject, version: r.version };
  });
}

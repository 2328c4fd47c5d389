/**
 * A test double of OUR port, ConfluentRegistry (src/registry/confluent-registry.ts),
 * held in memory: enough of its contract (ids per content, integer versions
 * that keep counting, soft and permanent deletes, references, settings and
 * modes, the `details.resource` of every failure) to drive the Confluent
 * routes before and besides the PostgreSQL implementation. Compatibility is a
 * stand-in rule: a schema whose text contains BREAKING is incompatible with
 * every version it is compared with (unless the level is NONE).
 */
import type { CompatibilityLevel } from "../../../src/domain/compatibility/index.ts";
import { RegistryError } from "../../../src/domain/errors.ts";
import { validateSubject } from "../../../src/domain/limits.ts";
import type {
  ConfluentCandidate,
  ConfluentMode,
  ConfluentRegistry,
  ConfluentSchema,
  SchemaReference,
} from "../../../src/registry/confluent-registry.ts";

interface Content {
  id: number;
  guid: string;
  candidate: ConfluentCandidate;
}

interface Version {
  version: number;
  id: number;
  deleted: boolean;
}

function fail(
  code: "not_found" | "conflict" | "invalid_schema" | "incompatible_schema" | "read_only",
  message: string,
  details: Record<string, unknown>,
): never {
  throw new RegistryError(code, message, details);
}

export class InMemoryConfluentRegistry implements ConfluentRegistry {
  private readonly contents = new Map<number, Content>();
  private readonly idsByKey = new Map<string, number>();
  private readonly subjects = new Map<string, Version[]>();
  private nextId = 1;
  private globalLevel: CompatibilityLevel = "BACKWARD";
  private readonly levels = new Map<string, CompatibilityLevel>();
  private globalModeValue: ConfluentMode = "READWRITE";
  private readonly modes = new Map<string, ConfluentMode>();
  /** Reads of schemaById, so a test can see the route asked once. */
  schemaByIdCalls = 0;

  constructor(private readonly defaultLevel: CompatibilityLevel = "BACKWARD") {
    this.globalLevel = defaultLevel;
  }

  private key(candidate: ConfluentCandidate): string {
    let text = candidate.schema;
    if (candidate.schemaType !== "protobuf") text = JSON.stringify(JSON.parse(text));
    return JSON.stringify([candidate.schemaType, text, candidate.references]);
  }

  private content(id: number): Content {
    const content = this.contents.get(id);
    if (!content) fail("not_found", `Schema ${id} not found`, { resource: "schema", id });
    return content;
  }

  private view(content: Content, version?: { subject: string; version: Version }): ConfluentSchema {
    const schema: ConfluentSchema = {
      id: content.id,
      guid: content.guid,
      schemaType: content.candidate.schemaType,
      schema: content.candidate.schema,
      references: content.candidate.references,
    };
    if (version) {
      schema.subject = version.subject;
      schema.version = version.version.version;
      schema.semver = `${version.version.version}.0.0`;
      if (version.version.deleted) schema.deleted = true;
    }
    return schema;
  }

  private versionsOf(subject: string, includeDeleted = false): Version[] {
    const versions = this.subjects.get(subject);
    const visible = versions?.filter((v) => includeDeleted || !v.deleted) ?? [];
    if (visible.length === 0)
      fail("not_found", `Subject '${subject}' not found.`, { resource: "subject", subject });
    return visible;
  }

  private find(subject: string, version: number | "latest", includeDeleted = false): Version {
    const versions = this.versionsOf(subject, includeDeleted || version !== "latest");
    const found =
      version === "latest"
        ? versions.at(-1)
        : versions.find((v) => v.version === version && (includeDeleted || !v.deleted));
    if (!found) fail("not_found", `Version ${version} not found.`, { resource: "version", subject, version });
    return found;
  }

  private parse(candidate: ConfluentCandidate): void {
    if (candidate.schemaType === "protobuf") {
      if (!/syntax\s*=/.test(candidate.schema))
        fail("invalid_schema", "Invalid schema: not a .proto file", { resource: "schema" });
      return;
    }
    try {
      JSON.parse(candidate.schema);
    } catch (error) {
      fail("invalid_schema", `Invalid schema: ${(error as Error).message}`, { resource: "schema" });
    }
    for (const ref of candidate.references) {
      const versions = this.subjects.get(ref.subject);
      if (!versions?.some((v) => v.version === ref.version && !v.deleted)) {
        fail("not_found", `Reference ${ref.name} (${ref.subject} version ${ref.version}) not found`, {
          resource: "reference",
        });
      }
    }
  }

  private writable(subject: string): void {
    const mode = this.modes.get(subject) ?? this.globalModeValue;
    if (mode === "READONLY" || mode === "READONLY_OVERRIDE") {
      fail("read_only", `Subject ${subject} is in read-only mode`, { resource: "mode", subject });
    }
  }

  async schemaById(id: number, options?: { subject?: string; format?: string }): Promise<ConfluentSchema> {
    this.schemaByIdCalls++;
    const content = this.content(id);
    const subject = options?.subject;
    if (subject) {
      const version = this.subjects.get(subject)?.find((v) => v.id === id && !v.deleted);
      if (version) return this.view(content, { subject, version });
    }
    return this.view(content);
  }

  async schemaByGuid(guid: string): Promise<ConfluentSchema> {
    for (const content of this.contents.values()) if (content.guid === guid) return this.view(content);
    fail("not_found", `Schema ${guid} not found`, { resource: "schema", guid });
  }

  async subjectsOfSchema(id: number, options?: { includeDeleted?: boolean }): Promise<string[]> {
    return (await this.versionsOfSchema(id, options)).map((pair) => pair.subject);
  }

  async versionsOfSchema(id: number, options?: { includeDeleted?: boolean }) {
    this.content(id);
    const pairs: { subject: string; version: number }[] = [];
    for (const [subject, versions] of [...this.subjects].sort(([a], [b]) => a.localeCompare(b))) {
      for (const v of versions)
        if (v.id === id && (options?.includeDeleted || !v.deleted))
          pairs.push({ subject, version: v.version });
    }
    return pairs;
  }

  async listSchemas(options: {
    subjectPrefix?: string;
    includeDeleted?: boolean;
    latestOnly?: boolean;
    offset?: number;
    limit?: number;
  }) {
    const all: ConfluentSchema[] = [];
    for (const subject of await this.listSubjects(options)) {
      let versions = (this.subjects.get(subject) ?? []).filter((v) => options.includeDeleted || !v.deleted);
      if (options.latestOnly) versions = versions.slice(-1);
      for (const version of versions) all.push(this.view(this.content(version.id), { subject, version }));
    }
    const offset = options.offset ?? 0;
    return all.slice(offset, options.limit === undefined ? undefined : offset + options.limit);
  }

  async listSubjects(options: { subjectPrefix?: string; includeDeleted?: boolean; deletedOnly?: boolean }) {
    return [...this.subjects]
      .filter(([subject, versions]) => {
        if (options.subjectPrefix && !subject.startsWith(options.subjectPrefix)) return false;
        const live = versions.some((v) => !v.deleted);
        if (options.deletedOnly) return !live && versions.length > 0;
        return live || (options.includeDeleted === true && versions.length > 0);
      })
      .map(([subject]) => subject)
      .sort();
  }

  async lookup(subject: string, candidate: ConfluentCandidate, options?: { includeDeleted?: boolean }) {
    const versions = this.versionsOf(subject, options?.includeDeleted);
    this.parse(candidate);
    const id = this.idsByKey.get(this.key(candidate));
    const version = versions.filter((v) => v.id === id).at(-1);
    if (id === undefined || !version) fail("not_found", "Schema not found", { resource: "schema", subject });
    return this.view(this.content(id), { subject, version });
  }

  async deleteSubject(subject: string, options: { permanent: boolean }): Promise<number[]> {
    const versions = this.subjects.get(subject) ?? [];
    if (versions.length === 0)
      fail("not_found", `Subject '${subject}' not found.`, { resource: "subject", subject });
    const live = versions.filter((v) => !v.deleted);
    if (!options.permanent) {
      if (live.length === 0)
        fail("conflict", `Subject '${subject}' was soft deleted.`, {
          resource: "subject",
          subject,
          deleted: true,
        });
      this.unreferenced(subject, live);
      for (const v of live) v.deleted = true;
      return live.map((v) => v.version);
    }
    if (live.length > 0)
      fail("conflict", `Subject '${subject}' was not deleted first`, {
        resource: "subject",
        subject,
        deleted: false,
      });
    this.subjects.delete(subject);
    this.levels.delete(subject);
    this.modes.delete(subject);
    return versions.map((v) => v.version);
  }

  private unreferenced(subject: string, versions: Version[]): void {
    for (const v of versions) {
      const referrers = this.referrers(subject, v.version);
      if (referrers.length > 0) {
        fail(
          "conflict",
          `One or more references exist to the schema {subject=${subject},version=${v.version}}`,
          { resource: "reference" },
        );
      }
    }
  }

  private referrers(subject: string, version: number): number[] {
    const ids: number[] = [];
    for (const [other, versions] of this.subjects) {
      for (const v of versions) {
        if (v.deleted) continue;
        const refs: SchemaReference[] = this.content(v.id).candidate.references;
        if (refs.some((ref) => ref.subject === subject && ref.version === version) && !ids.includes(v.id))
          ids.push(v.id);
      }
      void other;
    }
    return ids.sort((a, b) => a - b);
  }

  async listVersions(subject: string, options?: { includeDeleted?: boolean; deletedOnly?: boolean }) {
    if (options?.deletedOnly) {
      this.versionsOf(subject, true);
      return (this.subjects.get(subject) ?? []).filter((v) => v.deleted).map((v) => v.version);
    }
    return this.versionsOf(subject, options?.includeDeleted).map((v) => v.version);
  }

  async register(subject: string, candidate: ConfluentCandidate) {
    validateSubject(subject);
    this.writable(subject);
    this.parse(candidate);
    const versions = this.subjects.get(subject) ?? [];
    const key = this.key(candidate);
    const existingId = this.idsByKey.get(key);
    const existing = versions.find((v) => v.id === existingId && !v.deleted);
    if (existing && existingId !== undefined)
      return { id: existingId, version: existing.version, semver: `${existing.version}.0.0` };
    const live = versions.filter((v) => !v.deleted);
    const verdict = this.verdict(subject, live.length > 0 ? [live.at(-1)!] : [], candidate);
    if (!verdict.compatible) {
      fail("incompatible_schema", "Schema being registered is incompatible with an earlier schema", {
        resource: "schema",
        violations: verdict.messages,
      });
    }
    let id = existingId;
    if (id === undefined) {
      id = this.nextId++;
      this.idsByKey.set(key, id);
      this.contents.set(id, {
        id,
        guid: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
        candidate,
      });
    }
    const version = (versions.at(-1)?.version ?? 0) + 1;
    versions.push({ version, id, deleted: false });
    this.subjects.set(subject, versions);
    return { id, version, semver: `${version}.0.0` };
  }

  private verdict(subject: string, against: Version[], candidate: ConfluentCandidate) {
    const level = this.levels.get(subject) ?? this.globalLevel;
    if (level === "NONE" || !candidate.schema.includes("BREAKING")) return { compatible: true, messages: [] };
    return {
      compatible: false,
      messages: against.map((v) => `BREAKING change against version ${v.version}`),
    };
  }

  async version(subject: string, version: number | "latest", options?: { includeDeleted?: boolean }) {
    const found = this.find(subject, version, options?.includeDeleted);
    return this.view(this.content(found.id), { subject, version: found });
  }

  async referencedBy(subject: string, version: number | "latest") {
    const found = this.find(subject, version);
    return this.referrers(subject, found.version);
  }

  async deleteVersion(subject: string, version: number | "latest", options: { permanent: boolean }) {
    const found = this.find(subject, version, version !== "latest");
    if (!options.permanent) {
      if (found.deleted) {
        fail("conflict", `Subject '${subject}' Version ${found.version} was soft deleted.`, {
          resource: "version",
          deleted: true,
        });
      }
      this.unreferenced(subject, [found]);
      found.deleted = true;
      return found.version;
    }
    if (!found.deleted)
      fail("conflict", `Subject '${subject}' Version ${found.version} was not deleted first`, {
        resource: "version",
        deleted: false,
      });
    const versions = this.subjects.get(subject)!;
    versions.splice(versions.indexOf(found), 1);
    if (versions.length === 0) this.subjects.delete(subject);
    return found.version;
  }

  async checkCompatibility(
    subject: string,
    against: number | "latest" | "all",
    candidate: ConfluentCandidate,
  ) {
    this.parse(candidate);
    if (against === "all") {
      const live = (this.subjects.get(subject) ?? []).filter((v) => !v.deleted);
      return this.verdict(subject, live.slice(-1), candidate);
    }
    return this.verdict(subject, [this.find(subject, against)], candidate);
  }

  async globalCompatibility() {
    return this.globalLevel;
  }
  async setGlobalCompatibility(level: CompatibilityLevel) {
    this.globalLevel = level;
    return level;
  }
  async resetGlobalCompatibility() {
    const had = this.globalLevel;
    this.globalLevel = this.defaultLevel;
    return had;
  }
  async subjectCompatibility(subject: string) {
    return this.levels.get(subject) ?? null;
  }
  async setSubjectCompatibility(subject: string, level: CompatibilityLevel) {
    this.levels.set(subject, level);
    return level;
  }
  async deleteSubjectCompatibility(subject: string) {
    const had = this.levels.get(subject);
    if (!had)
      fail("not_found", `Subject '${subject}' does not have subject-level compatibility configured`, {
        resource: "compatibility",
      });
    this.levels.delete(subject);
    return had;
  }

  async globalMode() {
    return this.globalModeValue;
  }
  async setGlobalMode(mode: ConfluentMode, options?: { force?: boolean }) {
    if (mode === "IMPORT" && this.subjects.size > 0 && !options?.force) {
      fail("read_only", "Cannot import since found existing subjects", { resource: "mode" });
    }
    this.globalModeValue = mode;
    return mode;
  }
  async resetGlobalMode() {
    const had = this.globalModeValue;
    this.globalModeValue = "READWRITE";
    return had;
  }
  async subjectMode(subject: string) {
    return this.modes.get(subject) ?? null;
  }
  async setSubjectMode(subject: string, mode: ConfluentMode, options?: { force?: boolean }) {
    if (mode === "IMPORT" && (this.subjects.get(subject)?.length ?? 0) > 0 && !options?.force) {
      fail("read_only", `Cannot import since subject ${subject} has versions`, { resource: "mode" });
    }
    this.modes.set(subject, mode);
    return mode;
  }
  async deleteSubjectMode(subject: string) {
    const had = this.modes.get(subject);
    if (!had)
      fail("not_found", `Subject '${subject}' does not have subject-level mode configured`, {
        resource: "mode",
      });
    this.modes.delete(subject);
    return had;
  }
}

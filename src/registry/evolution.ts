/**
 * Schema evolution as the registry applies it on every register and dry run:
 * the settings in force for a subject (its own, else the global ones, else
 * the configured defaults), the versions a candidate is checked against, the
 * compatibility engine's verdict, and the version that follows from it.
 *
 * The version derivation: with no version asked for, the next version is the
 * subject's highest (soft-deleted ones included, so it never collides) bumped
 * by what the change is, compared with the latest live version: a major for a
 * change that consumers on the new schema cannot read old data with (whatever
 * the subject's level), a patch for documentation only, a minor otherwise;
 * `1.0.0` for a new subject. With the `enforce` policy an explicit version
 * that is a smaller step than that (a breaking change as a minor) is refused
 * with `version_policy`.
 */
import { LRUCache } from "lru-cache";
import {
  bumpBetween,
  bumpSatisfies,
  bumpVersion,
  type CompatibilityEngine,
  type CompatibilityVerdict,
  type EffectiveSettings,
  type VersionBump,
} from "../domain/compatibility/index.ts";
import { RegistryError } from "../domain/errors.ts";
import type { Mode } from "../domain/modes.ts";
import { referencesKey } from "../domain/references.ts";
import { parseSemVer } from "../domain/semver.ts";
import type { ResolvedReference, SchemaRecord, SchemaReference, SchemaType } from "../domain/types.ts";
import type { EvolutionContext, SchemaRepository } from "../storage/storage.ts";

/** A candidate ready to compare: its type, parsed content, content hash and references. */
export interface Candidate {
  subject: string;
  schemaType: SchemaType;
  content: unknown;
  contentHash: string;
  /** The references it makes (part of its identity); none when absent. */
  references?: readonly SchemaReference[];
  /** Their contents, transitively, as the rules read them. */
  resolved?: readonly ResolvedReference[];
}

export interface EvolutionDecision {
  settings: EffectiveSettings;
  verdict: CompatibilityVerdict;
  /** The version a register without one gets. */
  suggestedVersion: string;
  /** The latest live version the bump was measured from; null for a subject without one. */
  latestVersion: string | null;
  /** The bump the change calls for. */
  bump: VersionBump;
  /** The guard the register commits under: the subject's head when checked. */
  head: number;
  /** The live schema that already holds this content (a repeated register): nothing to check or write. */
  existing: SchemaRecord | null;
  /** The subject's own mode and the global one when the context was read (null: not set). */
  modes: { subject: Mode | null; global: Mode | null };
}

export interface SchemaEvolutionOptions {
  engine: CompatibilityEngine;
  /** Reads the context of a decision in one round trip. */
  repository: Pick<SchemaRepository, "evolutionContext">;
  /** The configured defaults, where neither the subject nor the global settings say. */
  defaults: EffectiveSettings;
  /** Loads the content of a row that does not hold it (object-store content). */
  loadContent(record: SchemaRecord): Promise<unknown>;
  /** The contents a stored version's references name; none resolved when absent. */
  resolveReferences?(references: readonly SchemaReference[]): Promise<ResolvedReference[]>;
}

export class SchemaEvolution {
  readonly defaults: EffectiveSettings;
  private readonly engine: CompatibilityEngine;
  private readonly repository: Pick<SchemaRepository, "evolutionContext">;
  private readonly loadContent: (record: SchemaRecord) => Promise<unknown>;
  private readonly resolveReferences: (
    references: readonly SchemaReference[],
  ) => Promise<ResolvedReference[]>;

  constructor(options: SchemaEvolutionOptions) {
    this.engine = options.engine;
    this.repository = options.repository;
    this.defaults = options.defaults;
    this.loadContent = options.loadContent;
    this.resolveReferences = options.resolveReferences ?? (async () => []);
  }

  /** The verdict on `candidate` as the next version of its subject, and the version it would get. */
  async decide(candidate: Candidate): Promise<EvolutionDecision> {
    const context = await this.repository.evolutionContext(
      candidate.subject,
      candidate.contentHash,
      this.defaults,
    );
    return this.decideIn(context, candidate);
  }

  /**
   * Under the `enforce` policy, refuses an explicit version that is a
   * smaller step above the latest than the change calls for.
   */
  enforcePolicy(decision: EvolutionDecision, requested: string): void {
    if (decision.settings.semverPolicy !== "enforce" || decision.latestVersion === null) return;
    const from = numbersOf(decision.latestVersion);
    const to = numbersOf(requested);
    if (!from || !to) return;
    const given = bumpBetween(from, to);
    if (given !== null && bumpSatisfies(given, decision.bump)) return;
    const needed = bumpVersion(from, decision.bump);
    throw new RegistryError(
      "version_policy",
      `version ${requested} does not follow from the change: it is a ${decision.bump} change from ${decision.latestVersion}, so it needs ${needed} or a larger step (the subject's semver_policy is enforce)`,
      {
        requested_version: requested,
        needed_version: needed,
        change: decision.bump,
        latest_version: decision.latestVersion,
      },
    );
  }

  private async decideIn(context: EvolutionContext, candidate: Candidate): Promise<EvolutionDecision> {
    const { settings } = context;
    await this.engine.ready();
    // The same content with other references is another schema: not a repeat of this one.
    const sameReferences =
      context.existing !== null &&
      referencesKey(context.existing.references) === referencesKey(candidate.references ?? []);
    if (context.existing && sameReferences) {
      return {
        settings,
        verdict: { compatible: true, level: settings.compatibility, violations: [], checkedVersions: [] },
        suggestedVersion: context.existing.version,
        latestVersion: context.live[0]?.version ?? null,
        bump: "patch",
        head: context.head,
        existing: context.existing,
        modes: context.modes,
      };
    }
    const prior = await Promise.all(
      context.live.map(async (record) => ({
        version: record.version,
        // The prepared form includes the references' contents: the same text with others parses differently.
        cacheKey:
          record.references.length === 0 ? record.contentHash : `${record.contentHash}:${record.contentId}`,
        document: {
          content: record.content ?? (await this.loadContent(record)),
          ...(record.references.length === 0
            ? {}
            : { references: await this.resolveReferences(record.references) }),
        },
      })),
    );
    const resolved = candidate.resolved ?? [];
    const keyed = {
      document: { content: candidate.content, ...(resolved.length === 0 ? {} : { references: resolved }) },
      cacheKey:
        resolved.length === 0
          ? candidate.contentHash
          : `${candidate.contentHash}:${referencesKey(candidate.references ?? [])}`,
    };
    // A version of another schema type is read by none of this type's rules (parsing it with them
    // failed, 500): comparing with it is a change of type, which every level but NONE refuses, as
    // Confluent does, and which starts a new major line.
    const level = settings.compatibility;
    const latestSameType = context.live[0]?.schemaType === candidate.schemaType;
    const transitive = level.endsWith("_TRANSITIVE");
    const sameType = prior.filter((_, i) => context.live[i]!.schemaType === candidate.schemaType);
    const otherType =
      level === "NONE"
        ? []
        : context.live.filter(
            (record, i) => record.schemaType !== candidate.schemaType && (transitive || i === 0),
          );
    const checked = this.engine.check(
      candidate.schemaType,
      level,
      keyed,
      transitive || latestSameType ? sameType : [],
    );
    const verdict =
      otherType.length === 0
        ? checked
        : {
            ...checked,
            compatible: false,
            violations: [
              ...checked.violations,
              ...otherType.map((record) => ({
                path: "#",
                rule: "schema_type_changed",
                message: `Version ${record.version} is a ${record.schemaType} schema; a ${candidate.schemaType} schema cannot be compatible with it`,
                version: record.version,
              })),
            ],
            checkedVersions: context.live
              .filter((_, i) => transitive || i === 0)
              .map((record) => record.version),
          };
    const latest = prior[0];
    // A subject whose every version was deleted starts a new major line, like a new subject does.
    const bump: VersionBump =
      latest && latestSameType ? this.engine.bump(candidate.schemaType, keyed, latest) : "major";
    const base = context.highestVersion === null ? null : numbersOf(context.highestVersion);
    return {
      settings,
      verdict,
      suggestedVersion: base === null ? "1.0.0" : bumpVersion(base, bump),
      latestVersion: latest?.version ?? null,
      bump,
      head: context.head,
      existing: null,
      modes: context.modes,
    };
  }
}

/** The release numbers of a version (build metadata and pre-release ignored), as plain numbers. */
function numbersOf(version: string): { major: number; minor: number; patch: number } | null {
  const parsed = parseSemVer(version);
  if (parsed === null) return null;
  return { major: Number(parsed.major), minor: Number(parsed.minor), patch: Number(parsed.patch) };
}

/** Prepared forms of stored schemas are kept by content hash: content never changes under it. */
const PREPARED_ENTRIES = 2_000;

/** A small LRU for the compatibility engine's prepared schema forms. */
export function preparedFormsCache(): { get(key: string): unknown; set(key: string, value: unknown): void } {
  const lru = new LRUCache<string, { value: unknown }>({ max: PREPARED_ENTRIES });
  return {
    get: (key) => lru.get(key)?.value,
    set: (key, value) => {
      lru.set(key, { value });
    },
  };
}

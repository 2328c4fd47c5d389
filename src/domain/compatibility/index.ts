/**
 * Schema evolution: a compatibility level applied over a subject's versions
 * with the rules of the schema's type, and the semantic version that follows
 * from the verdict.
 *
 * Levels, as Confluent defines them: BACKWARD means consumers on the new
 * schema read data written with the old one (the new schema is the reader);
 * FORWARD the reverse; FULL both. Non-transitive levels compare against the
 * latest live version only, transitive ones against every version that is
 * not deleted. NONE checks nothing.
 *
 * The version derivation is ours (no other registry does it): a change that
 * breaks backward compatibility with the latest version is a new major; a
 * compatible change that means something (adds or relaxes) a new minor; a
 * change of documentation only (descriptions, comments, key order) a patch.
 */
import type { SchemaType } from "../types.ts";
import type { CompatibilityRules, SchemaDocument, Violation } from "./types.ts";

export type { SchemaDocument, Violation } from "./types.ts";

export const COMPATIBILITY_LEVELS = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY_LEVEL: CompatibilityLevel = "BACKWARD";

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === "string" && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/**
 * What an explicit version on a register must respect: `advise` takes any
 * version that is free; `enforce` refuses one that is a smaller step than
 * the change calls for (a breaking change as a minor).
 */
export const SEMVER_POLICIES = ["advise", "enforce"] as const;
export type SemverPolicy = (typeof SEMVER_POLICIES)[number];
export const DEFAULT_SEMVER_POLICY: SemverPolicy = "advise";

export function isSemverPolicy(value: unknown): value is SemverPolicy {
  return typeof value === "string" && (SEMVER_POLICIES as readonly string[]).includes(value);
}

/** Evolution settings as stored for a subject or globally: what is not set falls back. */
export interface EvolutionSettings {
  compatibility?: CompatibilityLevel | undefined;
  semverPolicy?: SemverPolicy | undefined;
}

/** The settings in force for a subject. */
export interface EffectiveSettings {
  compatibility: CompatibilityLevel;
  semverPolicy: SemverPolicy;
}

/** How the kind of a change becomes the next version: the bump of the latest version it calls for. */
export type VersionBump = "major" | "minor" | "patch";

/** One earlier version a candidate is checked against. */
export interface PriorVersion {
  /** The version as the subject lists it (`1.2.0`), named in violations. */
  version: string;
  document: SchemaDocument;
}

/** A violation of the check, with the version it conflicts with. */
export interface CompatibilityViolation extends Violation {
  version: string;
}

/**
 * The violations as every answer lists them (a refused register's details,
 * the dry run and the console's compare): path, rule, message and version,
 * and nothing else a rule may have attached.
 */
export function answeredViolations(violations: readonly CompatibilityViolation[]): CompatibilityViolation[] {
  return violations.map(({ path, rule, message, version }) => ({ path, rule, message, version }));
}

export interface CompatibilityVerdict {
  compatible: boolean;
  level: CompatibilityLevel;
  violations: CompatibilityViolation[];
  /** The versions compared against, newest first. */
  checkedVersions: string[];
}

/**
 * Parses each document once per schema type and remembers it, so a subject
 * checked against fifty versions does not parse them fifty times per check.
 * Keys are whatever the caller uses to name a stored version (its content
 * hash, say); documents without a key are parsed each time.
 */
export interface PreparedCache {
  get(key: string): unknown;
  set(key: string, prepared: unknown): void;
}

export type RulesByType = Readonly<Record<SchemaType, CompatibilityRules>>;

export interface CompatibilityEngineOptions {
  /** Each type's rules, or how to load them (on the first `ready()`, so a host that only reads never does). */
  rules: RulesByType | (() => Promise<RulesByType>);
  /** Where prepared forms are kept between checks; none by default. */
  prepared?: PreparedCache;
}

/** A document with, optionally, the key its prepared form is cached under. */
export interface KeyedDocument {
  document: SchemaDocument;
  cacheKey?: string;
}

export class CompatibilityEngine {
  private loaded: RulesByType | null;
  private loading: Promise<void> | null = null;
  private readonly load: (() => Promise<RulesByType>) | null;
  private readonly preparedCache: PreparedCache | null;

  constructor(options: CompatibilityEngineOptions) {
    this.loaded = typeof options.rules === "function" ? null : options.rules;
    this.load = typeof options.rules === "function" ? options.rules : null;
    this.preparedCache = options.prepared ?? null;
  }

  /**
   * Resolves once the rules are loaded; `check` and `bump` need it first. The rules of createCompatibilityEngine
   * (and the parsers they bring: avsc, protobufjs, ajv) load on the first call, not with the module.
   */
  ready(): Promise<void> {
    if (this.loaded !== null) return Promise.resolve();
    this.loading ??= this.load!().then(
      (rules) => {
        this.loaded = rules;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    );
    return this.loading;
  }

  private get rules(): RulesByType {
    if (this.loaded === null)
      throw new Error("the compatibility rules are not loaded: await engine.ready() first");
    return this.loaded;
  }

  /**
   * Checks `candidate` against `history` (newest first, deleted versions
   * already left out) at `level`. The first entry of `history` is the latest
   * live version, which non-transitive levels compare against alone.
   */
  check(
    schemaType: SchemaType,
    level: CompatibilityLevel,
    candidate: KeyedDocument,
    history: readonly (PriorVersion & { cacheKey?: string })[],
  ): CompatibilityVerdict {
    const compared = level === "NONE" ? [] : level.endsWith("_TRANSITIVE") ? history : history.slice(0, 1);
    const rules = this.rules[schemaType];
    const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
    const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
    const violations: CompatibilityViolation[] = [];
    if (compared.length > 0) {
      const next = this.prepare(schemaType, candidate);
      for (const prior of compared) {
        const previous = this.prepare(schemaType, prior);
        const name = `version ${prior.version}`;
        if (backward) {
          for (const violation of rules.readerViolations(next, previous, {
            reader: "the new schema",
            writer: name,
          })) {
            violations.push({ ...violation, version: prior.version });
          }
        }
        if (forward) {
          for (const violation of rules.readerViolations(previous, next, {
            reader: name,
            writer: "the new schema",
          })) {
            violations.push({ ...violation, version: prior.version });
          }
        }
      }
    }
    return {
      compatible: violations.length === 0,
      level,
      violations: dedupe(violations),
      checkedVersions: compared.map((prior) => prior.version),
    };
  }

  /**
   * The bump a change from `latest` to `candidate` calls for: major when a
   * consumer on the new schema cannot read data written with the latest
   * (whatever the subject's level), patch when the two mean the same, minor
   * otherwise.
   */
  bump(schemaType: SchemaType, candidate: KeyedDocument, latest: KeyedDocument): VersionBump {
    const rules = this.rules[schemaType];
    const next = this.prepare(schemaType, candidate);
    const previous = this.prepare(schemaType, latest);
    if (rules.readerViolations(next, previous).length > 0) return "major";
    return rules.sameMeaning(next, previous) ? "patch" : "minor";
  }

  private prepare(schemaType: SchemaType, keyed: KeyedDocument): unknown {
    const key = keyed.cacheKey === undefined ? undefined : `${schemaType}:${keyed.cacheKey}`;
    if (key !== undefined && this.preparedCache) {
      const cached = this.preparedCache.get(key);
      if (cached !== undefined) return cached;
    }
    const prepared = this.rules[schemaType].prepare(keyed.document);
    if (key !== undefined) this.preparedCache?.set(key, prepared);
    return prepared;
  }
}

/** Each schema type's rules, loaded with their parsers (src/domain/compatibility/rules.ts). */
export async function loadRulesByType(): Promise<RulesByType> {
  return (await import("./rules.ts")).RULES_BY_TYPE;
}

/** The engine with every type's rules, loaded on its first `ready()`. */
export function createCompatibilityEngine(options: { prepared?: PreparedCache } = {}): CompatibilityEngine {
  return new CompatibilityEngine({ rules: loadRulesByType, ...options });
}

/** The next version after `latest` for a bump: `2.0.0`, `1.3.0`, `1.2.1` from `1.2.0` (pre-releases end in their release). */
export function bumpVersion(
  latest: { major: number; minor: number; patch: number },
  bump: VersionBump,
): string {
  switch (bump) {
    case "major":
      return `${latest.major + 1}.0.0`;
    case "minor":
      return `${latest.major}.${latest.minor + 1}.0`;
    case "patch":
      return `${latest.major}.${latest.minor}.${latest.patch + 1}`;
  }
}

/** The bump that takes `from` to `to`, or null when `to` is not above `from`. */
export function bumpBetween(
  from: { major: number; minor: number; patch: number },
  to: { major: number; minor: number; patch: number },
): VersionBump | null {
  if (to.major !== from.major) return to.major > from.major ? "major" : null;
  if (to.minor !== from.minor) return to.minor > from.minor ? "minor" : null;
  if (to.patch !== from.patch) return to.patch > from.patch ? "patch" : null;
  return null;
}

const BUMP_ORDER: Readonly<Record<VersionBump, number>> = { patch: 0, minor: 1, major: 2 };

/** True when `given` is at least as large a step as `needed` (a major where a minor suffices is fine). */
export function bumpSatisfies(given: VersionBump, needed: VersionBump): boolean {
  return BUMP_ORDER[given] >= BUMP_ORDER[needed];
}

/** The same rule broken at the same place for the same version, reported once (FULL checks both ways). */
function dedupe(violations: CompatibilityViolation[]): CompatibilityViolation[] {
  const seen = new Set<string>();
  return violations.filter((violation) => {
    const key = `${violation.version}\u0000${violation.rule}\u0000${violation.path}\u0000${violation.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Semantic Versioning 2.0.0: parsing, precedence, the two derived keys the
 * storage layer indexes on, and the one error for a version that is not one.
 *
 * - `versionKey` drops build metadata: two versions that differ only in build
 *   metadata are the same version, so uniqueness is enforced on this key.
 * - `versionSortKey` is a string whose byte order (COLLATE "C") is semver
 *   precedence, so PostgreSQL can order and pick the latest version with a
 *   plain btree index instead of parsing versions in SQL.
 *
 * The version assigned when none is given is derived by the database, under
 * the subject's lock (registry_register in migrations/001).
 */

import { RegistryError } from "./errors.ts";

export interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  prerelease: (string | bigint)[];
  build: string[];
}

// The regular expression recommended by semver.org, with named groups.
const SEMVER_PATTERN =
  /^(?<major>0|[1-9]\d*)\.(?<minor>0|[1-9]\d*)\.(?<patch>0|[1-9]\d*)(?:-(?<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+(?<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Longest version string accepted; keeps sort keys and indexes small. */
export const MAX_VERSION_LENGTH = 128;

const NUMERIC = /^\d+$/;

export function parseSemVer(text: string): SemVer | null {
  if (text.length === 0 || text.length > MAX_VERSION_LENGTH) return null;
  const groups = SEMVER_PATTERN.exec(text)?.groups;
  if (!groups) return null;
  return {
    major: BigInt(groups.major!),
    minor: BigInt(groups.minor!),
    patch: BigInt(groups.patch!),
    prerelease: groups.prerelease
      ? groups.prerelease.split(".").map((id) => (NUMERIC.test(id) ? BigInt(id) : id))
      : [],
    build: groups.build ? groups.build.split(".") : [],
  };
}

export function isSemVer(text: string): boolean {
  return parseSemVer(text) !== null;
}

/** The error for a version that does not parse, whichever layer finds it. */
export function invalidVersion(version: string): RegistryError {
  return RegistryError.invalidRequest(
    `version ${JSON.stringify(version)} is not a Semantic Versioning 2.0.0 version`,
    { field: "version" },
  );
}

export function formatSemVer(v: SemVer, withBuild = true): string {
  let out = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length > 0) out += `-${v.prerelease.join(".")}`;
  if (withBuild && v.build.length > 0) out += `+${v.build.join(".")}`;
  return out;
}

/** The version without build metadata: the identity of a version. */
export function versionKey(v: SemVer): string {
  return formatSemVer(v, false);
}

/** Semver precedence: negative, zero or positive like a comparator. Build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const field of ["major", "minor", "patch"] as const) {
    if (a[field] !== b[field]) return a[field] < b[field] ? -1 : 1;
  }
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A version without pre-release has higher precedence than one with.
  if (ap.length === 0 || bp.length === 0) return bp.length - ap.length;
  for (let i = 0; i < Math.min(ap.length, bp.length); i++) {
    const x = ap[i]!;
    const y = bp[i]!;
    if (x === y) continue;
    const xNumeric = typeof x === "bigint";
    const yNumeric = typeof y === "bigint";
    if (xNumeric && yNumeric) return x < y ? -1 : 1;
    // Numeric identifiers always have lower precedence than alphanumeric ones.
    if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return ap.length - bp.length;
}

// Numbers are written as <length as 3 digits><digits>, so that shorter numbers
// sort first and equal lengths compare digit by digit.
function numberKey(n: bigint): string {
  const digits = n.toString();
  return digits.length.toString().padStart(3, "0") + digits;
}

/**
 * A string whose ordinal (byte) order equals semver precedence.
 *
 * Pre-release identifiers are separated by "\u0001", which sorts below every
 * character an identifier may hold, so `alpha` < `alpha.1` and `a.x` < `a-b`.
 * A release ends in "~", which sorts above the "-" that starts a pre-release.
 */
export function versionSortKey(v: SemVer): string {
  const core = `${numberKey(v.major)}.${numberKey(v.minor)}.${numberKey(v.patch)}`;
  if (v.prerelease.length === 0) return `${core}~`;
  const ids = v.prerelease.map((id) => (typeof id === "bigint" ? `0${numberKey(id)}` : `1${id}`));
  return `${core}-${ids.join("\u0001")}`;
}

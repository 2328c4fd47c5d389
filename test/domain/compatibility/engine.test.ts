/**
 * The compatibility engine over a subject's versions: which versions each
 * level compares against and in which direction, violations tagged with the
 * version they conflict with, prepared forms parsed once, and the version
 * bump that follows from a change. Avro's rules stand in for every type.
 */
import { describe, expect, test } from "bun:test";
import { avroRules } from "../../../src/domain/compatibility/avro.ts";
import {
  bumpBetween,
  bumpSatisfies,
  bumpVersion,
  COMPATIBILITY_LEVELS,
  CompatibilityEngine,
  type CompatibilityLevel,
} from "../../../src/domain/compatibility/index.ts";
import type { CompatibilityRules } from "../../../src/domain/compatibility/types.ts";

const record = (fields: unknown[]) => ({ type: "record", name: "Order", fields });
const id = { name: "id", type: "long" };
const note = { name: "note", type: "string" }; // no default
const noteWithDefault = { name: "note", type: "string", default: "" };

// v1 {id}; v2 {id, note with default}; v3 {id, note with default}, documented.
const v1 = { version: "1.0.0", document: { content: record([id]) } };
const v2 = { version: "1.1.0", document: { content: record([id, noteWithDefault]) } };
const v3 = {
  version: "1.1.1",
  document: { content: { ...record([id, noteWithDefault]), doc: "An order placed by a customer." } },
};

function engine(rules: CompatibilityRules = avroRules) {
  return new CompatibilityEngine({ rules: { avro: rules, json: rules, protobuf: rules } });
}

function check(level: CompatibilityLevel, candidate: unknown, history = [v2, v1]) {
  return engine().check("avro", level, { document: { content: candidate } }, history);
}

describe("levels", () => {
  test("NONE compares against nothing", () => {
    const verdict = check("NONE", record([note]));
    expect(verdict).toEqual({ compatible: true, level: "NONE", violations: [], checkedVersions: [] });
  });

  test("BACKWARD: the new schema reads the latest version's data; a field without default breaks it", () => {
    const verdict = check("BACKWARD", record([id, noteWithDefault, { name: "total", type: "double" }]));
    expect(verdict.compatible).toBe(false);
    expect(verdict.checkedVersions).toEqual(["1.1.0"]);
    expect(verdict.violations.map((v) => [v.rule, v.version])).toEqual([
      ["reader_field_missing_default", "1.1.0"],
    ]);
    expect(verdict.violations[0]!.message).toContain("the new schema");
    expect(verdict.violations[0]!.message).toContain("version 1.1.0");
  });

  test("BACKWARD compares with the latest only; BACKWARD_TRANSITIVE with every version", () => {
    // Drops the note's default: v2 wrote the note, v1 did not.
    const candidate = record([id, note]);
    expect(check("BACKWARD", candidate).compatible).toBe(true);
    const transitive = check("BACKWARD_TRANSITIVE", candidate);
    expect(transitive.checkedVersions).toEqual(["1.1.0", "1.0.0"]);
    expect(transitive.violations.map((v) => [v.rule, v.version])).toEqual([
      ["reader_field_missing_default", "1.0.0"],
    ]);
  });

  test("FORWARD: the latest version reads the new schema's data", () => {
    // Removing a field without default: old readers need it.
    const removed = check("FORWARD", record([]), [v1]);
    expect(removed.violations.map((v) => v.rule)).toEqual(["reader_field_missing_default"]);
    expect(removed.violations[0]!.message).toContain("version 1.0.0");
    expect(check("BACKWARD", record([]), [v1]).compatible).toBe(true);
  });

  test("FULL checks both directions; a violation found both ways is reported once", () => {
    const verdict = check("FULL", record([{ name: "id", type: "string" }]), [v1]);
    expect(verdict.compatible).toBe(false);
    const keys = verdict.violations.map((v) => `${v.rule}|${v.path}|${v.message}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(check("FULL", record([id, noteWithDefault]), [v1]).compatible).toBe(true);
  });

  test("a subject with no versions is compatible at every level, with nothing checked", () => {
    for (const level of COMPATIBILITY_LEVELS) {
      expect(check(level, record([note]), [])).toMatchObject({ compatible: true, checkedVersions: [] });
    }
  });
});

describe("prepared forms", () => {
  test("a keyed document is parsed once across checks", () => {
    let prepared = 0;
    const counting: CompatibilityRules = {
      ...avroRules,
      prepare(document) {
        prepared++;
        return avroRules.prepare(document);
      },
    };
    const cache = new Map<string, unknown>();
    const e = new CompatibilityEngine({
      rules: { avro: counting, json: counting, protobuf: counting },
      prepared: { get: (k) => cache.get(k), set: (k, v) => cache.set(k, v) },
    });
    const history = [
      { ...v2, cacheKey: "h2" },
      { ...v1, cacheKey: "h1" },
    ];
    for (let i = 0; i < 5; i++) {
      e.check("avro", "BACKWARD_TRANSITIVE", { document: v3.document, cacheKey: "h3" }, history);
    }
    expect(prepared).toBe(3);
  });
});

describe("the version from the verdict", () => {
  const e = engine();
  const latest = { document: v2.document };

  test("a breaking change is a major, an addition a minor, documentation a patch", () => {
    expect(
      e.bump(
        "avro",
        { document: { content: record([id, noteWithDefault, { name: "total", type: "double" }]) } },
        latest,
      ),
    ).toBe("major");
    expect(
      e.bump(
        "avro",
        { document: { content: record([id, noteWithDefault, { ...note, name: "x", default: "" }]) } },
        latest,
      ),
    ).toBe("minor");
    expect(e.bump("avro", { document: v3.document }, latest)).toBe("patch");
  });

  test("bumps from a version", () => {
    const from = { major: 1, minor: 2, patch: 3 };
    expect(bumpVersion(from, "major")).toBe("2.0.0");
    expect(bumpVersion(from, "minor")).toBe("1.3.0");
    expect(bumpVersion(from, "patch")).toBe("1.2.4");
    expect(bumpBetween(from, { major: 2, minor: 0, patch: 0 })).toBe("major");
    expect(bumpBetween(from, { major: 1, minor: 4, patch: 0 })).toBe("minor");
    expect(bumpBetween(from, { major: 1, minor: 2, patch: 9 })).toBe("patch");
    expect(bumpBetween(from, { major: 1, minor: 1, patch: 9 })).toBeNull();
    expect(bumpBetween(from, from)).toBeNull();
    expect(bumpSatisfies("major", "minor")).toBe(true);
    expect(bumpSatisfies("minor", "major")).toBe(false);
    expect(bumpSatisfies("patch", "patch")).toBe(true);
  });
});

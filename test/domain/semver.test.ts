/**
 * Semantic Versioning 2.0.0: parsing, precedence, the sort key the database
 * orders by. The version assigned when none is given is the database's rule,
 * tested through the repository (test/storage/repository-contract.ts).
 */
import { describe, expect, test } from "bun:test";
import {
  compareSemVer,
  formatSemVer,
  isSemVer,
  MAX_VERSION_LENGTH,
  parseSemVer,
  type SemVer,
  versionKey,
  versionSortKey,
} from "../../src/domain/semver.ts";

const parse = (text: string): SemVer => {
  const v = parseSemVer(text);
  if (!v) throw new Error(`expected ${text} to parse`);
  return v;
};

// The valid and invalid examples published with semver.org's regular expression.
const VALID = [
  "0.0.4",
  "1.2.3",
  "10.20.30",
  "1.1.2-prerelease+meta",
  "1.1.2+meta",
  "1.1.2+meta-valid",
  "1.0.0-alpha",
  "1.0.0-beta",
  "1.0.0-alpha.beta",
  "1.0.0-alpha.beta.1",
  "1.0.0-alpha.1",
  "1.0.0-alpha0.valid",
  "1.0.0-alpha.0valid",
  "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
  "1.0.0-rc.1+build.1",
  "2.0.0-rc.1+build.123",
  "1.2.3-beta",
  "10.2.3-DEV-SNAPSHOT",
  "1.2.3-SNAPSHOT-123",
  "2.0.0+build.1848",
  "2.0.1-alpha.1227",
  "1.0.0-alpha+beta",
  "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
  "1.2.3----R-S.12.9.1--.12+meta",
  "1.2.3----RC-SNAPSHOT.12.9.1--.12",
  "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
  "99999999999999999999999.999999999999999999.99999999999999999",
  "1.0.0-0A.is.legal",
  "1.0.0-rc.1+build.5",
  "1.0.0+001",
];

const INVALID = [
  "",
  "1",
  "1.2",
  "1.2.3-0123",
  "1.2.3-0123.0123",
  "1.1.2+.123",
  "+invalid",
  "-invalid",
  "-invalid+invalid",
  "-invalid.01",
  "alpha",
  "alpha.beta",
  "alpha+beta",
  "1.0.0-alpha_beta",
  "1.0.0-alpha..",
  "1.0.0-alpha..1",
  "01.1.1",
  "1.01.1",
  "1.1.01",
  "1.2.3.DEV",
  "1.2-SNAPSHOT",
  "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
  "-1.0.3-gamma+b7718",
  "+justmeta",
  "9.8.7+meta+meta",
  "9.8.7-whatever+meta+meta",
  "1.0.0-",
  "1.0.0+",
  "v1.0.0",
  " 1.0.0",
  "1.0.0 ",
  "1.0.0-01",
];

describe("parseSemVer", () => {
  test.each(VALID)("accepts %p", (text) => {
    expect(isSemVer(text)).toBe(true);
    expect(formatSemVer(parse(text))).toBe(text);
  });

  test.each(INVALID)("rejects %p", (text) => {
    expect(parseSemVer(text)).toBeNull();
    expect(isSemVer(text)).toBe(false);
  });

  test("splits the parts, numeric pre-release identifiers as numbers", () => {
    expect(parse("1.0.0-rc.1+build.5")).toEqual({
      major: 1n,
      minor: 0n,
      patch: 0n,
      prerelease: ["rc", 1n],
      build: ["build", "5"],
    });
  });

  test("leading zeros: forbidden in numeric identifiers, allowed in alphanumeric ones and in build metadata", () => {
    expect(parseSemVer("1.0.0-01")).toBeNull();
    expect(parse("1.0.0-0a").prerelease).toEqual(["0a"]);
    expect(parse("1.0.0-0").prerelease).toEqual([0n]);
    expect(parse("1.0.0+007").build).toEqual(["007"]);
  });

  test("numbers beyond 2^53 keep their exact value", () => {
    expect(parse("9007199254740993.0.0").major).toBe(9007199254740993n);
  });

  test(`versions longer than ${MAX_VERSION_LENGTH} characters are refused`, () => {
    const long = `1.0.0-${"a".repeat(MAX_VERSION_LENGTH - 6)}`;
    expect(long.length).toBe(MAX_VERSION_LENGTH);
    expect(isSemVer(long)).toBe(true);
    expect(isSemVer(`${long}a`)).toBe(false);
  });
});

describe("precedence", () => {
  const chains = {
    "semver.org §11": [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "2.0.0",
      "2.1.0",
      "2.1.1",
    ],
    "docs/api.md": ["1.0.0-alpha.2", "1.0.0-alpha.10", "1.0.0-rc.1", "1.0.0"],
    "numbers compare numerically at every level": ["1.2.3", "1.2.10", "1.10.0", "2.0.0", "10.0.0", "100.0.0"],
    "numeric identifiers below alphanumeric ones, ASCII order among those": [
      "1.0.0-1",
      "1.0.0-2",
      "1.0.0-10",
      "1.0.0-10a",
      "1.0.0-A",
      "1.0.0-Z",
      "1.0.0-a",
      "1.0.0-a.1",
      "1.0.0-a.b",
      "1.0.0-a-b",
      "1.0.0-ab",
      "1.0.0-b",
    ],
  };

  for (const [name, chain] of Object.entries(chains)) {
    test(name, () => {
      for (let i = 0; i < chain.length; i++) {
        for (let j = 0; j < chain.length; j++) {
          const a = parse(chain[i]!);
          const b = parse(chain[j]!);
          expect(Math.sign(compareSemVer(a, b))).toBe(Math.sign(i - j));
          expect(Math.sign(ordinal(versionSortKey(a), versionSortKey(b)))).toBe(Math.sign(i - j));
        }
      }
    });
  }

  test("build metadata is ignored: same precedence, same identity, same sort key", () => {
    const a = parse("1.0.0-rc.1+build.5");
    const b = parse("1.0.0-rc.1+other");
    expect(compareSemVer(a, b)).toBe(0);
    expect(versionKey(a)).toBe("1.0.0-rc.1");
    expect(versionKey(a)).toBe(versionKey(b));
    expect(versionSortKey(a)).toBe(versionSortKey(b));
  });
});

// Byte order of the sort key, as PostgreSQL orders it under COLLATE "C".
function ordinal(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// A small deterministic PRNG so a failure reproduces.
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("versionSortKey", () => {
  test("byte order equals compareSemVer on 20,000 random pairs", () => {
    const random = mulberry32(20251125);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const numbers = ["0", "1", "10", "1000000000000000000000"];
    const ids = [
      "0",
      "1",
      "2",
      "10",
      "11",
      "a",
      "b",
      "A",
      "Z",
      "z",
      "-",
      "--",
      "a-b",
      "ab",
      "1a",
      "alpha",
      "beta",
      "rc",
    ];
    const randomVersion = (): string => {
      let text = `${pick(numbers)}.${pick(numbers)}.${pick(numbers)}`;
      const count = Math.floor(random() * 4);
      if (count > 0) text += `-${Array.from({ length: count }, () => pick(ids)).join(".")}`;
      if (random() < 0.2) text += `+${pick(["b1", "build.5", "001"])}`;
      return text;
    };
    const outcomes = { "-1": 0, "0": 0, "1": 0 };
    for (let i = 0; i < 20_000; i++) {
      const a = parse(randomVersion());
      // Now and then the same version with other build metadata, so ties are tested too.
      const b = parse(random() < 0.1 ? `${versionKey(a)}+other` : randomVersion());
      const expected = Math.sign(compareSemVer(a, b)) as -1 | 0 | 1;
      outcomes[expected]++;
      expect(Math.sign(compareSemVer(b, a))).toBe(expected === 0 ? 0 : -expected);
      expect(Math.sign(ordinal(versionSortKey(a), versionSortKey(b)))).toBe(expected);
      expect(versionKey(a) === versionKey(b)).toBe(expected === 0);
    }
    expect(Math.min(...Object.values(outcomes))).toBeGreaterThan(100);
  });

  test("sorting by key gives the precedence order", () => {
    const versions = [
      "1.0.0",
      "1.0.0-rc.1",
      "0.9.0",
      "1.0.0-alpha.10",
      "1.0.0-alpha.2",
      "1.0.0-alpha",
      "10.0.0",
    ];
    const byKey = [...versions].sort((a, b) => ordinal(versionSortKey(parse(a)), versionSortKey(parse(b))));
    expect(byKey).toEqual([
      "0.9.0",
      "1.0.0-alpha",
      "1.0.0-alpha.2",
      "1.0.0-alpha.10",
      "1.0.0-rc.1",
      "1.0.0",
      "10.0.0",
    ]);
  });
});

/**
 * The regular-expression engine ajv runs stored `pattern` and
 * `patternProperties` with (its `code.regExp` option), so that no document
 * can make a stored pattern take more than linear time.
 *
 * JavaScript's RegExp backtracks: `^(a+)+$` against forty `a`s and a `!`
 * tries about 2^40 ways to split the `a`s before failing, which would hold
 * the server's only thread for hours. RE2 (here its pure-JavaScript port,
 * re2js) runs an automaton instead and matches in time linear in the input,
 * whatever the pattern. It gets there by leaving out the two features that
 * need backtracking, backreferences and lookaround; a pattern using them is
 * refused when the schema is compiled (`RefusedPatternError`), naming the
 * pattern, rather than run unsafely.
 *
 * The native engine is kept for the patterns where backtracking provably
 * costs linear time, because re2js is 10 to 30 times slower per match (about
 * 0.3 to 0.8 µs against 0.03 µs for a short identifier). `linearWhenBacktracking`
 * admits only patterns without groups and alternation ("flat": a sequence of
 * one-character atoms and assertions), and among them:
 *
 * - those with no quantifier offering a choice (exact `{n}` offers none):
 *   every start position is tried in one deterministic pass, so the work is
 *   O(input × pattern, repetition counts included);
 * - those anchored by a leading `^` with exactly one such quantifier: only
 *   the first position can match, and backtracking can only revisit that one
 *   quantifier's choices, each followed by a deterministic rest: again
 *   O(input × pattern).
 *
 * That covers the usual shapes of LLM-facing schemas (`^call_[A-Za-z0-9]+$`,
 * `^[a-zA-Z0-9_-]{1,64}$`, `^\d{4}-\d{2}-\d{2}$`); anything else
 * (`^\+?[1-9]\d{1,14}$`, groups, alternation, unanchored quantifiers) goes to
 * RE2.
 *
 * Patterns valid only without the u flag, which the registry accepts on
 * register (`^[\w-.]+$`), are first rewritten into the u syntax with the same
 * meaning (`toUnicodeSyntax`), so their schemas stay usable.
 *
 * Patterns sent to RE2 are translated so that they mean what they mean in
 * JavaScript's `u` mode, which JSON Schema specifies: `\s`, `\S` and `.` are
 * spelled out with JavaScript's whitespace and line-terminator sets (RE2's
 * are ASCII-only), Unicode property names are mapped to RE2's, escapes are
 * rewritten in RE2's `\x{...}` form. Known remaining differences: RE2 caps
 * repetition counts at 1,000 (a larger count is refused), supports fewer
 * Unicode properties (binary properties such as `\p{Alphabetic}` are
 * refused), and its Unicode tables may be of a different version than the
 * runtime's.
 */
import type { RegExpEngine, RegExpLike } from "ajv/dist/types/index.js";
import { RE2JS } from "re2js";

/** A pattern the schema cannot be compiled with, and why (a phrase that follows the pattern). */
export class RefusedPatternError extends Error {
  override readonly name = "RefusedPatternError";

  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`pattern ${JSON.stringify(pattern)} ${reason}`);
  }
}

/** A pattern matched by RE2, shaped as ajv expects a RegExp (`test`, and `toString` as its cache key). */
class LinearRegExp implements RegExpLike {
  constructor(
    private readonly source: string,
    private readonly flags: string,
    private readonly re2: RE2JS,
  ) {}

  test(text: string): boolean {
    return this.re2.test(text);
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

// ajv calls the engine once per use of a pattern, before looking it up, and
// compiling for RE2 takes 0.1 to 1 ms; a bounded cache spares schemas that
// repeat a pattern (and recompiled schemas) that cost. Entries are
// immutable for matching purposes, so sharing them between validators is safe.
const CACHE_SIZE = 512;
const cache = new Map<string, RegExpLike>();

/** Compiles `pattern` with the engine that keeps its matching linear; throws RefusedPatternError. */
export function compileSafePattern(pattern: string, flags = "u"): RegExpLike {
  const key = `${flags}/${pattern}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const compiled = compileUncached(pattern, flags);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** The engine for ajv's `code.regExp` option. */
export const safeRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => compileSafePattern(pattern, flags),
  // Only read when ajv writes standalone code, which this module never asks for.
  { code: "safeRegExp" },
);

function compileUncached(pattern: string, flags: string): RegExpLike {
  // ajv passes "u" (its unicodeRegExp default, which this module keeps).
  if (flags !== "u")
    throw new RefusedPatternError(pattern, `was to be compiled with flags "${flags}", not "u"`);
  // Compiling (not matching) is safe whatever the pattern, and checks the
  // syntax, so the translation may assume it.
  let source = pattern;
  if (syntaxError(pattern, "u") !== undefined) {
    // The registry accepts patterns valid only without the u flag (as most
    // validators other than ajv read them, e.g. `^[\w-.]+$`): rewrite them
    // into the u syntax rather than leave their schemas unusable.
    const reason = syntaxError(pattern, "");
    if (reason !== undefined)
      throw new RefusedPatternError(pattern, `is not a valid regular expression: ${reason}`);
    source = toUnicodeSyntax(pattern);
    if (syntaxError(source, "u") !== undefined) {
      throw new RefusedPatternError(
        pattern,
        "is valid only without the u flag, in a form that cannot be translated",
      );
    }
  }
  const analysis = analyse(source);
  if (analysis.linearWhenBacktracking) return new RegExp(source, "u");
  try {
    return new LinearRegExp(pattern, flags, RE2JS.compile(analysis.re2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RefusedPatternError(pattern, `cannot be run by the linear-time engine (RE2): ${message}`);
  }
}

function syntaxError(pattern: string, flags: string): string | undefined {
  try {
    new RegExp(pattern, flags);
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(
      /^Invalid regular expression: /,
      "",
    );
  }
}

const refuseBackreference = (pattern: string, written: string) =>
  new RefusedPatternError(
    pattern,
    `uses a backreference (${written}), which needs backtracking; the linear-time engine cannot run it`,
  );

const CLASS_ESCAPES = "dDwWsS";
const SYNTAX_CHARACTERS = "^$\\.*+?()[]{}|/";
const QUANTIFIER_BRACES = /^\{\d+(?:,\d*)?\}/;

/**
 * A pattern valid only without the u flag, rewritten with the same meaning in
 * u syntax: identity escapes of ordinary characters (`\_`, `\-`, `\p`) become
 * the characters, `{`, `}` and `]` that are not syntax are escaped, a `-` next
 * to a class escape in a class (`[\w-.]`) is escaped, malformed `\x`, `\u` and
 * `\c` escapes read as Annex B reads them. Octal escapes are refused with
 * backreferences: without u, `\1` is either, depending on the groups.
 * Matching then works on code points rather than UTF-16 units, which only
 * differs for characters outside the Basic Multilingual Plane.
 */
function toUnicodeSyntax(pattern: string): string {
  let out = "";
  let inClass = false;
  let afterClassEscape = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    const wasAfterClassEscape = afterClassEscape;
    afterClassEscape = false;
    if (c === "\\") {
      const d = pattern[i + 1] ?? "";
      if (CLASS_ESCAPES.includes(d)) {
        out += `\\${d}`;
        afterClassEscape = inClass;
      } else if (d >= "1" && d <= "9") throw refuseBackreference(pattern, `\\${d}`);
      else if (d === "0" && /[0-9]/.test(pattern[i + 2] ?? "")) throw refuseBackreference(pattern, "\\0…");
      else if (d === "k") throw refuseBackreference(pattern, "\\k");
      else if (d === "c") {
        if (/[A-Za-z]/.test(pattern[i + 2] ?? "")) {
          out += pattern.slice(i, i + 3);
          i += 3;
          continue;
        }
        out += "\\\\c";
      } else if (d === "x" || d === "u") {
        const digits = d === "x" ? 2 : 4;
        const hexDigits = pattern.slice(i + 2, i + 2 + digits);
        if (hexDigits.length === digits && /^[0-9A-Fa-f]+$/.test(hexDigits)) {
          out += pattern.slice(i, i + 2 + digits);
          i += 2 + digits;
          continue;
        }
        out += d;
      } else if (d === "B" && inClass) out += "B";
      else if ("0bBfnrtv".includes(d) || SYNTAX_CHARACTERS.includes(d)) out += `\\${d}`;
      else if (d === "-") out += inClass ? "\\-" : "-";
      else {
        const cp = pattern.codePointAt(i + 1)!;
        out += String.fromCodePoint(cp);
        i += 1 + (cp > 0xffff ? 2 : 1);
        continue;
      }
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      if (c === "-") {
        const next = pattern[i + 1] === "\\" && CLASS_ESCAPES.includes(pattern[i + 2] ?? "");
        out += wasAfterClassEscape || next ? "\\-" : "-";
      } else out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (pattern[i + 1] === "^") {
        out += "^";
        i++;
      }
    } else if (c === "{") {
      const quantifier = QUANTIFIER_BRACES.exec(pattern.slice(i, i + 40));
      if (quantifier) {
        out += quantifier[0];
        i += quantifier[0].length;
        continue;
      }
      out += "\\{";
    } else if (c === "}" || c === "]") out += `\\${c}`;
    else out += c;
    i++;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Analysis and translation, in one pass over a pattern already known to be
// valid in JavaScript's `u` mode.

interface Analysis {
  /** The same pattern in RE2's syntax, with JavaScript's meaning. */
  re2: string;
  /** True when JavaScript's backtracking engine provably runs it in linear time (see the header). */
  linearWhenBacktracking: boolean;
}

/** JavaScript's `\s`: WhiteSpace and LineTerminator, as [first, last] code point ranges. */
const WHITESPACE: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const ASCII: ReadonlyArray<readonly [number, number]> = [[0, 0x7f]];
/** JavaScript's `.` without the `s` flag matches anything but these. */
const LINE_TERMINATORS: ReadonlyArray<readonly [number, number]> = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

const hex = (cp: number) => `\\x{${cp.toString(16)}}`;

/** Class contents (no brackets) for a set of ranges. */
function rangesText(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join("");
}

function complement(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

const WHITESPACE_TEXT = rangesText(WHITESPACE);
const NOT_WHITESPACE_TEXT = rangesText(complement(WHITESPACE));
const DOT = `[^${rangesText(LINE_TERMINATORS)}]`;
const ANY_TEXT = "\\x{0}-\\x{10ffff}";

/** General_Category long names (JavaScript accepts both) to the short ones RE2 knows. */
const GENERAL_CATEGORIES: Readonly<Record<string, string>> = {
  Letter: "L",
  Cased_Letter: "LC",
  Uppercase_Letter: "Lu",
  Lowercase_Letter: "Ll",
  Titlecase_Letter: "Lt",
  Modifier_Letter: "Lm",
  Other_Letter: "Lo",
  Mark: "M",
  Combining_Mark: "M",
  Nonspacing_Mark: "Mn",
  Spacing_Mark: "Mc",
  Enclosing_Mark: "Me",
  Number: "N",
  Decimal_Number: "Nd",
  digit: "Nd",
  Letter_Number: "Nl",
  Other_Number: "No",
  Punctuation: "P",
  punct: "P",
  Connector_Punctuation: "Pc",
  Dash_Punctuation: "Pd",
  Open_Punctuation: "Ps",
  Close_Punctuation: "Pe",
  Initial_Punctuation: "Pi",
  Final_Punctuation: "Pf",
  Other_Punctuation: "Po",
  Symbol: "S",
  Math_Symbol: "Sm",
  Currency_Symbol: "Sc",
  Modifier_Symbol: "Sk",
  Other_Symbol: "So",
  Separator: "Z",
  Space_Separator: "Zs",
  Line_Separator: "Zl",
  Paragraph_Separator: "Zp",
  Other: "C",
  Control: "Cc",
  cntrl: "Cc",
  Format: "Cf",
  Surrogate: "Cs",
  Private_Use: "Co",
  Unassigned: "Cn",
};

/**
 * `\p{...}` / `\P{...}` in RE2's terms: class contents usable inside brackets
 * (`inside`) and a complete atom (`atom`).
 */
function property(pattern: string, body: string, negated: boolean): { inside: string; atom: string } {
  let name = body;
  const eq = body.indexOf("=");
  if (eq >= 0) {
    const key = body.slice(0, eq);
    const value = body.slice(eq + 1);
    if (key === "General_Category" || key === "gc" || key === "Script" || key === "sc") name = value;
    else {
      throw new RefusedPatternError(
        pattern,
        `uses the Unicode property \\p{${body}}, which the linear-time engine (RE2) does not support`,
      );
    }
  }
  if (name === "ASCII") {
    const ranges = negated ? complement(ASCII) : ASCII;
    return { inside: rangesText(ranges), atom: `[${rangesText(ranges)}]` };
  }
  const short = GENERAL_CATEGORIES[name] ?? name;
  const text = `\\${negated ? "P" : "p"}{${short}}`;
  return { inside: text, atom: text };
}

/** Reads `\u` escapes (`\uXXXX`, a surrogate pair of them, or `\u{...}`) at `i` (the backslash). */
function unicodeEscape(pattern: string, i: number): { cp: number; length: number } {
  if (pattern[i + 2] === "{") {
    const end = pattern.indexOf("}", i + 3);
    return { cp: Number.parseInt(pattern.slice(i + 3, end), 16), length: end + 1 - i };
  }
  const high = Number.parseInt(pattern.slice(i + 2, i + 6), 16);
  if (high >= 0xd800 && high <= 0xdbff && pattern.startsWith("\\u", i + 6)) {
    const low = Number.parseInt(pattern.slice(i + 8, i + 12), 16);
    if (low >= 0xdc00 && low <= 0xdfff) {
      return { cp: (high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000, length: 12 };
    }
  }
  return { cp: high, length: 6 };
}

interface Escape {
  /** RE2 text outside a class. */
  atom: string;
  /** RE2 text inside a class. */
  inside: string;
  length: number;
  /** A zero-width assertion (`\b`, `\B`) rather than a one-character atom. */
  assertion?: boolean;
}

/** The escape at `i` (a backslash), in both contexts. */
function readEscape(pattern: string, i: number, inClass: boolean): Escape {
  const c = pattern[i + 1]!;
  const same = (text: string, length = 2): Escape => ({ atom: text, inside: text, length });
  switch (c) {
    case "d":
    case "D":
    case "w":
    case "W":
    case "t":
    case "n":
    case "v":
    case "f":
    case "r":
      return same(`\\${c}`);
    case "s":
      return { atom: `[${WHITESPACE_TEXT}]`, inside: WHITESPACE_TEXT, length: 2 };
    case "S":
      return { atom: `[${NOT_WHITESPACE_TEXT}]`, inside: NOT_WHITESPACE_TEXT, length: 2 };
    case "b":
      // In a class `\b` is backspace; outside, a word boundary.
      return inClass ? same(hex(8)) : { ...same("\\b"), assertion: true };
    case "B":
      return { ...same("\\B"), assertion: true };
    case "0":
      return same(hex(0));
    case "c":
      return same(hex(pattern.charCodeAt(i + 2) % 32), 3);
    case "x":
      return same(hex(Number.parseInt(pattern.slice(i + 2, i + 4), 16)), 4);
    case "u": {
      const { cp, length } = unicodeEscape(pattern, i);
      return same(hex(cp), length);
    }
    case "p":
    case "P": {
      const end = pattern.indexOf("}", i + 3);
      const { inside, atom } = property(pattern, pattern.slice(i + 3, end), c === "P");
      return { atom, inside, length: end + 1 - i };
    }
    case "k":
      throw refuseBackreference(pattern, "\\k<...>");
    default:
      if (c >= "1" && c <= "9") throw refuseBackreference(pattern, `\\${c}`);
      // In `u` mode only syntax characters, `/` and (in a class) `-` may be
      // escaped; RE2 takes `\` before any punctuation as the literal.
      return same(c === "/" ? "/" : `\\${c}`);
  }
}

/** The character class starting at `i` (`[`): its RE2 text and length. */
function characterClass(pattern: string, i: number): { text: string; length: number } {
  // `[]` never matches, `[^]` matches anything; RE2 has neither spelling.
  if (pattern.startsWith("[]", i)) return { text: `[^${ANY_TEXT}]`, length: 2 };
  if (pattern.startsWith("[^]", i)) return { text: `[${ANY_TEXT}]`, length: 3 };
  let j = i + 1;
  let text = "[";
  if (pattern[j] === "^") {
    text += "^";
    j++;
  }
  while (pattern[j] !== "]") {
    const c = pattern[j]!;
    if (c === "\\") {
      const e = readEscape(pattern, j, true);
      text += e.inside;
      j += e.length;
    } else {
      // A literal `[` could start a POSIX class (`[:alpha:]`) in RE2.
      const cp = pattern.codePointAt(j)!;
      text += c === "[" ? "\\[" : String.fromCodePoint(cp);
      j += cp > 0xffff ? 2 : 1;
    }
  }
  return { text: `${text}]`, length: j + 1 - i };
}

/** The quantifier starting at `i`, if any: its length and whether it offers a choice. */
function quantifier(pattern: string, i: number): { length: number; choice: boolean } | undefined {
  const c = pattern[i];
  let length: number;
  let choice = true;
  if (c === "*" || c === "+" || c === "?") length = 1;
  else if (c === "{") {
    const end = pattern.indexOf("}", i);
    const [min, max] = pattern.slice(i + 1, end).split(",");
    choice = max !== undefined && max !== min;
    length = end + 1 - i;
  } else return undefined;
  if (pattern[i + length] === "?") length++; // lazy
  return { length, choice };
}

function analyse(pattern: string): Analysis {
  let re2 = "";
  let flat = true;
  let choices = 0;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    const q = quantifier(pattern, i);
    if (q) {
      re2 += pattern.slice(i, i + q.length);
      if (q.choice) choices++;
      i += q.length;
      continue;
    }
    if (c === "\\") {
      const e = readEscape(pattern, i, false);
      re2 += e.atom;
      i += e.length;
    } else if (c === "[") {
      const cls = characterClass(pattern, i);
      re2 += cls.text;
      i += cls.length;
    } else if (c === "(") {
      flat = false;
      if (pattern.startsWith("(?=", i) || pattern.startsWith("(?!", i)) {
        throw new RefusedPatternError(
          pattern,
          "uses a lookahead ((?= or (?!), which the linear-time engine (RE2) does not support",
        );
      }
      if (pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i)) {
        throw new RefusedPatternError(
          pattern,
          "uses a lookbehind ((?<= or (?<!), which the linear-time engine (RE2) does not support",
        );
      }
      if (pattern.startsWith("(?<", i)) {
        re2 += "(?P<";
        i += 3;
      } else if (pattern.startsWith("(?:", i)) {
        re2 += "(?:";
        i += 3;
      } else {
        re2 += "(";
        i++;
      }
    } else if (c === "|") {
      flat = false;
      re2 += c;
      i++;
    } else if (c === ".") {
      re2 += DOT;
      i++;
    } else {
      // Literals, `)`, `^`, `$`: the same in both syntaxes.
      const cp = pattern.codePointAt(i)!;
      re2 += String.fromCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  const anchored = pattern.startsWith("^");
  return { re2, linearWhenBacktracking: flat && (choices === 0 || (choices === 1 && anchored)) };
}

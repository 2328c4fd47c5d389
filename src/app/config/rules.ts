/**
 * The building blocks of the configuration schema: the value rules a setting
 * is checked by, and the two declarations that sit beside a setting (its
 * environment variable) or around a section (its camelCase output).
 *
 * Environment variables arrive as strings, TOML values with their own types:
 * each rule accepts both and yields the typed value, so a value is checked by
 * the same rule wherever it came from.
 */
import * as v from "valibot";

export const KIB = 1024;
export const MIB = 1024 * KIB;

export function integer(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\s*[+-]?\d+\s*$/), v.transform(Number))], message),
    v.integer(message),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

export const boolean = v.union(
  [
    v.boolean(),
    v.pipe(
      v.string(),
      v.transform((text) => text.trim().toLowerCase()),
      v.picklist([...TRUE_WORDS, ...FALSE_WORDS]),
      v.transform((word) => TRUE_WORDS.includes(word)),
    ),
  ],
  "expected true or false",
);

export function text(what = "a non-empty string") {
  return v.pipe(v.string(`expected ${what}`), v.trim(), v.minLength(1, `expected ${what}`));
}

export function url(schemes: readonly string[]) {
  const message = `expected a URL starting with ${schemes.map((s) => `${s}//`).join(" or ")}`;
  return v.pipe(
    v.string(message),
    v.trim(),
    v.check((value) => schemes.some((scheme) => value.toLowerCase().startsWith(`${scheme}//`)), message),
  );
}

/** A list: a TOML array of strings, or a comma-separated environment value. */
export function list<T extends v.GenericSchema<string, string>>(item: T) {
  return v.pipe(
    v.union(
      [
        v.array(v.string()),
        v.pipe(
          v.string(),
          v.transform((value) =>
            value
              .split(",")
              .map((part) => part.trim())
              .filter((part) => part.length > 0),
          ),
        ),
      ],
      "expected a list of strings (a TOML array, or comma-separated in the environment)",
    ),
    v.array(item),
  );
}

/**
 * A setting the environment can set as well as the TOML file: the variable is
 * declared on the setting itself, so the list of variables (environment.ts)
 * and the README's table are read off the schema rather than kept beside it.
 */
export function fromEnv<const TSchema extends v.GenericSchema>(variable: string, schema: TSchema) {
  return v.pipe(schema, v.metadata({ env: variable }));
}

/** The environment variable declared on a setting by `fromEnv`, if any. */
export function envVariableOf(schema: v.GenericSchema): string | undefined {
  const { env } = v.getMetadata(schema);
  return typeof env === "string" ? env : undefined;
}

/**
 * A rule between two settings of a section, reported against `blamed`: the
 * one the operator should change. It is checked once both values are valid,
 * and load-config.ts reports it only when no value is bad.
 */
export function relation<TSection extends Record<string, unknown>>(
  blamed: keyof TSection & string,
  other: keyof TSection & string,
  holds: (section: TSection) => boolean,
  message: string | ((section: TSection) => string),
): v.BaseValidation<TSection, TSection, v.BaseIssue<unknown>> {
  const check = v.partialCheck(
    [[blamed], [other]] as never,
    holds as never,
    typeof message === "string" ? message : (issue) => message(issue.input as TSection),
  ) as unknown as v.BaseValidation<TSection, TSection, v.BaseIssue<unknown>>;
  return v.forward(check, [blamed] as never);
}

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** An object with its snake_case keys in camelCase; optional keys stay optional. */
export type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The operator writes snake_case (TOML's custom), the code reads camelCase:
 * one generic renaming at the end of each section's pipe, so the output type
 * is still inferred from the schema. Absent optional keys stay absent.
 */
export function camelKeys<T extends object>(section: T): CamelKeys<T> {
  return Object.fromEntries(
    Object.entries(section).map(([key, value]) => [camelCase(key), value]),
  ) as CamelKeys<T>;
}

/** A section of the TOML file: unknown keys refused, read as camelCase. */
export function section<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(v.strictObject(entries), v.transform(camelKeys));
}

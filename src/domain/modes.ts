/**
 * The registry's modes, as Confluent names them. READWRITE is the default;
 * READONLY and READONLY_OVERRIDE refuse every write but a change of mode;
 * IMPORT accepts only registers that bring their own schema id and version
 * (copying another registry), into subjects that hold nothing yet.
 */
import { RegistryError } from "./errors.ts";

export const MODES = ["READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"] as const;
export type Mode = (typeof MODES)[number];

export const DEFAULT_MODE: Mode = "READWRITE";

export function isMode(value: unknown): value is Mode {
  return typeof value === "string" && (MODES as readonly string[]).includes(value);
}

/** The mode refuses writes other than a change of mode. */
export function isReadOnly(mode: Mode): boolean {
  return mode === "READONLY" || mode === "READONLY_OVERRIDE";
}

/** `read_only`: a write refused because the subject (or the registry) is in a read-only mode. */
export function readOnlyError(subject: string | null, mode: Mode): RegistryError {
  return new RegistryError(
    "read_only",
    subject === null
      ? `the registry is in ${mode} mode: it accepts no writes`
      : `subject ${subject} is in ${mode} mode: it accepts no writes`,
    { resource: "mode", mode, ...(subject === null ? {} : { subject }) },
  );
}

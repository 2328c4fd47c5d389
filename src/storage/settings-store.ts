/**
 * SettingsStore: the evolution settings the registry keeps in the database,
 * one global row and one row per subject that has its own. A setting left
 * unset (undefined) falls back: a subject's to the global one, the global one
 * to the server's configured default. A write given `audit` records an
 * audit entry (the settings before and after) in its own transaction.
 */
import type { WriteContext } from "../domain/audit.ts";
import type { CompatibilityLevel, EvolutionSettings } from "../domain/compatibility/index.ts";
import type { Mode } from "../domain/modes.ts";

export interface SettingsStore {
  /** The global settings; `{}` when none were ever set. */
  getGlobal(): Promise<EvolutionSettings>;
  /** Sets the fields given (an undefined field is left as it is) and answers the stored settings. */
  putGlobal(settings: EvolutionSettings, audit?: WriteContext): Promise<EvolutionSettings>;
  /** Clears the stored global compatibility (the configured default is in force again); answers what it was. */
  clearGlobalCompatibility(audit?: WriteContext): Promise<CompatibilityLevel | null>;
  /** null when the subject has no evolution settings of its own (a mode alone is not one). */
  getSubject(subject: string): Promise<EvolutionSettings | null>;
  /** Sets the fields given (an undefined field is left as it is) and answers the stored settings. */
  putSubject(subject: string, settings: EvolutionSettings, audit?: WriteContext): Promise<EvolutionSettings>;
  /** Removes the subject's own evolution settings (not its mode); answers what they were, null when it had none. */
  deleteSubject(subject: string, audit?: WriteContext): Promise<EvolutionSettings | null>;
  /** Clears the subject's own compatibility alone; answers what it was, null when it had none. */
  clearSubjectCompatibility(subject: string, audit?: WriteContext): Promise<CompatibilityLevel | null>;

  /** The subject's own mode and the global one in one round trip (every write checks them). */
  getModes(subject: string | null): Promise<{ subject: Mode | null; global: Mode | null }>;
  /** The stored global mode; null when none was set (READWRITE). */
  getGlobalMode(): Promise<Mode | null>;
  /** Sets the global mode (null clears it); answers what it was. */
  putGlobalMode(mode: Mode | null, audit?: WriteContext): Promise<Mode | null>;
  /** The subject's own mode; null when it has none. */
  getSubjectMode(subject: string): Promise<Mode | null>;
  /** Sets the subject's mode (null clears it); answers what it was. */
  putSubjectMode(subject: string, mode: Mode | null, audit?: WriteContext): Promise<Mode | null>;
}

/**
 * SettingsStore: the evolution settings the registry keeps in the database,
 * one global row and one row per subject that has its own. A setting left
 * unset (undefined) falls back: a subject's to the global one, the global one
 * to the server's configured default.
 */
import type { EvolutionSettings } from "../domain/compatibility/index.ts";

export interface SettingsStore {
  /** The global settings; `{}` when none were ever set. */
  getGlobal(): Promise<EvolutionSettings>;
  /** Sets the fields given (an undefined field is left as it is) and answers the stored settings. */
  putGlobal(settings: EvolutionSettings): Promise<EvolutionSettings>;
  /** null when the subject has no settings of its own. */
  getSubject(subject: string): Promise<EvolutionSettings | null>;
  /** Sets the fields given (an undefined field is left as it is) and answers the stored settings. */
  putSubject(subject: string, settings: EvolutionSettings): Promise<EvolutionSettings>;
  /** Removes the subject's own settings; answers what they were, null when it had none. */
  deleteSubject(subject: string): Promise<EvolutionSettings | null>;
}

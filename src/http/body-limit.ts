/**
 * The largest request body the app takes, from the limits: its own module, so
 * a composition root can size a server's cap without loading the app (the
 * edge loads the app on its first request that needs it: app.ts says why).
 */
import type { Limits } from "../domain/limits.ts";

/**
 * The content limit twice over (content is measured in canonical form, and
 * the JSON text a client sends may be pretty printed, or a .proto source
 * escaped inside a JSON string), plus the metadata limit, plus 64 KiB for the
 * rest of the envelope.
 */
export function bodyLimitFor(limits: Limits): number {
  return 2 * limits.maxSchemaBytes + limits.maxMetadataBytes + 64 * 1024;
}

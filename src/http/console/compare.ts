/**
 * POST /ui/api/compare: the compatibility violations between two versions the
 * console already holds, in the same words as the API. The API's dry run
 * checks a candidate against the subject's versions at the subject's level;
 * a person comparing two arbitrary versions needs the older one as the only
 * prior version, so this runs the registry's own engine (domain/compatibility)
 * on exactly those two.
 *
 * It reads nothing stored: the browser sends both contents, which it fetched
 * through the API with its key. So it needs no authorization of its own and
 * can show nothing a caller could not already read. Each content is validated
 * as a register would validate it (invalid content answers 422), within the
 * configured content size. References are not resolved here (the browser
 * does not send them); a schema that needs its references to parse answers
 * 422 with the parser's message.
 */
import type { Context } from "hono";
import { z } from "zod";
import { answeredViolations, createCompatibilityEngine } from "../../domain/compatibility/index.ts";
import { prepareContent } from "../../domain/content.ts";
import { RegistryError } from "../../domain/errors.ts";
import type { Limits } from "../../domain/limits.ts";
import { SCHEMA_TYPES } from "../../domain/types.ts";
import type { AppEnv } from "../app-env.ts";

const side = z.object({ version: z.string().min(1).max(256), content: z.unknown() });

const compareBody = z.strictObject({
  schema_type: z.enum(SCHEMA_TYPES),
  level: z.enum(["BACKWARD", "FORWARD", "FULL"]),
  old: side,
  new: side,
});

/** The largest compare body: two contents, each as large as a register may send, and the envelope. */
export function compareBodyLimit(limits: Limits): number {
  return 4 * limits.maxSchemaBytes + 64 * 1024;
}

export function compareHandler(limits: Limits) {
  // No prepared-forms cache: each comparison is of content the caller sent, parsed once per call.
  const engine = createCompatibilityEngine();
  return async (c: Context<AppEnv>) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw RegistryError.invalidRequest("the body must be JSON");
    }
    const parsed = compareBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw RegistryError.invalidRequest(`${issue?.path.join(".") || "body"}: ${issue?.message}`, {
        field: issue?.path.join(".") ?? "",
      });
    }
    const body = parsed.data;
    const [older, newer] = await Promise.all([
      prepareContent(body.schema_type, body.old.content, limits),
      prepareContent(body.schema_type, body.new.content, limits),
    ]);
    await engine.ready();
    const verdict = engine.check(body.schema_type, body.level, { document: { content: newer.value } }, [
      { version: body.old.version, document: { content: older.value } },
    ]);
    return c.json({
      compatible: verdict.compatible,
      level: verdict.level,
      violations: answeredViolations(verdict.violations),
    });
  };
}

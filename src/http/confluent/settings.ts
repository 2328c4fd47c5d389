/**
 * Confluent's settings: the compatibility level (`/config`, `/config/{s}`)
 * and the mode (`/mode`, `/mode/{s}`), global and per subject. Confluent's
 * names are kept: PUT takes and answers `{"compatibility"}`, GET and DELETE
 * answer `{"compatibilityLevel"}`; modes are `{"mode"}` both ways. A subject
 * without its own setting answers 40408 / 40409 unless `?defaultToGlobal=true`.
 */
import { type CompatibilityLevel, isCompatibilityLevel } from "../../domain/compatibility/index.ts";
import { CONFLUENT_MODES, type ConfluentMode } from "../../registry/confluent-registry.ts";
import { writeContext } from "../write-context.ts";
import { ConfluentError } from "./errors.ts";
import { json, readJson } from "./media.ts";
import { flag } from "./params.ts";
import { type ConfluentRoute, subjectParam } from "./route-table.ts";

function field(body: unknown, name: string): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ConfluentError(400, 400, "request body must be a JSON object");
  }
  return (body as Record<string, unknown>)[name];
}

async function readLevel(request: Request): Promise<CompatibilityLevel> {
  const value = field(await readJson(request), "compatibility");
  const level = typeof value === "string" ? value.toUpperCase() : value;
  if (!isCompatibilityLevel(level)) {
    throw new ConfluentError(
      422,
      42203,
      `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`,
    );
  }
  return level;
}

async function readMode(request: Request): Promise<ConfluentMode> {
  const value = field(await readJson(request), "mode");
  const mode = typeof value === "string" ? value.toUpperCase() : value;
  if (!(CONFLUENT_MODES as readonly unknown[]).includes(mode)) {
    throw new ConfluentError(422, 42204, `Invalid mode. Valid values are ${CONFLUENT_MODES.join(", ")}`);
  }
  return mode as ConfluentMode;
}

export const settingsRoutes: ConfluentRoute[] = [
  {
    method: "GET",
    path: "/config",
    handler: async (_c, registry) => json({ compatibilityLevel: await registry.globalCompatibility() }),
  },
  {
    method: "PUT",
    path: "/config",
    handler: async (c, registry) =>
      json({
        compatibility: await registry.setGlobalCompatibility(await readLevel(c.req.raw), writeContext(c)),
      }),
  },
  {
    method: "DELETE",
    path: "/config",
    handler: async (c, registry) =>
      json({ compatibilityLevel: await registry.resetGlobalCompatibility(writeContext(c)) }),
  },
  {
    method: "GET",
    path: "/config/:subject",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const own = await registry.subjectCompatibility(subject);
      if (own !== null) return json({ compatibilityLevel: own });
      if (flag(c, "defaultToGlobal"))
        return json({ compatibilityLevel: await registry.globalCompatibility() });
      throw new ConfluentError(
        404,
        40408,
        `Subject '${subject}' does not have subject-level compatibility configured`,
      );
    },
  },
  {
    method: "PUT",
    path: "/config/:subject",
    handler: async (c, registry) => {
      const level = await readLevel(c.req.raw);
      return json({
        compatibility: await registry.setSubjectCompatibility(subjectParam(c), level, writeContext(c)),
      });
    },
  },
  {
    method: "DELETE",
    path: "/config/:subject",
    handler: async (c, registry) =>
      json({
        compatibilityLevel: await registry.deleteSubjectCompatibility(subjectParam(c), writeContext(c)),
      }),
  },
  {
    method: "GET",
    path: "/mode",
    handler: async (_c, registry) => json({ mode: await registry.globalMode() }),
  },
  {
    method: "PUT",
    path: "/mode",
    handler: async (c, registry) => {
      const mode = await readMode(c.req.raw);
      return json({ mode: await registry.setGlobalMode(mode, { force: flag(c, "force") }, writeContext(c)) });
    },
  },
  {
    method: "DELETE",
    path: "/mode",
    handler: async (c, registry) => json({ mode: await registry.resetGlobalMode(writeContext(c)) }),
  },
  {
    method: "GET",
    path: "/mode/:subject",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const own = await registry.subjectMode(subject);
      if (own !== null) return json({ mode: own });
      if (flag(c, "defaultToGlobal")) return json({ mode: await registry.globalMode() });
      throw new ConfluentError(
        404,
        40409,
        `Subject '${subject}' does not have subject-level mode configured`,
      );
    },
  },
  {
    method: "PUT",
    path: "/mode/:subject",
    handler: async (c, registry) => {
      const mode = await readMode(c.req.raw);
      return json({
        mode: await registry.setSubjectMode(
          subjectParam(c),
          mode,
          { force: flag(c, "force") },
          writeContext(c),
        ),
      });
    },
  },
  {
    method: "DELETE",
    path: "/mode/:subject",
    handler: async (c, registry) =>
      json({ mode: await registry.deleteSubjectMode(subjectParam(c), writeContext(c)) }),
  },
];

/**
 * Confluent's compatibility check: a candidate against one version (`latest`
 * or a number) or, without a version, against what the subject's level
 * compares with. The verdict is the answer, 200 either way:
 * `{"is_compatible": false}`, and with `?verbose=true` the reasons in
 * `messages` too. Nothing is written.
 */
import { json, readJson } from "./media.ts";
import { flag, parseVersion } from "./params.ts";
import { readCandidate } from "./representation.ts";
import { type ConfluentHandler, type ConfluentRoute, subjectParam } from "./route-table.ts";

function check(against: (version: string | undefined) => number | "latest" | "all"): ConfluentHandler {
  return async (c, registry) => {
    const target = against(c.req.param("version"));
    const candidate = readCandidate(await readJson(c.req.raw), { allowIdentity: false });
    const verdict = await registry.checkCompatibility(subjectParam(c), target, candidate, {
      normalize: flag(c, "normalize"),
    });
    return json(
      flag(c, "verbose")
        ? { is_compatible: verdict.compatible, messages: verdict.messages }
        : { is_compatible: verdict.compatible },
    );
  };
}

export const compatibilityRoutes: ConfluentRoute[] = [
  {
    method: "POST",
    path: "/compatibility/subjects/:subject/versions/:version",
    handler: check((version) => parseVersion(version ?? "")),
  },
  { method: "POST", path: "/compatibility/subjects/:subject/versions", handler: check(() => "all") },
];

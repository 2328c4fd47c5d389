/**
 * Who may call what: the one table of every operation of both APIs (the
 * native `/api/v1` and Confluent's at the root) with the role it needs and
 * how its subject is found. The authentication middleware (middleware.ts)
 * and the fast path (../schema-fast-path.ts) read it; nothing else decides.
 * A route missing from the table is still served to any known caller but
 * test/http/auth-permissions.test.ts fails, so a new route cannot be
 * forgotten: add its line here.
 *
 * Roles include the ones below them (reader ⊂ writer ⊂ admin):
 * - reader: reads, lists, search, data validation, compatibility dry runs;
 * - writer: also registers and state changes (and direct uploads);
 * - admin: also deletes, settings, modes and API keys.
 *
 * `scope` says how a caller limited to subject prefixes is held to them:
 * - `subject`: the `:subject` of the path must start with one of them;
 * - `schema`: the native schema `:id` (UUID or global_id) must lie under one
 *   (looked up before the handler runs, so no write happens outside);
 * - `content-id`, `guid`: a Confluent schema id or guid must be held by at
 *   least one subject under them;
 * - `body`: the subject is in the request body; the handler checks it
 *   (`requireSubject` of scope.ts) before anything is written;
 * - `filtered`: a list or search; the handler leaves out what lies outside;
 * - `registry`: about the whole registry (global settings and modes, keys,
 *   statistics): only a caller with no prefixes;
 * - `none`: about no subject (the global settings' values, schema types).
 */
import type { Role } from "../../domain/principal.ts";
import { API_PREFIX } from "../contract.ts";

/** `open`: no credentials needed. `metrics`: open unless METRICS_PUBLIC is false, then any key. */
export type Access = Role | "open" | "metrics";

export type Scope = "subject" | "schema" | "content-id" | "guid" | "body" | "filtered" | "registry" | "none";

export type Api = "native" | "confluent";

export interface Permission {
  readonly access: Access;
  readonly scope: Scope;
  readonly api: Api;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** `METHOD path` in Hono's syntax (`:param`), as the route is registered. */
type Operation = `${Method} /${string}`;

const native = (access: Access, scope: Scope): Permission => ({ access, scope, api: "native" });
const confluent = (access: Access, scope: Scope): Permission => ({ access, scope, api: "confluent" });

const A = API_PREFIX;

/** The native API, the operational routes and the documents. */
export const NATIVE_PERMISSIONS: Readonly<Record<Operation, Permission>> = {
  [`POST ${A}/schemas`]: native("writer", "body"),
  [`POST ${A}/uploads`]: native("writer", "none"),
  [`GET ${A}/schemas/:id`]: native("reader", "schema"),
  [`GET ${A}/schemas/:id/content`]: native("reader", "schema"),
  [`GET ${A}/schemas/:id/history`]: native("reader", "schema"),
  [`POST ${A}/schemas/:id/validate`]: native("reader", "schema"),
  [`PATCH ${A}/schemas/:id/state`]: native("writer", "schema"),
  [`DELETE ${A}/schemas/:id`]: native("admin", "schema"),
  [`GET ${A}/subjects`]: native("reader", "filtered"),
  [`GET ${A}/subjects/:subject/versions`]: native("reader", "subject"),
  [`GET ${A}/subjects/:subject/versions/latest`]: native("reader", "subject"),
  [`GET ${A}/subjects/:subject/versions/:version`]: native("reader", "subject"),
  [`POST ${A}/subjects/:subject/versions/:version/validate`]: native("reader", "subject"),
  [`POST ${A}/subjects/:subject/compatibility`]: native("reader", "subject"),
  [`GET ${A}/subjects/:subject/config`]: native("reader", "subject"),
  [`PUT ${A}/subjects/:subject/config`]: native("admin", "subject"),
  [`DELETE ${A}/subjects/:subject/config`]: native("admin", "subject"),
  [`GET ${A}/config`]: native("reader", "none"),
  [`PUT ${A}/config`]: native("admin", "registry"),
  [`GET ${A}/search`]: native("reader", "filtered"),
  [`GET ${A}/stats`]: native("reader", "registry"),
  [`GET ${A}/whoami`]: native("reader", "none"),
  [`GET ${A}/audit`]: native("admin", "registry"),
  [`POST ${A}/keys`]: native("admin", "registry"),
  [`GET ${A}/keys`]: native("admin", "registry"),
  [`DELETE ${A}/keys/:id`]: native("admin", "registry"),
  "GET /health": native("open", "none"),
  "GET /health/live": native("open", "none"),
  "GET /health/ready": native("open", "none"),
  "GET /metrics": native("metrics", "none"),
  "GET /openapi.json": native("open", "none"),
  "GET /docs": native("open", "none"),
  "GET /docs/assets/api-reference.js": native("open", "none"),
  // The console's pages hold no data (they call the API with the user's key) and are served before this
  // middleware; declared here so the table stays the whole list.
  "GET /ui": native("open", "none"),
  "GET /ui/subjects/:subject": native("open", "none"),
  "GET /ui/check": native("open", "none"),
  "GET /ui/validate": native("open", "none"),
  "GET /ui/assets/:name": native("open", "none"),
  // Runs the compatibility engine on two contents the browser sends; it reads nothing stored, but it
  // costs two parses, so with auth on the console's own check (console-app.tsx) asks any known caller.
  "POST /ui/api/compare": native("reader", "none"),
};

/** Confluent's API (src/http/confluent/); a trailing slash is the same operation. */
export const CONFLUENT_PERMISSIONS: Readonly<Record<Operation, Permission>> = {
  "GET /": confluent("reader", "none"),
  "GET /schemas/types": confluent("reader", "none"),
  "GET /schemas": confluent("reader", "filtered"),
  "GET /schemas/ids/:id": confluent("reader", "content-id"),
  "GET /schemas/ids/:id/schema": confluent("reader", "content-id"),
  "GET /schemas/ids/:id/subjects": confluent("reader", "filtered"),
  "GET /schemas/ids/:id/versions": confluent("reader", "filtered"),
  "GET /schemas/guids/:guid": confluent("reader", "guid"),
  "GET /subjects": confluent("reader", "filtered"),
  "POST /subjects/:subject": confluent("reader", "subject"),
  "DELETE /subjects/:subject": confluent("admin", "subject"),
  "GET /subjects/:subject/versions": confluent("reader", "subject"),
  "POST /subjects/:subject/versions": confluent("writer", "subject"),
  "GET /subjects/:subject/versions/:version": confluent("reader", "subject"),
  "GET /subjects/:subject/versions/:version/schema": confluent("reader", "subject"),
  "GET /subjects/:subject/versions/:version/referencedby": confluent("reader", "subject"),
  "DELETE /subjects/:subject/versions/:version": confluent("admin", "subject"),
  "GET /subjects/:subject/metadata": confluent("reader", "subject"),
  "POST /compatibility/subjects/:subject/versions/:version": confluent("reader", "subject"),
  "POST /compatibility/subjects/:subject/versions": confluent("reader", "subject"),
  "GET /config": confluent("reader", "none"),
  "PUT /config": confluent("admin", "registry"),
  "DELETE /config": confluent("admin", "registry"),
  "GET /config/:subject": confluent("reader", "subject"),
  "PUT /config/:subject": confluent("admin", "subject"),
  "DELETE /config/:subject": confluent("admin", "subject"),
  "GET /mode": confluent("reader", "none"),
  "PUT /mode": confluent("admin", "registry"),
  "DELETE /mode": confluent("admin", "registry"),
  "GET /mode/:subject": confluent("reader", "subject"),
  "PUT /mode/:subject": confluent("admin", "subject"),
  "DELETE /mode/:subject": confluent("admin", "subject"),
};

/** The first path segments Confluent's API owns: an unknown path under them answers Confluent's errors. */
const CONFLUENT_SEGMENTS = new Set(["schemas", "subjects", "compatibility", "config", "mode"]);

/** A request's operation: its permission and the raw (still percent-encoded) path parameters. */
export interface MatchedOperation {
  readonly key: string;
  readonly permission: Permission;
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledOperation {
  key: string;
  permission: Permission;
  /** A literal segment, or `:name` for a parameter. */
  segments: string[];
}

function segmentsOf(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed === "/" ? [] : trimmed.slice(1).split("/");
}

/** Operations by `METHOD segment-count`, in table order (the first that matches wins, as in the router). */
const INDEX = new Map<string, CompiledOperation[]>();
for (const table of [NATIVE_PERMISSIONS, CONFLUENT_PERMISSIONS]) {
  for (const [key, permission] of Object.entries(table) as [Operation, Permission][]) {
    const space = key.indexOf(" ");
    const segments = segmentsOf(key.slice(space + 1));
    const bucket = `${key.slice(0, space)} ${segments.length}`;
    const list = INDEX.get(bucket) ?? [];
    list.push({ key, permission, segments });
    INDEX.set(bucket, list);
  }
}

/** The operation `method path` is, or null when no route of either API serves it (a 404 or 405 to come). */
export function operationOf(method: string, path: string): MatchedOperation | null {
  const segments = segmentsOf(path);
  const candidates = INDEX.get(`${method === "HEAD" ? "GET" : method} ${segments.length}`);
  if (!candidates) return null;
  for (const candidate of candidates) {
    let params: Record<string, string> | null = null;
    let matched = true;
    for (let i = 0; i < segments.length; i++) {
      const expected = candidate.segments[i]!;
      const actual = segments[i]!;
      if (expected.startsWith(":")) {
        if (actual === "") {
          matched = false;
          break;
        }
        params ??= {};
        params[expected.slice(1)] = actual;
      } else if (expected !== actual) {
        matched = false;
        break;
      }
    }
    if (matched) return { key: candidate.key, permission: candidate.permission, params: params ?? {} };
  }
  return null;
}

/** Which API answers a path no operation matched: Confluent's under its prefixes, the native one elsewhere. */
export function apiOfPath(path: string): Api {
  const second = path.indexOf("/", 1);
  const first = path.slice(1, second < 0 ? undefined : second);
  return CONFLUENT_SEGMENTS.has(first) ? "confluent" : "native";
}

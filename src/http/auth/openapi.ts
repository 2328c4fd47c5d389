/**
 * The permission table (permissions.ts) written into the OpenAPI document,
 * so a client or the docs page learns how to authenticate and what each
 * operation needs from the contract itself: the two security schemes (an API
 * key or JWT as a Bearer token, a key as HTTP Basic), a `security`
 * requirement on every operation that needs credentials when auth is on
 * (none on the open ones), and on each operation `x-required-role` with a
 * sentence in its description.
 */
import { NATIVE_PERMISSIONS, type Permission } from "./permissions.ts";

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  "x-required-role"?: string;
}

interface Document {
  paths?: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
  security?: Record<string, string[]>[];
}

const SCHEMES = {
  bearer: {
    type: "http",
    scheme: "bearer",
    description: "An API key (`srk_<id>.<secret>`, from POST /api/v1/keys) or, when configured, a JWT.",
  },
  basic: {
    type: "http",
    scheme: "basic",
    description: "An API key as Confluent's clients send it: the key id as user, its secret as password.",
  },
};

const REQUIRED: Record<string, string[]>[] = [{ bearer: [] }, { basic: [] }];

/** `/api/v1/schemas/{id}` → `/api/v1/schemas/:id`, the table's spelling. */
function tablePath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ":$1");
}

function sentence(permission: Permission, metricsPublic: boolean): string {
  if (permission.access === "open") return "Needs no credentials.";
  if (permission.access === "metrics") {
    return metricsPublic ? "Needs no credentials (METRICS_PUBLIC)." : "Needs an API key of any role.";
  }
  const limited =
    permission.scope === "registry" ? " A caller limited to subject prefixes may not call it." : "";
  return `Needs the \`${permission.access}\` role (or higher).${limited}`;
}

/** Writes the schemes and each operation's requirement into `document` (in place) and returns it. */
export function describeSecurity<T>(document: T, options: { required: boolean; metricsPublic: boolean }): T {
  const doc = document as Document;
  doc.components = { ...doc.components, securitySchemes: SCHEMES };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      const permission = NATIVE_PERMISSIONS[`${method.toUpperCase()} ${tablePath(path)}` as never] as
        | Permission
        | undefined;
      if (!permission) continue;
      const open = permission.access === "open" || (permission.access === "metrics" && options.metricsPublic);
      operation["x-required-role"] = open
        ? "none"
        : permission.access === "metrics"
          ? "reader"
          : permission.access;
      const note = sentence(permission, options.metricsPublic);
      operation.description = operation.description ? `${operation.description}\n\n${note}` : note;
      if (options.required) operation.security = open ? [] : REQUIRED;
    }
  }
  return document;
}

/**
 * Every route has a declared permission (src/http/auth/permissions.ts): each
 * operation of the OpenAPI document, each route the app registers, and each
 * Confluent route. A new route without a line in the table fails here, so
 * none can be added and forgotten; the table's lines are checked for a role
 * and a scope a caller with prefixes can be held to.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ROLES } from "../../src/domain/principal.ts";
import { CONFLUENT_PERMISSIONS, NATIVE_PERMISSIONS, operationOf } from "../../src/http/auth/permissions.ts";
import { CONFLUENT_ROUTES } from "../../src/http/confluent/confluent-api.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

/** `/api/v1/schemas/{id}` → `/api/v1/schemas/:id`; Hono's `:subject{.+}` → `:subject`. */
function honoPath(path: string): string {
  return path.replace(/(:[A-Za-z_]+)\{[^}]*\}/g, "$1").replace(/\{([^}]+)\}/g, ":$1");
}

describe("the permission table", () => {
  test("every Confluent route has a line", () => {
    const missing = CONFLUENT_ROUTES.map((route) => `${route.method} ${route.path}`).filter(
      (key) => !(key in CONFLUENT_PERMISSIONS),
    );
    expect(missing).toEqual([]);
  });

  test("every line names a role (or open) and resolves to itself", () => {
    for (const [key, permission] of Object.entries({ ...NATIVE_PERMISSIONS, ...CONFLUENT_PERMISSIONS })) {
      expect([key, [...ROLES, "open", "metrics"].includes(permission.access)]).toEqual([key, true]);
      const [method, path] = key.split(" ") as [string, string];
      const concrete = path.replace(/:[A-Za-z_]+/g, "x1");
      // The table's first match is this line, or one with the same permission (versions/latest and /{version}).
      expect([key, operationOf(method, concrete)?.permission]).toEqual([key, permission]);
    }
  });

  test("writes need writer or admin; deletes, settings, modes and keys need admin", () => {
    for (const [key, permission] of Object.entries({ ...NATIVE_PERMISSIONS, ...CONFLUENT_PERMISSIONS })) {
      const [method, path] = key.split(" ") as [string, string];
      if (method === "DELETE" || (/\/(config|mode|keys|audit)\b/.test(path) && method !== "GET")) {
        expect([key, permission.access]).toEqual([key, "admin"]);
      }
    }
    expect(NATIVE_PERMISSIONS["POST /api/v1/schemas"]?.access).toBe("writer");
    expect(CONFLUENT_PERMISSIONS["POST /subjects/:subject/versions"]?.access).toBe("writer");
    expect(NATIVE_PERMISSIONS["POST /api/v1/subjects/:subject/compatibility"]?.access).toBe("reader");
  });
});

describe.skipIf(!available)("every route of the running app", () => {
  let api: TestRegistry;
  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("every operation of the OpenAPI document has a line", async () => {
    const document = (await api.get("/openapi.json")).body;
    const missing: string[] = [];
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        const key = `${method.toUpperCase()} ${honoPath(path)}`;
        if (!(key in NATIVE_PERMISSIONS)) missing.push(key);
      }
    }
    expect(missing).toEqual([]);
  });

  test("every route the app registers has a line", () => {
    const missing = api.registry.app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => {
        const path = honoPath(route.path);
        const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
        return `${route.method} ${trimmed}`;
      })
      .filter((key) => !(key in NATIVE_PERMISSIONS) && !(key in CONFLUENT_PERMISSIONS));
    expect([...new Set(missing)]).toEqual([]);
  });
});

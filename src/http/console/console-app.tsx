/** @jsxImportSource hono/jsx */
/**
 * The web console at /ui: a Hono sub-app mounted under its own path, so its
 * middleware (security headers) and routes are met only by console requests
 * and the API's requests never pass through any of it.
 *
 * Pages are rendered on the server with hono/jsx and hold no registry data:
 * they render the same for anyone, with auth on or off, and the browser
 * script (assets/console.js) fills them from the API with the key the person
 * gave for this browser session. Rendering data on the server instead would
 * need the key on every navigation, which a browser only sends by itself as a
 * cookie, and a cookie would bring cross-site request forgery to every
 * write; a Bearer header the script adds to its own calls does not.
 *
 * The Content-Security-Policy allows nothing but this origin: no page of the
 * console can reach a third party, even by mistake.
 */
import { Hono } from "hono";
import { sha256Hex } from "../../domain/canonical.ts";
import { RegistryError } from "../../domain/errors.ts";
import type { Limits } from "../../domain/limits.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AppEnv } from "../app-env.ts";
import { type HttpAuth, refusal } from "../auth/middleware.ts";
import { createErrorHandler } from "../error-handler.ts";
import { boundBodyBytes } from "../request-bounds.ts";
import styles from "./assets/console.css" with { type: "text" };
import script from "./assets/console.js" with { type: "text" };
import { compareBodyLimit, compareHandler } from "./compare.ts";
import { CONSOLE_BASE } from "./layout.tsx";
import { CheckPage, NotFoundPage, SubjectPage, SubjectsPage, ValidatePage } from "./pages.tsx";

export { CONSOLE_BASE } from "./layout.tsx";

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

interface Asset {
  body: string;
  type: string;
  etag: Promise<string>;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: sha256Hex(body).then((hex) => `"${hex.slice(0, 32)}"`) };
}

export interface ConsoleDeps {
  limits: Limits;
  logger: Logger;
  /** With authentication on, the compare call needs a key like any API call (it costs a parse of two schemas). */
  auth?: HttpAuth | undefined;
}

export function createConsoleApp(deps: ConsoleDeps): Hono<AppEnv> {
  const ui = new Hono<AppEnv>();
  const assets: Record<string, Asset> = {
    "console.js": asset(script, "text/javascript; charset=utf-8"),
    "console.css": asset(styles, "text/css; charset=utf-8"),
  };

  ui.use("*", async (c, next) => {
    // `/ui/` is the subjects page; no route of its own, so the permission table keeps one line per page.
    if (c.req.path === `${CONSOLE_BASE}/`) return c.redirect(CONSOLE_BASE);
    await next();
    // A path under /ui that no page serves answers a page saying so, in place of the API's JSON 404.
    if (c.req.method === "GET" && c.res.status === 404) c.res = await c.html(<NotFoundPage />, 404);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  ui.get("/", (c) =>
    c.html(
      <SubjectsPage
        query={{
          q: c.req.query("q"),
          schema_type: c.req.query("schema_type"),
          tags: c.req.query("tags"),
          owner: c.req.query("owner"),
          state: c.req.query("state"),
        }}
      />,
    ),
  );
  // A subject may hold `/` (sent as %2F): the parameter takes the rest of the path.
  ui.get("/subjects/:subject{.+}", (c) => c.html(<SubjectPage subject={c.req.param("subject")} />));
  ui.get("/check", (c) => c.html(<CheckPage subject={c.req.query("subject") ?? ""} />));
  ui.get("/validate", (c) => c.html(<ValidatePage subject={c.req.query("subject") ?? ""} />));

  ui.get("/assets/:name", async (c) => {
    const found = assets[c.req.param("name")];
    if (!found) throw new RegistryError("not_found", `no console asset ${c.req.param("name")}`);
    const etag = await found.etag;
    // no-cache with an ETag: a new release's script is picked up at once, an unchanged one costs a 304.
    const headers = { "Content-Type": found.type, "Cache-Control": "no-cache", ETag: etag };
    if (c.req.header("If-None-Match") === etag) return c.body(null, 304, headers);
    return c.body(found.body, 200, headers);
  });

  const maxCompareBytes = compareBodyLimit(deps.limits);
  const authenticator = deps.auth?.authenticator;
  ui.post(
    "/api/compare",
    async (c, next) => {
      // Any known caller may compare (reader and up): it reads nothing stored, but it is not free to run.
      if (authenticator?.required) {
        try {
          await authenticator.authenticate(c.req.header("Authorization"));
        } catch (error) {
          const request = { requestId: c.get("requestId"), method: c.req.method, path: c.req.path };
          return refusal(error, "native", request, deps.logger);
        }
      }
      await next();
    },
    boundBodyBytes(maxCompareBytes),
    compareHandler(deps.limits),
  );

  ui.onError(createErrorHandler(deps.logger));
  return ui;
}

/** Paths the console serves, for anything that must tell console requests from API requests. */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_BASE || path.startsWith(`${CONSOLE_BASE}/`);
}

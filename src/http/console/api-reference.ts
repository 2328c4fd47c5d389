/**
 * /docs: the interactive API reference (Scalar) over /openapi.json, with its
 * script served by the registry itself, so the page works on a network with
 * no way out. The script is the standalone bundle the @scalar/api-reference
 * package ships (the Hono integration alone points at a public CDN). The
 * page's options turn off what would reach elsewhere: the default fonts
 * (fonts.scalar.com), telemetry, the hosted agent and the developer toolbar.
 *
 * The bundle (about 4.8 MB, 1.3 MB gzipped) is read on the first request for
 * it, not at start-up, so a server that never serves /docs never holds it;
 * it is located through module resolution, which Bun and Deno share, and
 * read with fetch (file: URLs), a web-standard call both runtimes answer.
 */
import { Scalar } from "@scalar/hono-api-reference";
import type { Context, Hono } from "hono";
import { sha256HexOfBytes } from "../../domain/canonical.ts";
import { RegistryError } from "../../domain/errors.ts";
import type { AppEnv } from "../app-env.ts";

export const DOCS_PATH = "/docs";
export const DOCS_SCRIPT_PATH = "/docs/assets/api-reference.js";

interface Bundle {
  bytes: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
  etag: string;
}

let bundle: Promise<Bundle> | null = null;

async function loadBundle(): Promise<Bundle> {
  const entry = import.meta.resolve("@scalar/api-reference");
  const response = await fetch(new URL("./browser/standalone.js", entry));
  const bytes = new Uint8Array(await response.arrayBuffer());
  // Bun answers a missing file: URL with an empty 200, so the length is the test.
  if (!response.ok || bytes.length === 0) throw new Error(`no API reference bundle at ${response.url}`);
  const gzipped = new Uint8Array(
    await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  return { bytes, gzipped, etag: `"${(await sha256HexOfBytes(bytes)).slice(0, 32)}"` };
}

async function serveBundle(c: Context<AppEnv>): Promise<Response> {
  bundle ??= loadBundle().catch((error) => {
    bundle = null;
    throw RegistryError.unavailable(
      "the API reference's script is not installed (@scalar/api-reference)",
      error,
    );
  });
  const { bytes, gzipped, etag } = await bundle;
  const headers: Record<string, string> = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=3600",
    ETag: etag,
    Vary: "Accept-Encoding",
  };
  if (c.req.header("If-None-Match") === etag) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(c.req.header("Accept-Encoding") ?? "");
  if (gzip) headers["Content-Encoding"] = "gzip";
  return new Response(gzip ? gzipped : bytes, { status: 200, headers });
}

/** Adds /docs and its script to the app (outside the OpenAPI document). */
export function addApiReference(app: Hono<AppEnv>, options: { openApiUrl: string; title: string }): void {
  app.get(
    DOCS_PATH,
    Scalar({
      url: options.openApiUrl,
      pageTitle: options.title,
      cdn: DOCS_SCRIPT_PATH,
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      // The toolbar and the promotional links lead to Scalar's hosted services; a registry's readers need neither.
      showDeveloperTools: "never",
      customCss: 'a[href*="scalar.com"] { display: none !important; }',
    } as Parameters<typeof Scalar>[0]),
  );
  app.get(DOCS_SCRIPT_PATH, serveBundle);
}

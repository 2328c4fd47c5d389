/**
 * A real browser for the console's tests: Debian's Chromium driven by
 * playwright-core (Playwright's own browser downloads do not work on these
 * machines), headless, in a fresh profile directory that is removed
 * afterwards, with the flags that keep Chromium from reaching out by itself
 * (background networking, component updates, sync), so the only requests it
 * makes are the page's.
 *
 * Every request a page makes is routed through `offline`: anything not for
 * 127.0.0.1 or localhost is refused and recorded, so a test can assert that
 * the console and /docs attempted no third-party request at all.
 *
 * When /usr/bin/chromium is missing, CI (CI=true) fails; elsewhere the suite
 * is skipped with a loud banner (`apt-get install -y chromium`).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const LAPTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Whether Chromium is installed: true, or (off CI) false with a loud warning; in CI a missing browser throws. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `no Chromium at ${CHROMIUM}: install it with apt-get install -y chromium`;
  if (process.env.CI === "true") throw new Error(`${message}; in CI the console's browser tests must run`);
  console.warn(`\n!! ${message}\n!! The console's browser tests are SKIPPED.\n`);
  return false;
}

export interface TestBrowser {
  context: BrowserContext;
  /** Every request the pages attempted to a host other than 127.0.0.1 or localhost (all refused). */
  offHost: string[];
  /** Uncaught errors and console errors of the pages, with the page's URL. */
  pageErrors: string[];
  /** A new tab at the given size, its errors recorded. */
  page(size: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "console-chromium-"));
  // A persistent context is how Playwright takes a user data directory of our own: a fresh, empty one.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: LAPTOP,
  });
  context.setDefaultTimeout(20_000);
  const offHost: string[] = [];
  const pageErrors: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:") return route.continue();
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
    offHost.push(url.href);
    return route.abort("blockedbyclient");
  });
  // Any request that bypasses routing (a service worker, a preload) is still seen here.
  context.on("request", (request) => {
    const url = new URL(request.url());
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return;
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost" && !offHost.includes(url.href)) {
      offHost.push(url.href);
    }
  });
  return {
    context,
    offHost,
    pageErrors,
    async page(size) {
      const page = await context.newPage();
      await page.setViewportSize(size);
      page.on("pageerror", (error) => pageErrors.push(`${page.url()}: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const text = message.text();
        // A refused API call is shown on the page; the browser also logs its status, which is expected.
        if (/Failed to load resource: the server responded with a status of (4\d\d)/.test(text)) return;
        pageErrors.push(`${page.url()}: ${text}`);
      });
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** @jsxImportSource hono/jsx */
/**
 * The frame of every console page, rendered on the server with hono/jsx:
 * navigation, the identity box, the key prompt and the confirmation dialog.
 * It carries no registry data, so it renders the same for anyone; the
 * browser script fills the page from the API with the session's key.
 */

import { raw } from "hono/html";
import type { Child } from "hono/jsx";

export const CONSOLE_BASE = "/ui";

/** The console's own assets, under the console's path so they pass through no API middleware. */
export const ASSETS = {
  script: `${CONSOLE_BASE}/assets/console.js`,
  styles: `${CONSOLE_BASE}/assets/console.css`,
} as const;

export type ConsolePage = "subjects" | "subject" | "check" | "validate";

const NAV: { page: ConsolePage | "docs"; href: string; label: string }[] = [
  { page: "subjects", href: CONSOLE_BASE, label: "Subjects" },
  { page: "check", href: `${CONSOLE_BASE}/check`, label: "Check a change" },
  { page: "validate", href: `${CONSOLE_BASE}/validate`, label: "Validate data" },
  { page: "docs", href: "/docs", label: "API reference" },
];

export function Layout(props: { title: string; page: ConsolePage; children: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · Schema Registry`}</title>
          <link rel="stylesheet" href={ASSETS.styles} />
          <script src={ASSETS.script} defer />
        </head>
        <body>
          <a class="skip" href="#content">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href={CONSOLE_BASE}>
              Schema Registry
            </a>
            <nav aria-label="Console">
              <ul>
                {NAV.map((item) => (
                  <li>
                    <a href={item.href} aria-current={item.page === props.page ? "page" : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <div class="who">
              <span>
                Signed in as{" "}
                <strong id="identity" aria-live="polite">
                  …
                </strong>
              </span>
              <button type="button" id="sign-in">
                Use a key
              </button>
              <button type="button" id="forget-key" hidden>
                Forget key
              </button>
            </div>
          </header>
          {props.children}
          <KeyDialog />
          <ConfirmDialog />
        </body>
      </html>
    </>
  );
}

/** The key prompt: the key is kept in sessionStorage only, so it is gone when the tab closes. */
function KeyDialog() {
  return (
    <dialog id="key-dialog" aria-labelledby="key-title">
      <form id="key-form" class="stack">
        <h2 id="key-title">API key</h2>
        <p id="key-reason" class="hint" />
        <label>
          Key
          <input id="key-input" type="password" autocomplete="off" required />
        </label>
        <p class="hint">
          Kept for this browser tab only (session storage) and sent as Authorization: Bearer on the console's
          calls to the API.
        </p>
        <div class="row">
          <button type="submit" class="primary">
            Use this key
          </button>
          <button type="button" id="key-cancel">
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Asks before a state change or a delete; a delete asks for the version to be typed. */
function ConfirmDialog() {
  return (
    <dialog id="confirm-dialog" aria-labelledby="confirm-title">
      <form method="dialog" class="stack">
        <h2 id="confirm-title">Confirm</h2>
        <p id="confirm-text" />
        <label id="confirm-typed" hidden>
          <span id="confirm-typed-label" />
          <input id="confirm-input" autocomplete="off" />
        </label>
        <div class="row">
          <button type="submit" value="confirm" class="danger" id="confirm-ok">
            Confirm
          </button>
          <button type="submit" value="cancel" id="confirm-cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

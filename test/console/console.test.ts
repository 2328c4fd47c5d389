/**
 * The web console (/ui) and the API reference (/docs) in a real browser:
 * Debian's Chromium driven by playwright-core against a real server (Bun.serve
 * on a free port) on the machine's PostgreSQL. Each flow a person follows is
 * run end to end and checked both on the page and through the API: search and
 * filter, open a subject, diff two versions and read their violations, check a
 * change and register it, validate a document, change a state and delete with
 * confirmation, the key prompt with authentication on, and /docs with every
 * request to another host refused (and none attempted). Pages are looked at
 * at a laptop's and a phone's width; screenshots go to test-artifacts/console/.
 *
 * One browser serves the whole file, so the suite costs seconds, not minutes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type JsonBody, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { chromiumAvailable, LAPTOP, launchBrowser, PHONE, type TestBrowser } from "./browser.ts";

const ARTIFACTS = join(import.meta.dir, "../../test-artifacts/console");
/** A flow takes one to five seconds alone; the whole suite beside it on two cores may take several times that. */
const FLOW_TIMEOUT_MS = 60_000;
const available = (await postgresAvailable()) && chromiumAvailable();

const CHAT = "com.acme.chat.CompletionRequest";
const ORDER = "com.acme.events.OrderPlaced";
const INVOICE = "com.acme.billing.Invoice";
const SCRATCH = "com.acme.scratch.Temporary";
const BULK = 23;
/** Every version registered before the tests: chat 3, order 1, invoice 1, scratch 2, and the bulk ones. */
const SEEDED_VERSIONS = 7 + BULK;

const chatV1 = {
  type: "object",
  properties: { prompt: { type: "string", description: "What the model is asked" } },
  required: ["prompt"],
};
const chatV11 = {
  ...chatV1,
  properties: { ...chatV1.properties, temperature: { type: "number", minimum: 0, maximum: 2 } },
};
const chatV2 = {
  ...chatV11,
  properties: { ...chatV11.properties, user_id: { type: "string" } },
  required: ["prompt", "user_id"],
};
const invoiceProto = `syntax = "proto3";
package acme.billing;

// An invoice sent to a customer.
message Invoice {
  string id = 1;
  int64 amount_cents = 2;
}
`;

interface Served {
  registry: TestRegistry;
  url: string;
  stop(): Promise<void>;
}

/** A registry behind a real Bun.serve on a free port of 127.0.0.1, as a browser reaches it. */
async function serve(env: Record<string, string>): Promise<Served> {
  const registry = await startTestRegistry({ database: "postgres", env });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => registry.registry.fetch(request),
  });
  return {
    registry,
    url: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop(true);
      await registry.close();
    },
  };
}

async function expectStatus(response: Promise<{ status: number; body: JsonBody }>, status: number) {
  const answered = await response;
  if (answered.status !== status)
    throw new Error(`expected ${status}, got ${answered.status} ${JSON.stringify(answered.body)}`);
  return answered.body;
}

const shot = (page: Page, name: string, size: { width: number }) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}-${size.width}.png`), fullPage: true });

describe.skipIf(!available)("the console in Chromium", () => {
  let served: Served;
  let browser: TestBrowser;
  /** The API's words for the break from 1.1.0 to 2.0.0, from the register it refused. */
  let apiViolations: { rule: string; path: string; message: string }[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const [started, launched] = await Promise.all([serve({ AUTH_REQUIRED: "false" }), launchBrowser()]);
    served = started;
    browser = launched;
    const api = served.registry;
    const register = (subject: string, schema_type: string, content: unknown, metadata: object = {}) =>
      expectStatus(api.post("/api/v1/schemas", { subject, schema_type, content, metadata }), 201);

    const chatMetadata = { owner: "platform-team", tags: ["llm", "production"], description: "Chat request" };
    await register(CHAT, "json", chatV1, chatMetadata);
    await register(CHAT, "json", chatV11, chatMetadata);
    const refused = await api.post("/api/v1/schemas", {
      subject: CHAT,
      schema_type: "json",
      content: chatV2,
    });
    expect(refused.status).toBe(409);
    apiViolations = refused.body.error.details.violations;
    expect(apiViolations.length).toBeGreaterThan(0);
    await expectStatus(
      api.request("PUT", `/api/v1/subjects/${CHAT}/config`, { body: { compatibility: "NONE" } }),
      200,
    );
    await register(CHAT, "json", chatV2, chatMetadata);
    await expectStatus(
      api.request("PUT", `/api/v1/subjects/${CHAT}/config`, { body: { compatibility: "BACKWARD" } }),
      200,
    );
    await register(
      ORDER,
      "avro",
      {
        type: "record",
        name: "OrderPlaced",
        namespace: "com.acme.events",
        fields: [{ name: "id", type: "string" }],
      },
      { owner: "orders-team", tags: ["events"] },
    );
    await register(INVOICE, "protobuf", invoiceProto, { owner: "billing-team", tags: ["billing"] });
    await register(SCRATCH, "json", chatV1, { owner: "scratch" });
    await register(SCRATCH, "json", chatV11, { owner: "scratch" });
    for (let n = 0; n < BULK; n++) {
      await register(`com.acme.bulk.Item${String(n).padStart(2, "0")}`, "json", chatV1, { tags: ["bulk"] });
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  afterEach(() => {
    // Whatever the flow, nothing reached for another host and no page failed (emptied, so one failure stays one).
    expect(browser.offHost.splice(0)).toEqual([]);
    expect(browser.pageErrors.splice(0)).toEqual([]);
  });

  /** The rows of the subjects table once each row's latest version has arrived. */
  async function resultRows(page: Page): Promise<string[][]> {
    await page.waitForFunction(() => {
      const status = document.querySelector("#results-status")?.textContent ?? "";
      const cells = [...document.querySelectorAll("#results-body td:nth-child(3)")];
      return status !== "Searching…" && status !== "" && cells.every((cell) => cell.textContent !== "…");
    });
    return page.$$eval("#results-body tr", (rows) =>
      rows.map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent?.trim() ?? "")),
    );
  }

  for (const size of [LAPTOP, PHONE]) {
    test(
      `subjects: search, filter and page through them (${size.width}px)`,
      async () => {
        const page = await browser.page(size);
        await page.goto(`${served.url}/ui`);
        await page.waitForFunction(() =>
          document.querySelector("#identity")?.textContent?.includes("anonymous"),
        );
        expect(await page.locator("#identity").textContent()).toBe(
          "anonymous (authentication is off) · admin",
        );
        let rows = await resultRows(page);
        expect(await page.locator("#results-status").textContent()).toContain(`of ${SEEDED_VERSIONS},`);

        await page.fill("input[name=q]", "completion request");
        await page.press("input[name=q]", "Enter");
        rows = await resultRows(page);
        const chat = rows.find((row) => row[0] === CHAT);
        // Subject, type, latest version, its state, compatibility level, owner, tags, matching versions.
        expect(chat?.slice(0, 6)).toEqual([CHAT, "json", "2.0.0", "active", "BACKWARD", "platform-team"]);
        expect(chat?.[6]).toContain("llm");
        expect(page.url()).toContain("q=completion+request");

        await page.fill("input[name=q]", "");
        await page.selectOption("select[name=schema_type]", "avro");
        await page.click("#search-form button[type=submit]");
        rows = await resultRows(page);
        expect(rows.map((row) => row[0])).toEqual([ORDER]);

        await page.selectOption("select[name=schema_type]", "");
        await page.fill("input[name=owner]", "billing-team");
        await page.click("#search-form button[type=submit]");
        expect((await resultRows(page)).map((row) => row[0])).toEqual([INVOICE]);

        await page.fill("input[name=owner]", "");
        await page.fill("input[name=tags]", "bulk");
        await page.click("#search-form button[type=submit]");
        rows = await resultRows(page);
        expect(rows).toHaveLength(20);
        expect(await page.locator("#results-status").textContent()).toContain(`1–20 of ${BULK}`);
        await shot(page, "subjects", size);
        await page.click("#page-next");
        await page.waitForFunction(() => document.querySelector("#page-number")?.textContent === "Page 2");
        rows = await resultRows(page);
        expect(rows).toHaveLength(BULK - 20);
        expect(page.url()).toContain("page=2");
        // A shared link opens the same page of the same search.
        const link = page.url();
        const again = await browser.page(size);
        await again.goto(link);
        expect(await resultRows(again)).toEqual(rows);
        await again.close();

        await page.fill("input[name=tags]", "");
        await page.selectOption("select[name=state]", "active");
        await page.fill("input[name=q]", "Temporary");
        await page.click("#search-form button[type=submit]");
        expect((await resultRows(page)).map((row) => row[0])).toEqual([SCRATCH]);
        await page.close();
      },
      FLOW_TIMEOUT_MS,
    );

    test(
      `a subject: versions, content, history, diff and violations (${size.width}px)`,
      async () => {
        const page = await browser.page(size);
        await page.goto(`${served.url}/ui?q=${encodeURIComponent(CHAT)}`);
        await resultRows(page);
        await page.click(`#results-body a:text-is("${CHAT}")`);
        await page.waitForURL(`**/ui/subjects/${encodeURIComponent(CHAT)}**`);
        await page.waitForSelector("#versions-body tr");
        const versions = await page.$$eval("#versions-body tr", (rows) =>
          rows.map((row) =>
            [...row.querySelectorAll("th, td")].slice(0, 3).map((cell) => cell.textContent?.trim()),
          ),
        );
        expect(versions).toEqual([
          ["2.0.0", "3", "active"],
          ["1.1.0", "2", "active"],
          ["1.0.0", "1", "active"],
        ]);
        expect(await page.locator("#subject-summary").textContent()).toContain("compatibility BACKWARD");
        // The latest version's content, highlighted: keys and strings as their own tokens.
        await page.waitForSelector("#version-panel pre.source");
        expect(await page.locator("#version-panel .tok-key").first().textContent()).toBe('"type"');
        expect(await page.locator("#version-panel pre.source").textContent()).toContain('"user_id"');
        expect(await page.locator("#version-panel ol.history li").first().textContent()).toContain(
          "registered",
        );
        const facts = await page.$$eval("#version-panel dl.facts dt", (terms) =>
          terms.map((term) => `${term.textContent}: ${term.nextElementSibling?.textContent}`),
        );
        expect(facts).toContain("version: 2.0.0 (integer version 3)");
        expect(facts).toContain("owner: platform-team");
        expect(facts).toContain("tags: llmproduction");
        // Nothing on the page is wider than the window: it reads without scrolling sideways.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          size.width,
        );

        await page.selectOption("#compare-from", "1.1.0");
        await page.selectOption("#compare-to", "2.0.0");
        await page.click("#compare-form button[type=submit]");
        await page.waitForSelector("#compare-verdict");
        const added = await page.$$eval("tr.diff-added", (rows) => rows.map((row) => row.textContent ?? ""));
        expect(added.some((text) => text.includes('"user_id"'))).toBe(true);
        expect(await page.locator("#compare-verdict").textContent()).toContain("Incompatible at BACKWARD");
        const shown = await page.$$eval("#compare-result ul.violations li", (items) =>
          items.map((item) => ({
            rule: item.querySelector("code.rule")?.textContent,
            message: item.querySelector("p")?.textContent,
          })),
        );
        // The same words as the API's refusal of that very change.
        expect(shown).toEqual(apiViolations.map(({ rule, message }) => ({ rule, message })));
        expect(page.url()).toContain("from=1.1.0");
        await shot(page, "subject-diff", size);

        // The other way round, FORWARD: version 1.1.0's readers read what 2.0.0 writes.
        await page.selectOption("#compare-level", "FORWARD");
        await page.click("#compare-form button[type=submit]");
        await page.waitForFunction(() =>
          document
            .querySelector("#compare-verdict")
            ?.textContent?.startsWith("Compatible: no violation at FORWARD"),
        );
        await page.close();
      },
      FLOW_TIMEOUT_MS,
    );
  }

  test(
    "check a change, see its violations, then register a compatible one (and upload a file)",
    async () => {
      const page = await browser.page(LAPTOP);
      await page.goto(`${served.url}/ui/check?subject=${encodeURIComponent(CHAT)}`);
      expect(await page.inputValue("#check-subject")).toBe(CHAT);
      await page.waitForSelector("#register-title", { state: "visible" });
      const breaking = { ...chatV2, properties: { ...chatV2.properties, session_id: { type: "string" } } };
      breaking.required = [...chatV2.required, "session_id"];
      await page.fill("#check-content", JSON.stringify(breaking, null, 2));
      await page.click("#check-form button[type=submit]");
      await page.waitForSelector("#check-verdict");
      expect(await page.locator("#check-verdict").textContent()).toBe(
        "Incompatible at BACKWARD: 1 violation.",
      );
      expect(await page.locator("#check-result code.rule").textContent()).toBe("required_property_added");
      expect(await page.locator("#suggested-version").textContent()).toBe("3.0.0");
      expect(await page.isDisabled("#register-button")).toBe(true);
      await shot(page, "check-incompatible", LAPTOP);

      const compatible = { ...chatV2, properties: { ...chatV2.properties, top_p: { type: "number" } } };
      await page.fill("#check-content", JSON.stringify(compatible, null, 2));
      await page.fill("#check-owner", "platform-team");
      await page.click("#check-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("#check-verdict")?.textContent === "Compatible at BACKWARD.",
      );
      expect(await page.locator("#suggested-version").textContent()).toBe("2.1.0");
      await page.click("#register-button");
      await page.waitForSelector("#register-done");
      expect(await page.locator("#register-done").textContent()).toContain(`Registered ${CHAT} 2.1.0`);
      const stored = await served.registry.get(`/api/v1/subjects/${CHAT}/versions/2.1.0?include=content`);
      expect(stored.status).toBe(200);
      expect(stored.body.content).toEqual(compatible);
      expect(stored.body.metadata.owner).toBe("platform-team");

      // A .proto file picked from disk fills the form and switches the type.
      await page.fill("#check-subject", INVOICE);
      await page.setInputFiles("#check-file", {
        name: "invoice.proto",
        mimeType: "text/plain",
        buffer: Buffer.from(
          invoiceProto.replace("int64 amount_cents = 2;", "int64 amount_cents = 2;\n  string note = 3;"),
        ),
      });
      await page.waitForFunction(() =>
        (document.querySelector("#check-content") as HTMLTextAreaElement).value.includes("note"),
      );
      expect(await page.inputValue("#check-type")).toBe("protobuf");
      await page.click("#check-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("#check-verdict")?.textContent === "Compatible at BACKWARD.",
      );
      expect(await page.locator("#suggested-version").textContent()).toBe("1.1.0");
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  for (const size of [LAPTOP, PHONE]) {
    test(
      `validate a document against a chosen version (${size.width}px)`,
      async () => {
        const page = await browser.page(size);
        await page.goto(`${served.url}/ui/validate?subject=${encodeURIComponent(CHAT)}&version=2.0.0`);
        await page.waitForFunction(
          () => (document.querySelector("#validate-version") as HTMLSelectElement).value === "2.0.0",
        );
        await page.fill("#validate-document", JSON.stringify({ prompt: 5 }));
        await page.click("#validate-form button[type=submit]");
        await page.waitForSelector("#validate-verdict");
        expect(await page.locator("#validate-verdict").textContent()).toBe("Invalid: 2 errors.");
        const errors = await page.$$eval("#validate-result li", (items) =>
          items.map((item) => item.textContent ?? ""),
        );
        expect(errors.some((text) => text.startsWith("/prompt"))).toBe(true);
        expect(errors.some((text) => text.includes("user_id"))).toBe(true);
        await shot(page, "validate", size);

        await page.selectOption("#validate-version", "1.0.0");
        await page.fill("#validate-document", JSON.stringify({ prompt: "hello" }));
        await page.click("#validate-form button[type=submit]");
        await page.waitForFunction(() =>
          document.querySelector("#validate-verdict")?.textContent?.startsWith("Valid against"),
        );
        await page.fill("#validate-document", "{not json");
        await page.click("#validate-form button[type=submit]");
        expect(await page.locator("#validate-error").textContent()).toContain("The document is not JSON");
        await page.close();
      },
      FLOW_TIMEOUT_MS,
    );
  }

  test(
    "operations: a state change and deletes, each confirmed first, by keyboard",
    async () => {
      const page = await browser.page(LAPTOP);
      await page.goto(`${served.url}/ui/subjects/${encodeURIComponent(SCRATCH)}?version=1.0.0`);
      await page.waitForSelector("#state-select:not([disabled])");
      await page.selectOption("#state-select", "deprecated");
      await page.fill("#state-reason", "use 1.1.0");
      await page.focus("#state-submit");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#confirm-dialog[open]");
      expect(await page.locator("#confirm-title").textContent()).toBe(
        `Change ${SCRATCH} 1.0.0 to deprecated?`,
      );
      await shot(page, "confirm-state", LAPTOP);
      await page.click("#confirm-ok");
      await page.waitForFunction(() =>
        document.querySelector("#operations-status")?.textContent?.includes("changed to deprecated"),
      );
      expect(await page.locator("#version-panel ol.history").textContent()).toContain("use 1.1.0");
      expect((await served.registry.get(`/api/v1/subjects/${SCRATCH}/versions/1.0.0`)).body.state).toBe(
        "deprecated",
      );

      // Escape after an earlier Confirm is still no: the state stays.
      await page.selectOption("#state-select", "archived");
      await page.click("#state-submit");
      await page.waitForSelector("#confirm-dialog[open]");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#confirm-dialog[open]", { state: "hidden" });
      await Bun.sleep(100);
      expect((await served.registry.get(`/api/v1/subjects/${SCRATCH}/versions/1.0.0`)).body.state).toBe(
        "deprecated",
      );

      // Cancelled: nothing happens.
      await page.click("#delete-button");
      await page.waitForSelector("#confirm-dialog[open]");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#confirm-dialog[open]", { state: "hidden" });
      expect((await served.registry.get(`/api/v1/subjects/${SCRATCH}/versions/1.0.0`)).status).toBe(200);

      // A delete asks for the version to be typed; Confirm does nothing until it is.
      await page.click("#delete-button");
      await page.waitForSelector("#confirm-dialog[open]");
      await page.click("#confirm-ok");
      expect(await page.locator("#confirm-dialog").getAttribute("open")).toBe("");
      await page.fill("#confirm-input", "1.0.0");
      await page.click("#confirm-ok");
      await page.waitForFunction(
        () => document.querySelector("#operations-status")?.textContent === "Version 1.0.0 deleted.",
      );
      expect((await served.registry.get(`/api/v1/subjects/${SCRATCH}/versions/1.0.0`)).status).toBe(404);
      expect(await page.locator("#versions-body tr.deleted th").textContent()).toBe("1.0.0");

      // The soft-deleted version can then be deleted for good.
      expect(await page.locator("#delete-button").textContent()).toBe("Delete permanently…");
      await page.click("#delete-button");
      await page.fill("#confirm-input", "1.0.0");
      await page.click("#confirm-ok");
      await page.waitForFunction(
        () => document.querySelector("#operations-status")?.textContent === "Version 1.0.0 deleted for good.",
      );
      const left = await served.registry.get(`/api/v1/subjects/${SCRATCH}/versions?include_deleted=true`);
      expect(left.body.items.map((item: { version: string }) => item.version)).toEqual(["1.1.0"]);
      await shot(page, "operations", LAPTOP);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "keyboard: every control of a page is reached with Tab, in order",
    async () => {
      const page = await browser.page(LAPTOP);
      await page.goto(`${served.url}/ui`);
      await resultRows(page);
      const reached: string[] = [];
      for (let n = 0; n < 14; n++) {
        await page.keyboard.press("Tab");
        reached.push(
          await page.evaluate(() => {
            const active = document.activeElement as HTMLElement | null;
            return `${active?.tagName.toLowerCase()}:${active?.getAttribute("name") ?? active?.textContent?.trim() ?? ""}`;
          }),
        );
      }
      expect(reached.slice(0, 5)).toEqual([
        "a:Skip to content",
        "a:Schema Registry",
        "a:Subjects",
        "a:Check a change",
        "a:Validate data",
      ]);
      expect(reached).toContain("input:q");
      expect(reached).toContain("select:schema_type");
      expect(reached).toContain("button:Search");
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  for (const size of [LAPTOP, PHONE]) {
    test(
      `/docs renders the API reference with no request off this host (${size.width}px)`,
      async () => {
        const page = await browser.page(size);
        const requested: string[] = [];
        page.on("request", (request) => requested.push(request.url()));
        await page.goto(`${served.url}/docs`);
        // Scalar renders the document's title and the first tag's operations once it has read /openapi.json.
        await page.getByText("Register a schema").first().waitFor({ state: "attached", timeout: 40_000 });
        await page.getByText("Download OpenAPI Document").first().waitFor({ state: "attached" });
        expect(requested.some((url) => url.endsWith("/docs/assets/api-reference.js"))).toBe(true);
        expect(requested.every((url) => url.startsWith(served.url) || url.startsWith("data:"))).toBe(true);
        await shot(page, "docs", size);
        await page.close();
      },
      FLOW_TIMEOUT_MS,
    );
  }

  test(
    "the console's routes are not in the OpenAPI document, and API responses carry no console headers",
    async () => {
      const document = await served.registry.get("/openapi.json");
      const paths = Object.keys(document.body.paths);
      expect(paths.filter((path) => path.startsWith("/ui") || path.startsWith("/docs"))).toEqual([]);
      expect(paths).toContain("/api/v1/whoami");
      const api = await served.registry.get("/api/v1/config");
      expect(api.headers.get("Content-Security-Policy")).toBeNull();
      const ui = await served.registry.get("/ui");
      expect(ui.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
      expect((await served.registry.get("/ui/")).headers.get("Location")).toBe("/ui");
      const missing = await served.registry.get("/ui/no/such/page");
      expect(missing.status).toBe(404);
      expect(missing.text).toContain("No such page");
    },
    FLOW_TIMEOUT_MS,
  );
});

describe.skipIf(!available)("the console with authentication on", () => {
  let served: Served;
  let browser: TestBrowser;
  const bootstrapKey = `bootstrap-${crypto.randomUUID()}-${crypto.randomUUID()}`;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([
      serve({ AUTH_REQUIRED: "true", AUTH_BOOTSTRAP_ADMIN_KEY: bootstrapKey }),
      launchBrowser(),
    ]);
    served = started;
    browser = launched;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  test(
    "asks for a key, keeps it for the session only, shows who it is and hides what the role may not do",
    async () => {
      const probe = await served.registry.get("/api/v1/whoami");
      if (probe.status === 200) {
        console.warn(
          "!! authentication is not in this tree yet (whoami answers without a key): key prompt test skipped",
        );
        return;
      }
      expect(probe.status).toBe(401);
      const bearer = { Authorization: `Bearer ${bootstrapKey}` };
      const admin = await served.registry.request("POST", "/api/v1/keys", {
        body: { role: "admin" },
        headers: bearer,
      });
      expect(admin.status).toBe(201);
      const adminKey = { Authorization: `Bearer ${admin.body.key}` };
      const reader = await served.registry.request("POST", "/api/v1/keys", {
        body: { role: "reader" },
        headers: adminKey,
      });
      expect(reader.status).toBe(201);
      await expectStatus(
        served.registry.request("POST", "/api/v1/schemas", {
          body: { subject: CHAT, schema_type: "json", content: chatV1 },
          headers: adminKey,
        }),
        201,
      );

      // The compare call costs a parse of two schemas: with auth on it needs a key like any API call.
      const pair = {
        schema_type: "json",
        level: "BACKWARD",
        old: { version: "1.0.0", content: chatV1 },
        new: { version: "2.0.0", content: chatV2 },
      };
      const anonymous = await served.registry.request("POST", "/ui/api/compare", { body: pair });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("WWW-Authenticate")).toContain("Bearer");
      const compared = await served.registry.request("POST", "/ui/api/compare", {
        body: pair,
        headers: { Authorization: `Bearer ${reader.body.key}` },
      });
      expect(compared.status).toBe(200);
      expect(compared.body.compatible).toBe(false);

      const page = await browser.page(PHONE);
      const authorizations: string[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname.startsWith("/api/"))
          authorizations.push(request.headers().authorization ?? "");
      });
      // The page renders for anyone; its data needs the key.
      await page.goto(`${served.url}/ui/subjects/${encodeURIComponent(CHAT)}`);
      await page.waitForSelector("#key-dialog[open]");
      expect(await page.locator("h1").textContent()).toBe(CHAT);
      await shot(page, "key-prompt", PHONE);
      await page.fill("#key-input", reader.body.key);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("#identity")?.textContent?.includes("reader"));
      expect(await page.locator("#identity").textContent()).toBe(`key ${reader.body.id} · reader`);
      await page.waitForSelector("#version-panel pre.source");
      // A reader sees the schema but neither the state change nor the delete.
      expect(await page.locator("#delete-button").isHidden()).toBe(true);
      expect(await page.locator("form[aria-label='Change state']").isHidden()).toBe(true);
      expect(authorizations.at(-1)).toBe(`Bearer ${reader.body.key}`);
      const stored = await page.evaluate(() => ({
        session: Object.values({ ...sessionStorage }) as string[],
        local: localStorage.length,
      }));
      expect(stored.session).toEqual([reader.body.key]);
      expect(stored.local).toBe(0);
      await shot(page, "signed-in-reader", PHONE);

      // Forgetting the key drops it and asks again.
      await page.click("#forget-key");
      await page.waitForSelector("#key-dialog[open]");
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      await page.fill("#key-input", admin.body.key);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("#identity")?.textContent?.includes("admin"));
      await page.waitForSelector("#delete-button", { state: "visible" });
      expect(browser.offHost).toEqual([]);
      expect(browser.pageErrors.filter((text) => !text.includes("401"))).toEqual([]);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );
});

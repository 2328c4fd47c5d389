/**
 * The console's browser script, served by the registry at /ui/assets/console.js
 * as written (no build step). The server renders each page's shell (forms,
 * empty tables, dialogs) and holds no data; this script fills it from the
 * native API with the session's key, so the data a person sees is exactly
 * what the API lets that key read, and the API's own words are shown for
 * every refusal. The key lives in sessionStorage: gone when the tab closes,
 * sent only as `Authorization: Bearer` on the console's own API calls.
 *
 * Every piece of registry data reaches the page through textContent (the
 * `el` builder), never through innerHTML, so a schema or a subject name
 * cannot inject markup.
 */

(() => {
  const KEY_STORAGE = "schema-registry-console.key";
  const API = "/api/v1";
  const PAGE_SIZE = 20;
  const ROLE_ORDER = ["reader", "writer", "admin"];

  /** Who the registry takes the caller for (GET /api/v1/whoami), once known. */
  let identity = null;

  // ---- DOM helpers --------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Number.POSITIVE_INFINITY)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function replace(node, ...children) {
    node.replaceChildren();
    return append(node, children);
  }

  function subjectUrl(subject, query) {
    const search = query ? `?${new URLSearchParams(query)}` : "";
    return `/ui/subjects/${encodeURIComponent(subject)}${search}`;
  }

  const formatTime = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "");

  function badge(state) {
    return el("span", { class: `badge state-${state}` }, state);
  }

  // ---- the API --------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, error) {
      super(error?.message ?? `HTTP ${status}`);
      this.status = status;
      this.code = error?.code ?? `http_${status}`;
      this.details = error?.details ?? {};
    }
  }

  /** One call of the native API with the session's key; JSON in and out. */
  async function api(method, path, body, query) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) headers.Authorization = `Bearer ${key}`;
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const search = query ? `?${new URLSearchParams(query)}` : "";
    const response = await fetch(`${path.startsWith("/ui/") ? "" : API}${path}${search}`, init);
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      if (response.status === 401) openKeyDialog("The registry asks for an API key.");
      throw new ApiError(response.status, json?.error ?? { message: text.slice(0, 200) });
    }
    return json;
  }

  /** An error as the API said it: status, code and message (and the violations, when any). */
  function showError(region, error) {
    if (!region) return;
    region.hidden = false;
    const message =
      error instanceof ApiError
        ? `${error.status} ${error.code}: ${error.message}`
        : `${error?.message ?? error}`;
    replace(region, message);
  }

  function clearError(region) {
    if (!region) return;
    region.hidden = true;
    region.replaceChildren();
  }

  // ---- identity and the key -----------------------------------------------

  function roleAllows(required) {
    return identity !== null && ROLE_ORDER.indexOf(identity.role) >= ROLE_ORDER.indexOf(required);
  }

  /** Shows what the caller's role allows: elements marked data-requires-role stay hidden otherwise. */
  function applyRole() {
    for (const node of $$("[data-requires-role]")) node.hidden = !roleAllows(node.dataset.requiresRole);
  }

  async function loadIdentity() {
    const box = $("#identity");
    try {
      identity = await api("GET", "/whoami");
    } catch (error) {
      identity = null;
      if (box)
        replace(box, error instanceof ApiError && error.status === 401 ? "no key" : "identity unknown");
      applyRole();
      return;
    }
    const who =
      identity.kind === "anonymous" ? "anonymous (authentication is off)" : `${identity.kind} ${identity.id}`;
    const scope = identity.subject_prefixes ? `, subjects ${identity.subject_prefixes.join(", ")}*` : "";
    if (box) replace(box, `${who} · ${identity.role}${scope}`);
    $("#forget-key")?.toggleAttribute("hidden", !sessionStorage.getItem(KEY_STORAGE));
    // With authentication off every caller is the anonymous admin: a key would change nothing.
    $("#sign-in")?.toggleAttribute("hidden", identity.kind === "anonymous" && identity.role === "admin");
    applyRole();
  }

  function openKeyDialog(reason) {
    const dialog = $("#key-dialog");
    if (!dialog || dialog.open) return;
    const note = $("#key-reason");
    if (note) note.textContent = reason ?? "";
    dialog.showModal();
    $("#key-input")?.focus();
  }

  function setUpKeyDialog() {
    const dialog = $("#key-dialog");
    if (!dialog) return;
    $("#key-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = $("#key-input").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      $("#key-input").value = "";
      dialog.close();
      await loadIdentity();
      if (identity) document.dispatchEvent(new CustomEvent("console:identified"));
      else openKeyDialog("The registry did not accept that key.");
    });
    $("#key-cancel").addEventListener("click", () => dialog.close());
    $("#sign-in")?.addEventListener("click", () => openKeyDialog("Paste an API key."));
    $("#forget-key")?.addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      location.reload();
    });
  }

  /** Asks before an operation; resolves true when the person confirmed. */
  function confirmAction(title, text, typed) {
    const dialog = $("#confirm-dialog");
    replace($("#confirm-title"), title);
    replace($("#confirm-text"), text);
    const field = $("#confirm-typed");
    const input = $("#confirm-input");
    field.hidden = !typed;
    input.value = "";
    input.required = Boolean(typed);
    input.pattern = typed ? typed.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : ".*";
    if (typed) replace($("#confirm-typed-label"), `Type ${typed} to confirm`);
    // Escape closes without a value and keeps the last one: clear it, or an earlier Confirm would count.
    dialog.returnValue = "";
    dialog.showModal();
    (typed ? input : $("#confirm-cancel")).focus();
    return new Promise((resolve) => {
      const done = (value) => {
        dialog.removeEventListener("close", onClose);
        resolve(value);
      };
      const onClose = () => done(dialog.returnValue === "confirm" && (!typed || input.value === typed));
      dialog.addEventListener("close", onClose);
    });
  }

  // ---- syntax highlighting ------------------------------------------------

  const JSON_TOKEN =
    /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],])/g;

  const PROTO_KEYWORDS = new Set(
    (
      "syntax edition package import public weak option message enum service rpc returns stream oneof map " +
      "reserved extensions extend to max repeated optional required group true false"
    ).split(" "),
  );
  const PROTO_TYPES = new Set(
    "double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes".split(
      " ",
    ),
  );
  const PROTO_TOKEN =
    /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|\b(\d+)\b|\b([A-Za-z_][\w.]*)\b/g;

  /** One line of source as spans with classes: JSON (keys, strings, numbers, literals) or .proto. */
  function highlightLine(line, type) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    const pattern = type === "protobuf" ? PROTO_TOKEN : JSON_TOKEN;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
      if (match.index > last) fragment.append(line.slice(last, match.index));
      let kind = null;
      if (type === "protobuf") {
        if (match[1]) kind = "comment";
        else if (match[2]) kind = "string";
        else if (match[3]) kind = "number";
        else if (PROTO_KEYWORDS.has(match[4])) kind = "keyword";
        else if (PROTO_TYPES.has(match[4])) kind = "type";
      } else if (match[1]) {
        kind = match[2] ? "key" : "string";
      } else if (match[3]) kind = "number";
      else if (match[4]) kind = "literal";
      else if (match[5]) kind = "punctuation";
      if (type !== "protobuf" && match[1] && match[2]) {
        fragment.append(el("span", { class: "tok-key" }, match[1]), match[2]);
      } else {
        fragment.append(kind ? el("span", { class: `tok-${kind}` }, match[0]) : match[0]);
      }
      last = match.index + match[0].length;
    }
    if (last < line.length) fragment.append(line.slice(last));
    return fragment;
  }

  /** The text a version's content is shown and compared as: JSON as registered (key order kept), or the .proto source. */
  function sourceOf(schema) {
    if (schema.content === undefined) return "(content in the object store; open it through the API)";
    if (typeof schema.content === "string") {
      if (schema.schema_type === "protobuf") return schema.content;
      try {
        return JSON.stringify(JSON.parse(schema.content), null, 2);
      } catch {
        return schema.content;
      }
    }
    return JSON.stringify(schema.content, null, 2);
  }

  function codeBlock(text, type, label) {
    const code = el("code", { class: "code" });
    const lines = text.split("\n");
    lines.forEach((line, index) => {
      code.append(el("span", { class: "line" }, highlightLine(line, type)));
      if (index < lines.length - 1) code.append("\n");
    });
    return el("pre", { class: "source", tabindex: "0", "aria-label": label }, code);
  }

  // ---- diff -------------------------------------------------------------------

  /** Most cells the line diff's table may take; larger pairs are shown side by side without a diff. */
  const MAX_DIFF_CELLS = 4_000_000;

  /**
   * A line diff (longest common subsequence) of two texts: the common head and
   * tail are trimmed first, so a change in a large schema costs little.
   * Returns [{ kind: " " | "-" | "+", text, oldLine, newLine }] or null when too large.
   */
  function diffLines(oldText, newText) {
    const a = oldText.split("\n");
    const b = newText.split("\n");
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (
      tail < a.length - head &&
      tail < b.length - head &&
      a[a.length - 1 - tail] === b[b.length - 1 - tail]
    )
      tail++;
    const n = a.length - head - tail;
    const m = b.length - head - tail;
    if ((n + 1) * (m + 1) > MAX_DIFF_CELLS) return null;
    const width = m + 1;
    const table = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * width + j] =
          a[head + i] === b[head + j]
            ? table[(i + 1) * width + j + 1] + 1
            : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    const out = [];
    for (let k = 0; k < head; k++) out.push({ kind: " ", text: a[k], oldLine: k + 1, newLine: k + 1 });
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[head + i] === b[head + j]) {
        out.push({ kind: " ", text: a[head + i], oldLine: head + i + 1, newLine: head + j + 1 });
        i++;
        j++;
      } else if (i < n && (j === m || table[(i + 1) * width + j] >= table[i * width + j + 1])) {
        // Removals before additions, as diffs read.
        out.push({ kind: "-", text: a[head + i], oldLine: head + i + 1, newLine: null });
        i++;
      } else {
        out.push({ kind: "+", text: b[head + j], oldLine: null, newLine: head + j + 1 });
        j++;
      }
    }
    for (let k = 0; k < tail; k++) {
      const oldLine = a.length - tail + k;
      const newLine = b.length - tail + k;
      out.push({ kind: " ", text: a[oldLine], oldLine: oldLine + 1, newLine: newLine + 1 });
    }
    return out;
  }

  /** Unchanged runs longer than this are folded to their first and last lines. */
  const CONTEXT = 3;

  function diffView(lines, type) {
    const body = el("tbody");
    const changed = lines.map((line) => line.kind !== " ");
    const near = (index) => {
      for (let k = Math.max(0, index - CONTEXT); k <= Math.min(lines.length - 1, index + CONTEXT); k++)
        if (changed[k]) return true;
      return false;
    };
    let folded = 0;
    const flush = () => {
      if (folded > 0) {
        body.append(
          el("tr", { class: "diff-fold" }, el("td", { colspan: "3" }, `… ${folded} unchanged lines …`)),
        );
      }
      folded = 0;
    };
    lines.forEach((line, index) => {
      if (line.kind === " " && !near(index)) {
        folded++;
        return;
      }
      flush();
      const kind = line.kind === "+" ? "added" : line.kind === "-" ? "removed" : "same";
      body.append(
        el(
          "tr",
          { class: `diff-${kind}` },
          el("td", { class: "diff-num" }, line.oldLine ?? ""),
          el("td", { class: "diff-num" }, line.newLine ?? ""),
          el(
            "td",
            { class: "diff-text" },
            el("span", { class: "diff-sign", "aria-label": kind }, line.kind),
            highlightLine(line.text, type),
          ),
        ),
      );
    });
    flush();
    const table = el(
      "table",
      { class: "diff" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "old"),
          el("th", { scope: "col" }, "new"),
          el("th", { scope: "col" }, "line"),
        ),
      ),
      body,
    );
    return el("div", { class: "scroll", role: "region", tabindex: "0", "aria-label": "Differences" }, table);
  }

  function violationsList(violations) {
    return el(
      "ul",
      { class: "violations" },
      violations.map((violation) =>
        el(
          "li",
          {},
          el("code", { class: "rule" }, violation.rule),
          " at ",
          el("code", {}, violation.path),
          violation.version ? ` (against ${violation.version})` : "",
          el("p", {}, violation.message),
        ),
      ),
    );
  }

  // ---- page: subjects ---------------------------------------------------------

  const subjectFacts = new Map();

  /** The latest live version and the compatibility level in force, fetched once per subject. */
  function factsOf(subject) {
    let facts = subjectFacts.get(subject);
    if (!facts) {
      const encoded = encodeURIComponent(subject);
      facts = Promise.all([
        api("GET", `/subjects/${encoded}/versions/latest`).catch((error) =>
          error instanceof ApiError && error.status === 404 ? null : Promise.reject(error),
        ),
        api("GET", `/subjects/${encoded}/config`, undefined, { effective: "true" }).catch(() => null),
      ]).then(([latest, config]) => ({ latest, config }));
      subjectFacts.set(subject, facts);
    }
    return facts;
  }

  async function runSearch() {
    const form = $("#search-form");
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form))
      if (String(value).trim()) params.set(name, String(value).trim());
    const page = Math.max(1, Number(new URLSearchParams(location.search).get("page") ?? "1") || 1);
    const query = Object.fromEntries(params);
    const status = $("#results-status");
    const error = $("#results-error");
    const body = $("#results-body");
    clearError(error);
    replace(status, "Searching…");
    let found;
    try {
      found = await api("GET", "/search", undefined, {
        ...query,
        limit: String(PAGE_SIZE),
        offset: String((page - 1) * PAGE_SIZE),
      });
    } catch (failure) {
      replace(status, "");
      replace(body);
      showError(error, failure);
      return;
    }
    const bySubject = new Map();
    for (const hit of found.items) {
      const entry = bySubject.get(hit.subject) ?? { hit, versions: [] };
      entry.versions.push(hit.version);
      bySubject.set(hit.subject, entry);
    }
    const first = found.total === 0 ? 0 : found.offset + 1;
    const last = found.offset + found.items.length;
    const total = found.total_exact
      ? found.total.toLocaleString("en")
      : `${found.total.toLocaleString("en")}+`;
    replace(
      status,
      found.total === 0
        ? "No schema matches."
        : `Matching versions ${first}–${last} of ${total}, from ${bySubject.size} subject${bySubject.size === 1 ? "" : "s"}.`,
    );
    const rows = [...bySubject.values()].map(({ hit, versions }) => {
      const latestCell = el("td", {}, "…");
      const stateCell = el("td", {}, "…");
      const levelCell = el("td", {}, "…");
      factsOf(hit.subject).then(
        ({ latest, config }) => {
          replace(latestCell, latest ? latest.version : "none live");
          replace(stateCell, latest ? badge(latest.state) : "");
          replace(levelCell, config ? config.compatibility : "?");
        },
        () => replace(latestCell, "?"),
      );
      return el(
        "tr",
        {},
        el("th", { scope: "row" }, el("a", { href: subjectUrl(hit.subject) }, hit.subject)),
        el("td", {}, hit.schema_type),
        latestCell,
        stateCell,
        levelCell,
        el("td", {}, hit.metadata?.owner ?? ""),
        el(
          "td",
          {},
          (hit.metadata?.tags ?? []).map((tag) => el("span", { class: "tag" }, tag)),
        ),
        el("td", { class: "matched" }, versions.join(", ")),
      );
    });
    replace(body, rows);
    const previous = $("#page-previous");
    const next = $("#page-next");
    previous.disabled = page <= 1;
    next.disabled = last >= found.total;
    replace($("#page-number"), `Page ${page}`);
  }

  function setUpSubjectsPage() {
    const form = $("#search-form");
    const go = (page) => {
      const params = new URLSearchParams();
      for (const [name, value] of new FormData(form))
        if (String(value).trim()) params.set(name, String(value).trim());
      if (page > 1) params.set("page", String(page));
      history.replaceState(null, "", `/ui${params.size ? `?${params}` : ""}`);
      return runSearch();
    };
    const currentPage = () => Number(new URLSearchParams(location.search).get("page") ?? "1") || 1;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      go(1);
    });
    $("#page-previous").addEventListener("click", () => go(Math.max(1, currentPage() - 1)));
    $("#page-next").addEventListener("click", () => go(currentPage() + 1));
    document.addEventListener("console:identified", () => runSearch());
    runSearch();
  }

  // ---- page: one subject ------------------------------------------------------

  function setUpSubjectPage(main) {
    const subject = main.dataset.subject;
    const encoded = encodeURIComponent(subject);
    const transitions = JSON.parse(main.dataset.transitions);
    let versions = [];
    let level = null;
    const cache = new Map();

    const fetchVersion = (schema) => {
      let found = cache.get(schema.id);
      if (!found) {
        found = api("GET", `/schemas/${schema.id}`, undefined, {
          include: "content",
          include_deleted: "true",
        });
        cache.set(schema.id, found);
      }
      return found;
    };
    const byVersion = (version) => versions.find((schema) => schema.version === version);
    const setQuery = (changes) => {
      const params = new URLSearchParams(location.search);
      for (const [name, value] of Object.entries(changes)) {
        if (value) params.set(name, value);
        else params.delete(name);
      }
      history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
    };

    async function load() {
      const error = $("#subject-error");
      clearError(error);
      try {
        const [list, config] = await Promise.all([
          api("GET", `/subjects/${encoded}/versions`, undefined, { include_deleted: "true", limit: "1000" }),
          api("GET", `/subjects/${encoded}/config`, undefined, { effective: "true" }),
        ]);
        versions = list.items;
        level = config;
      } catch (failure) {
        showError(error, failure);
        return;
      }
      replace(
        $("#subject-summary"),
        `${versions.length} version${versions.length === 1 ? "" : "s"} · ${versions[0]?.schema_type ?? ""} · compatibility ${level.compatibility} · semver policy ${level.semver_policy}`,
      );
      renderVersions();
      fillSelects();
      const query = new URLSearchParams(location.search);
      const live = versions.find((schema) => schema.deleted_at === null) ?? versions[0];
      await showVersion(query.get("version") ?? live?.version);
      if (versions.length > 1) {
        $("#compare-from").value = query.get("from") ?? versions[1].version;
        $("#compare-to").value = query.get("to") ?? versions[0].version;
        if (query.get("from") || query.get("to")) await compare();
      }
    }

    function renderVersions() {
      replace(
        $("#versions-body"),
        versions.map((schema) =>
          el(
            "tr",
            { class: schema.deleted_at ? "deleted" : "" },
            el(
              "th",
              { scope: "row" },
              el(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-label": `Show version ${schema.version}`,
                  onclick: () => showVersion(schema.version),
                },
                schema.version,
              ),
            ),
            el("td", {}, String(schema.subject_version)),
            el("td", {}, badge(schema.state)),
            el("td", {}, formatTime(schema.created_at)),
            el("td", {}, schema.deleted_at ? `deleted ${formatTime(schema.deleted_at)}` : ""),
          ),
        ),
      );
    }

    function fillSelects() {
      for (const select of [$("#compare-from"), $("#compare-to")]) {
        replace(
          select,
          versions.map((schema) =>
            el(
              "option",
              { value: schema.version },
              `${schema.version} (#${schema.subject_version}, ${schema.state}${schema.deleted_at ? ", deleted" : ""})`,
            ),
          ),
        );
      }
      const levelSelect = $("#compare-level");
      const own = level.compatibility.replace("_TRANSITIVE", "");
      levelSelect.value = own === "NONE" ? "BACKWARD" : own;
    }

    async function showVersion(version) {
      const schema = byVersion(version);
      const panel = $("#version-panel");
      const error = $("#version-error");
      clearError(error);
      if (!schema) {
        replace(panel, versions.length ? `No version ${version}.` : "");
        return;
      }
      setQuery({ version: schema.version });
      let full;
      let history;
      try {
        [full, history] = await Promise.all([
          fetchVersion(schema),
          api("GET", `/schemas/${schema.id}/history`),
        ]);
      } catch (failure) {
        showError(error, failure);
        return;
      }
      const metadata = full.metadata ?? {};
      const facts = [
        ["version", `${full.version} (integer version ${full.subject_version})`],
        ["state", badge(full.state)],
        ["type", full.schema_type],
        ["global id", String(full.global_id)],
        ["content id", String(full.content_id)],
        ["id", full.id],
        ["content hash", full.content_hash],
        ["size", `${full.content_size} bytes`],
        ["created", formatTime(full.created_at)],
        full.deleted_at ? ["deleted", formatTime(full.deleted_at)] : null,
        metadata.owner ? ["owner", metadata.owner] : null,
        metadata.tags?.length
          ? ["tags", metadata.tags.map((tag) => el("span", { class: "tag" }, tag))]
          : null,
        metadata.description ? ["description", metadata.description] : null,
        full.references?.length
          ? ["references", full.references.map((r) => `${r.name} → ${r.subject} #${r.version}`).join("; ")]
          : null,
      ].filter(Boolean);
      replace(
        panel,
        el("h3", { id: "version-heading" }, `Version ${full.version}`),
        el(
          "dl",
          { class: "facts" },
          facts.map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]),
        ),
        el(
          "p",
          { class: "actions" },
          el(
            "a",
            { href: `/ui/validate?${new URLSearchParams({ subject, version: full.version })}` },
            "Validate data against this version",
          ),
        ),
        el("h4", {}, "State history"),
        el(
          "ol",
          { class: "history" },
          history.items.map((item) =>
            el(
              "li",
              {},
              el("time", { datetime: item.changed_at }, formatTime(item.changed_at)),
              " ",
              item.from_state ? [badge(item.from_state), " → "] : "registered ",
              badge(item.to_state),
              item.reason ? `: ${item.reason}` : "",
            ),
          ),
        ),
        el("h4", {}, "Content"),
        codeBlock(sourceOf(full), full.schema_type, `Content of version ${full.version}`),
      );
      renderOperations(full);
    }

    function renderOperations(schema) {
      const box = $("#operations");
      const error = $("#operations-error");
      clearError(error);
      const next = schema.deleted_at ? [] : (transitions[schema.state] ?? []);
      const stateForm = el(
        "form",
        { class: "inline", "data-requires-role": "writer", "aria-label": "Change state" },
        el(
          "label",
          {},
          "New state ",
          el(
            "select",
            { id: "state-select", name: "state", disabled: next.length === 0 },
            next.map((state) => el("option", { value: state }, state)),
          ),
        ),
        el("label", {}, "Reason ", el("input", { id: "state-reason", name: "reason", maxlength: "1000" })),
        el(
          "button",
          { type: "submit", id: "state-submit", disabled: next.length === 0 },
          next.length ? "Change state…" : `No state follows ${schema.state}`,
        ),
      );
      stateForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const state = $("#state-select").value;
        const reason = $("#state-reason").value.trim();
        const ok = await confirmAction(
          `Change ${subject} ${schema.version} to ${state}?`,
          `Version ${schema.version} moves from ${schema.state} to ${state}${reason ? ` (${reason})` : ""}. ${state === "archived" ? "Archived is final." : ""}`,
        );
        if (!ok) return;
        try {
          await api("PATCH", `/schemas/${schema.id}/state`, reason ? { state, reason } : { state });
        } catch (failure) {
          showError(error, failure);
          return;
        }
        await reload(schema.version, `State of ${schema.version} changed to ${state}.`);
      });
      const deleteButton = el(
        "button",
        { type: "button", class: "danger", id: "delete-button", "data-requires-role": "admin" },
        schema.deleted_at ? "Delete permanently…" : "Delete…",
      );
      deleteButton.addEventListener("click", async () => {
        const permanent = schema.deleted_at !== null;
        const ok = await confirmAction(
          permanent
            ? `Delete ${subject} ${schema.version} for good?`
            : `Delete ${subject} ${schema.version}?`,
          permanent
            ? "The version and its history are removed for good; its number stays taken."
            : "The version disappears from every read (it can still be listed with deleted versions); its number stays taken.",
          schema.version,
        );
        if (!ok) return;
        try {
          await api(
            "DELETE",
            `/schemas/${schema.id}`,
            undefined,
            permanent ? { permanent: "true" } : undefined,
          );
        } catch (failure) {
          showError(error, failure);
          return;
        }
        cache.delete(schema.id);
        await reload(
          permanent ? null : schema.version,
          `Version ${schema.version} ${permanent ? "deleted for good" : "deleted"}.`,
        );
      });
      replace(box, stateForm, deleteButton);
      applyRole();
    }

    async function reload(version, message) {
      cache.clear();
      const note = $("#operations-status");
      await load();
      if (version) await showVersion(version);
      replace(note, message);
    }

    async function compare() {
      const from = byVersion($("#compare-from").value);
      const to = byVersion($("#compare-to").value);
      const error = $("#compare-error");
      const out = $("#compare-result");
      clearError(error);
      if (!from || !to) return;
      setQuery({ from: from.version, to: to.version });
      replace(out, "Comparing…");
      let fromFull;
      let toFull;
      try {
        [fromFull, toFull] = await Promise.all([fetchVersion(from), fetchVersion(to)]);
      } catch (failure) {
        replace(out);
        showError(error, failure);
        return;
      }
      // The list is newest first: compatibility reads from the older of the two to the newer, whichever order they were picked in.
      const [older, newer] =
        versions.indexOf(from) < versions.indexOf(to) ? [toFull, fromFull] : [fromFull, toFull];
      const lines = diffLines(sourceOf(fromFull), sourceOf(toFull));
      const chosenLevel = $("#compare-level").value;
      let verdict = null;
      let verdictError = null;
      try {
        verdict = await api("POST", "/ui/api/compare", {
          schema_type: newer.schema_type,
          level: chosenLevel,
          old: { version: older.version, content: older.content },
          new: { version: newer.version, content: newer.content },
        });
      } catch (failure) {
        verdictError = failure;
      }
      const changes = lines ? lines.filter((line) => line.kind !== " ").length : null;
      replace(
        out,
        el("h3", {}, `${from.version} → ${to.version}`),
        lines === null
          ? el("p", {}, "These versions are too large to diff in the browser.")
          : changes === 0
            ? el("p", {}, "The two versions have the same text.")
            : diffView(lines, newer.schema_type),
        el("h3", {}, `Compatibility (${chosenLevel}) of ${newer.version} with ${older.version}`),
        verdictError
          ? el("p", { class: "error", role: "alert" }, `${verdictError.status ?? ""} ${verdictError.message}`)
          : verdict.compatible
            ? el("p", { class: "ok", id: "compare-verdict" }, `Compatible: no violation at ${verdict.level}.`)
            : [
                el(
                  "p",
                  { class: "bad", id: "compare-verdict" },
                  `Incompatible at ${verdict.level}: ${verdict.violations.length} violation${verdict.violations.length === 1 ? "" : "s"}.`,
                ),
                violationsList(verdict.violations),
              ],
      );
    }

    $("#compare-form").addEventListener("submit", (event) => {
      event.preventDefault();
      compare();
    });
    document.addEventListener("console:identified", () => load());
    load();
  }

  // ---- page: check a change ---------------------------------------------------

  function setUpCheckPage() {
    const form = $("#check-form");
    const out = $("#check-result");
    const error = $("#check-error");
    let lastBody = null;

    // What was checked is what a register sends: any edit after the check asks for a new one.
    const stale = () => {
      lastBody = null;
      $("#register-button").disabled = true;
      replace($("#register-note"), "Check the schema first.");
    };
    form.addEventListener("input", stale);

    $("#check-file").addEventListener("change", async (event) => {
      const file = event.target.files?.[0];
      if (!file) return;
      $("#check-content").value = await file.text();
      if (/\.proto$/i.test(file.name)) $("#check-type").value = "protobuf";
      else if (/\.avsc$/i.test(file.name)) $("#check-type").value = "avro";
      else if (/\.json$/i.test(file.name)) $("#check-type").value = "json";
      stale();
    });

    const bodyOfForm = () => {
      const body = {
        schema_type: $("#check-type").value,
        // Sent as text: the API reads it as JSON (json, avro) or .proto source, and says what is wrong with it.
        content: $("#check-content").value,
      };
      const version = $("#check-version").value.trim();
      if (version) body.version = version;
      return body;
    };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError(error);
      const subject = $("#check-subject").value.trim();
      const body = bodyOfForm();
      replace(out, "Checking…");
      let verdict;
      try {
        verdict = await api("POST", `/subjects/${encodeURIComponent(subject)}/compatibility`, body);
      } catch (failure) {
        replace(out);
        showError(error, failure);
        lastBody = null;
        $("#register-button").disabled = true;
        return;
      }
      lastBody = { subject, ...body };
      replace(
        out,
        el(
          "p",
          { class: verdict.compatible ? "ok" : "bad", id: "check-verdict" },
          verdict.compatible
            ? `Compatible at ${verdict.level}.`
            : `Incompatible at ${verdict.level}: ${verdict.violations.length} violation${verdict.violations.length === 1 ? "" : "s"}.`,
        ),
        el(
          "dl",
          { class: "facts" },
          el("dt", {}, "suggested version"),
          el("dd", { id: "suggested-version" }, verdict.suggested_version),
          el("dt", {}, "compared with"),
          el("dd", {}, verdict.checked_versions.length ? verdict.checked_versions.join(", ") : "no version"),
          verdict.existing_version
            ? [el("dt", {}, "already registered"), el("dd", {}, `as ${verdict.existing_version}`)]
            : null,
        ),
        verdict.violations.length ? violationsList(verdict.violations) : null,
      );
      $("#register-button").disabled = !verdict.compatible;
      replace(
        $("#register-note"),
        verdict.compatible
          ? `Registering gives version ${body.version ?? verdict.suggested_version}.`
          : "The registry would refuse this change at the subject's level.",
      );
    });

    $("#register-button").addEventListener("click", async () => {
      if (!lastBody) return;
      clearError(error);
      const body = { ...lastBody, state: $("#check-state").value };
      const metadata = {};
      const description = $("#check-description").value.trim();
      const owner = $("#check-owner").value.trim();
      const tags = $("#check-tags")
        .value.split(",")
        .map((tag) => tag.trim())
        .filter(Boolean);
      if (description) metadata.description = description;
      if (owner) metadata.owner = owner;
      if (tags.length) metadata.tags = tags;
      if (Object.keys(metadata).length) body.metadata = metadata;
      let created;
      try {
        created = await api("POST", "/schemas", body);
      } catch (failure) {
        showError(error, failure);
        return;
      }
      $("#register-button").disabled = true;
      replace(
        $("#register-note"),
        el(
          "span",
          { id: "register-done" },
          `Registered ${created.subject} ${created.version} (global id ${created.global_id}). `,
          el("a", { href: subjectUrl(created.subject, { version: created.version }) }, "Open it"),
        ),
      );
    });
  }

  // ---- page: validate data ----------------------------------------------------

  function setUpValidatePage() {
    const subjectInput = $("#validate-subject");
    const versionSelect = $("#validate-version");
    const error = $("#validate-error");
    const out = $("#validate-result");
    const wanted = new URLSearchParams(location.search).get("version");

    async function loadVersions() {
      const subject = subjectInput.value.trim();
      replace(versionSelect, el("option", { value: "latest" }, "latest"));
      if (!subject) return;
      try {
        const list = await api("GET", `/subjects/${encodeURIComponent(subject)}/versions`, undefined, {
          limit: "1000",
        });
        append(
          versionSelect,
          list.items.map((schema) =>
            el(
              "option",
              { value: schema.version },
              `${schema.version} (#${schema.subject_version}, ${schema.state})`,
            ),
          ),
        );
        if (wanted && list.items.some((schema) => schema.version === wanted)) versionSelect.value = wanted;
        clearError(error);
      } catch (failure) {
        showError(error, failure);
      }
    }

    subjectInput.addEventListener("change", loadVersions);
    document.addEventListener("console:identified", loadVersions);
    loadVersions();

    $("#validate-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError(error);
      let document;
      try {
        document = JSON.parse($("#validate-document").value);
      } catch (failure) {
        replace(out);
        showError(error, `The document is not JSON: ${failure.message}`);
        return;
      }
      // An object whose only key is "documents" would be read as a batch: send it wrapped.
      const isBatchShape =
        document !== null &&
        typeof document === "object" &&
        !Array.isArray(document) &&
        Object.keys(document).length === 1 &&
        Array.isArray(document.documents);
      const body = isBatchShape ? { documents: [document] } : document;
      const subject = subjectInput.value.trim();
      const message = $("#validate-message").value.trim();
      let verdict;
      try {
        verdict = await api(
          "POST",
          `/subjects/${encodeURIComponent(subject)}/versions/${encodeURIComponent(versionSelect.value)}/validate`,
          body,
          message ? { message } : undefined,
        );
      } catch (failure) {
        replace(out);
        showError(error, failure);
        return;
      }
      if (isBatchShape) verdict = verdict.results[0];
      replace(
        out,
        el(
          "p",
          { class: verdict.valid ? "ok" : "bad", id: "validate-verdict" },
          verdict.valid
            ? `Valid against ${subject} ${versionSelect.value}.`
            : `Invalid: ${verdict.errors.length} error${verdict.errors.length === 1 ? "" : "s"}.`,
        ),
        verdict.errors.length
          ? el(
              "ul",
              { class: "violations" },
              verdict.errors.map((item) =>
                el("li", {}, el("code", {}, item.path || "/"), " ", el("span", {}, item.message)),
              ),
            )
          : null,
      );
    });
  }

  // ---- start ----------------------------------------------------------------

  setUpKeyDialog();
  loadIdentity();
  const main = $("main");
  const page = main?.dataset.page;
  if (page === "subjects") setUpSubjectsPage();
  else if (page === "subject") setUpSubjectPage(main);
  else if (page === "check") setUpCheckPage();
  else if (page === "validate") setUpValidatePage();
})();

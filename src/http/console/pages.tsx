/** @jsxImportSource hono/jsx */
/**
 * The console's pages as the server renders them: forms and empty tables
 * whose values come only from the URL (a shared link opens the same search,
 * subject, version or pair of versions), never from the registry's data, so
 * every page renders for anyone; the browser script fills them from the API.
 */

import { ALLOWED_TRANSITIONS } from "../../domain/lifecycle.ts";
import { SCHEMA_STATES, SCHEMA_TYPES } from "../../domain/types.ts";
import { CONSOLE_BASE, Layout } from "./layout.tsx";

const COMPARE_LEVELS = ["BACKWARD", "FORWARD", "FULL"] as const;

/** Where the API's refusals are shown, in its own words. */
function ErrorRegion(props: { id: string }) {
  return <div id={props.id} class="error" role="alert" hidden />;
}

function Option(props: { value: string; selected: boolean; label?: string }) {
  return (
    <option value={props.value} selected={props.selected}>
      {props.label ?? props.value}
    </option>
  );
}

export interface SearchQuery {
  q?: string | undefined;
  schema_type?: string | undefined;
  tags?: string | undefined;
  owner?: string | undefined;
  state?: string | undefined;
}

export function SubjectsPage(props: { query: SearchQuery }) {
  const { query } = props;
  return (
    <Layout title="Subjects" page="subjects">
      <main id="content" data-page="subjects">
        <h1>Subjects</h1>
        <p class="hint">
          Search subjects by their words, tags, description and owner; every filter given must match.
        </p>
        <form id="search-form" class="grid" aria-label="Search schemas">
          <label>
            Search
            <input name="q" type="search" value={query.q ?? ""} placeholder="completion request" />
          </label>
          <label>
            Type
            <select name="schema_type">
              <Option value="" label="any" selected={!query.schema_type} />
              {SCHEMA_TYPES.map((type) => (
                <Option value={type} selected={query.schema_type === type} />
              ))}
            </select>
          </label>
          <label>
            Tags (comma list)
            <input name="tags" value={query.tags ?? ""} placeholder="llm,production" />
          </label>
          <label>
            Owner
            <input name="owner" value={query.owner ?? ""} placeholder="platform-team" />
          </label>
          <label>
            State
            <select name="state">
              <Option value="" label="any" selected={!query.state} />
              {SCHEMA_STATES.map((state) => (
                <Option value={state} selected={query.state === state} />
              ))}
            </select>
          </label>
          <button type="submit" class="primary">
            Search
          </button>
        </form>
        <p id="results-status" aria-live="polite" />
        <ErrorRegion id="results-error" />
        <section class="scroll" tabindex={0} aria-label="Subjects found">
          <table class="results">
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Type</th>
                <th scope="col">Latest</th>
                <th scope="col">State</th>
                <th scope="col">Compatibility</th>
                <th scope="col">Owner</th>
                <th scope="col">Tags</th>
                <th scope="col">Matching versions</th>
              </tr>
            </thead>
            <tbody id="results-body" />
          </table>
        </section>
        <nav class="pager" aria-label="Pages">
          <button type="button" id="page-previous" disabled>
            Previous
          </button>
          <span id="page-number" />
          <button type="button" id="page-next" disabled>
            Next
          </button>
        </nav>
      </main>
    </Layout>
  );
}

export function SubjectPage(props: { subject: string }) {
  const { subject } = props;
  const encoded = encodeURIComponent(subject);
  return (
    <Layout title={subject} page="subjects">
      <main
        id="content"
        data-page="subject"
        data-subject={subject}
        data-transitions={JSON.stringify(ALLOWED_TRANSITIONS)}
      >
        <p class="hint">
          <a href={CONSOLE_BASE}>Subjects</a> /
        </p>
        <h1>{subject}</h1>
        <p id="subject-summary" class="hint" aria-live="polite" />
        <p class="subject-actions">
          <a href={`${CONSOLE_BASE}/check?subject=${encoded}`}>Check a change to this subject</a>
          <a href={`${CONSOLE_BASE}/validate?subject=${encoded}`}>Validate data</a>
        </p>
        <ErrorRegion id="subject-error" />
        <section class="card" aria-labelledby="versions-title">
          <h2 id="versions-title">Versions</h2>
          <section class="scroll" tabindex={0} aria-label="Versions">
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Integer version</th>
                  <th scope="col">State</th>
                  <th scope="col">Registered</th>
                  <th scope="col">Deleted</th>
                </tr>
              </thead>
              <tbody id="versions-body" />
            </table>
          </section>
        </section>
        <section class="card" aria-labelledby="version-heading">
          <ErrorRegion id="version-error" />
          <div id="version-panel" aria-live="polite" />
          <h4>Operations</h4>
          <ErrorRegion id="operations-error" />
          <p id="operations-status" class="hint" aria-live="polite" />
          <div id="operations" class="row" />
          <p class="hint" data-requires-role="reader" hidden>
            State changes need the writer role, deletes the admin role.
          </p>
        </section>
        <section class="card" aria-labelledby="compare-title">
          <h2 id="compare-title">Compare two versions</h2>
          <form id="compare-form" class="inline">
            <label>
              From
              <select id="compare-from" name="from" />
            </label>
            <label>
              To
              <select id="compare-to" name="to" />
            </label>
            <label>
              Compatibility
              <select id="compare-level" name="level">
                {COMPARE_LEVELS.map((level) => (
                  <Option value={level} selected={level === "BACKWARD"} />
                ))}
              </select>
            </label>
            <button type="submit" class="primary">
              Compare
            </button>
          </form>
          <p class="hint">
            The newer of the two is checked against the older with the registry's own rules: BACKWARD means
            consumers on the newer read data written with the older; FORWARD the reverse; FULL both.
          </p>
          <ErrorRegion id="compare-error" />
          <div id="compare-result" aria-live="polite" />
        </section>
      </main>
    </Layout>
  );
}

export function CheckPage(props: { subject: string }) {
  return (
    <Layout title="Check a change" page="check">
      <main id="content" data-page="check">
        <h1>Check a change</h1>
        <p class="hint">
          Paste or upload a schema to see what the registry would decide: the verdict at the subject's
          compatibility level, every violation and the version a register would get. Nothing is written until
          you register.
        </p>
        <form id="check-form" class="stack">
          <div class="two">
            <label>
              Subject
              <input id="check-subject" name="subject" required value={props.subject} />
            </label>
            <label>
              Type
              <select id="check-type" name="schema_type">
                {SCHEMA_TYPES.map((type) => (
                  <Option value={type} selected={type === "json"} />
                ))}
              </select>
            </label>
          </div>
          <label>
            Schema
            <textarea id="check-content" name="content" required spellcheck={false} />
          </label>
          <div class="two">
            <label>
              Or upload a file (.json, .avsc, .proto)
              <input id="check-file" type="file" accept=".json,.avsc,.proto,application/json,text/plain" />
            </label>
            <label>
              Version (optional; derived from the change when empty)
              <input id="check-version" name="version" placeholder="1.3.0" />
            </label>
          </div>
          <div class="row">
            <button type="submit" class="primary">
              Check
            </button>
          </div>
        </form>
        <ErrorRegion id="check-error" />
        <div id="check-result" aria-live="polite" />
        <section class="card" aria-labelledby="register-title" data-requires-role="writer" hidden>
          <h2 id="register-title">Register</h2>
          <div class="grid-fields two">
            <label>
              Initial state
              <select id="check-state">
                <Option value="active" selected />
                <Option value="draft" selected={false} />
              </select>
            </label>
            <label>
              Owner
              <input id="check-owner" />
            </label>
            <label>
              Tags (comma list)
              <input id="check-tags" />
            </label>
            <label>
              Description
              <input id="check-description" />
            </label>
          </div>
          <p class="row">
            <button type="button" id="register-button" class="primary" disabled>
              Register
            </button>
            <span id="register-note" class="hint" aria-live="polite">
              Check the schema first.
            </span>
          </p>
        </section>
      </main>
    </Layout>
  );
}

export function ValidatePage(props: { subject: string }) {
  return (
    <Layout title="Validate data" page="validate">
      <main id="content" data-page="validate">
        <h1>Validate data</h1>
        <p class="hint">
          Paste a JSON document (a model's output, an event) to see whether it is valid against a version of a
          subject, and where it is not.
        </p>
        <form id="validate-form" class="stack">
          <div class="two">
            <label>
              Subject
              <input id="validate-subject" name="subject" required value={props.subject} />
            </label>
            <label>
              Version
              <select id="validate-version" name="version">
                <option value="latest">latest</option>
              </select>
            </label>
          </div>
          <label>
            Protobuf message (optional; the file's first by default)
            <input id="validate-message" name="message" />
          </label>
          <label>
            Document
            <textarea id="validate-document" name="document" required spellcheck={false} />
          </label>
          <div class="row">
            <button type="submit" class="primary">
              Validate
            </button>
          </div>
        </form>
        <ErrorRegion id="validate-error" />
        <div id="validate-result" aria-live="polite" />
      </main>
    </Layout>
  );
}

export function NotFoundPage() {
  return (
    <Layout title="Not found" page="subjects">
      <main id="content" data-page="not-found">
        <h1>No such page</h1>
        <p>
          The console has no page here. <a href={CONSOLE_BASE}>Find a subject</a>.
        </p>
      </main>
    </Layout>
  );
}

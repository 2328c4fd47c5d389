/**
 * The audit log through the real registry on PostgreSQL: every write of both
 * APIs (registers, state changes, soft and permanent deletes of versions and
 * subjects, settings and modes) leaves one entry with its actor, request id
 * and the content hashes before and after; a refused write leaves none, and a
 * write whose entry cannot be written does not happen; GET /api/v1/audit
 * filters and pages; the retention step deletes old entries, on its timer too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import type { WriteContext } from "../../src/domain/audit.ts";
import { AuditPruner } from "../../src/storage/postgres/audit-store.ts";
import { type JsonBody, jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();
const MEDIA = "application/vnd.schemaregistry.v1+json";

describe.skipIf(!available)("audit log", () => {
  let t: TestRegistry;
  let sql: postgres.Sql;

  beforeAll(async () => {
    t = await startTestRegistry({
      database: "postgres",
      env: { AUTH_REQUIRED: "false", CACHE_WARM_ON_STARTUP: "false" },
    });
    sql = postgres(t.registry.database.url, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await t?.close();
  });

  /** Every entry about `subject`, oldest first. */
  async function entriesOf(subject: string): Promise<JsonBody[]> {
    const page = await t.get(`/api/v1/audit?subject=${encodeURIComponent(subject)}&limit=1000`);
    expect(page.status).toBe(200);
    return [...page.body.items].reverse();
  }

  async function register(subject: string, n: number, requestId?: string) {
    const response = await t.request("POST", "/api/v1/schemas", {
      body: { subject, schema_type: "json", content: jsonSchema(n) },
      ...(requestId ? { headers: { "X-Request-Id": requestId } } : {}),
    });
    expect(response.status).toBe(201);
    return response.body;
  }

  test("native writes: register, state change, soft and permanent delete, each with its hashes", async () => {
    const subject = "audit.native.Order";
    const first = await register(subject, 1, "req-audit-1");
    const second = await register(subject, 2);
    // The same content again creates nothing, and records nothing.
    const again = await t.post("/api/v1/schemas", { subject, schema_type: "json", content: jsonSchema(2) });
    expect(again.status).toBe(200);
    const deprecate = await t.request("PATCH", `/api/v1/schemas/${first.id}/state`, {
      body: { state: "deprecated", reason: "superseded" },
    });
    expect(deprecate.status).toBe(200);
    expect((await t.request("DELETE", `/api/v1/schemas/${first.id}`)).status).toBe(204);
    expect((await t.request("DELETE", `/api/v1/schemas/${first.id}?permanent=true`)).status).toBe(204);

    const entries = await entriesOf(subject);
    expect(entries.map((e) => e.operation)).toEqual([
      "schema.register",
      "schema.register",
      "schema.state_change",
      "schema.delete",
      "schema.delete_permanent",
    ]);
    for (const entry of entries) {
      expect(entry.actor).toEqual({ id: "anonymous", kind: "anonymous" });
      expect(entry.subject).toBe(subject);
      expect(Date.parse(entry.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    const [reg1, reg2, state, soft, permanent] = entries;
    expect(reg1).toMatchObject({
      request_id: "req-audit-1",
      version: "1.0.0",
      subject_version: 1,
      schema_id: first.id,
      content_id: first.content_id,
      hash_before: null,
      hash_after: first.content_hash,
    });
    // A register's "before" is the subject's latest live version before it.
    expect(reg2).toMatchObject({
      version: second.version,
      schema_id: second.id,
      hash_before: first.content_hash,
      hash_after: second.content_hash,
    });
    expect(reg2.request_id).toBeString();
    expect(state).toMatchObject({
      schema_id: first.id,
      hash_before: first.content_hash,
      hash_after: first.content_hash,
      details: { from: "active", to: "deprecated", reason: "superseded" },
    });
    expect(soft).toMatchObject({ schema_id: first.id, hash_before: first.content_hash, hash_after: null });
    // The entry outlives the row it is about.
    expect(permanent).toMatchObject({
      schema_id: first.id,
      hash_before: first.content_hash,
      hash_after: null,
    });
    expect((await t.get(`/api/v1/schemas/${first.id}?include_deleted=true`)).status).toBe(404);
  });

  test("native settings: global and subject config, each with the values before and after", async () => {
    const subject = "audit.native.Settings";
    expect(
      (await t.request("PUT", `/api/v1/subjects/${subject}/config`, { body: { compatibility: "FULL" } }))
        .status,
    ).toBe(200);
    expect((await t.request("DELETE", `/api/v1/subjects/${subject}/config`)).status).toBe(200);
    // Nothing to delete: refused, and no entry.
    expect((await t.request("DELETE", `/api/v1/subjects/${subject}/config`)).status).toBe(404);
    const entries = await entriesOf(subject);
    expect(entries.map((e) => [e.operation, e.details])).toEqual([
      ["config.subject", { before: null, after: { compatibility: "FULL", semver_policy: null, mode: null } }],
      [
        "config.subject_delete",
        { before: { compatibility: "FULL", semver_policy: null, mode: null }, after: null },
      ],
    ]);

    const put = await t.request("PUT", "/api/v1/config", { body: { semver_policy: "enforce" } });
    expect(put.status).toBe(200);
    const global = await t.get("/api/v1/audit?operation=config.global&limit=1");
    expect(global.body.items[0]).toMatchObject({
      operation: "config.global",
      subject: null,
      details: { after: { semver_policy: "enforce" } },
    });
    await t.request("PUT", "/api/v1/config", { body: { semver_policy: "advise" } });
  });

  test("Confluent writes: register, version and subject deletes, config and mode", async () => {
    const subject = "audit-confluent-value";
    const confluent = (method: string, path: string, body?: unknown) =>
      t.request(method, path, {
        ...(body === undefined ? {} : { body }),
        headers: { "Content-Type": MEDIA, "X-Request-Id": `req-confluent-${method.toLowerCase()}` },
      });
    const schema = (field: string) =>
      JSON.stringify({
        type: "record",
        name: "Value",
        fields: [{ name: field, type: ["null", "string"], default: null }],
      });

    const one = await confluent("POST", `/subjects/${subject}/versions`, { schema: schema("a") });
    expect(one.status).toBe(200);
    const two = await confluent("POST", `/subjects/${subject}/versions`, { schema: schema("b") });
    expect(two.status).toBe(200);
    expect((await confluent("DELETE", `/subjects/${subject}/versions/1`)).status).toBe(200);
    expect((await confluent("DELETE", `/subjects/${subject}/versions/1?permanent=true`)).status).toBe(200);
    expect((await confluent("PUT", `/config/${subject}`, { compatibility: "NONE" })).status).toBe(200);
    expect((await confluent("DELETE", `/config/${subject}`)).status).toBe(200);
    expect((await confluent("PUT", `/mode/${subject}`, { mode: "READONLY" })).status).toBe(200);
    expect((await confluent("DELETE", `/mode/${subject}`)).status).toBe(200);
    expect((await confluent("DELETE", `/subjects/${subject}`)).status).toBe(200);
    expect((await confluent("DELETE", `/subjects/${subject}?permanent=true`)).status).toBe(200);

    const entries = await entriesOf(subject);
    expect(entries.map((e) => [e.operation, e.subject_version])).toEqual([
      ["schema.register", 1],
      ["schema.register", 2],
      ["schema.delete", 1],
      ["schema.delete_permanent", 1],
      ["config.subject", null],
      // Confluent's DELETE /config/{subject} clears the compatibility alone: a change of the subject's config.
      ["config.subject", null],
      ["mode.subject", null],
      ["mode.subject", null],
      ["subject.delete", 2],
      ["subject.delete_permanent", 2],
    ]);
    expect(entries[0]).toMatchObject({
      request_id: "req-confluent-post",
      content_id: one.body.id,
    });
    expect(entries[1]).toMatchObject({ content_id: two.body.id, hash_before: entries[0].hash_after });
    expect(entries[1].hash_after).toStartWith("sha256:");
    expect(entries[8]).toMatchObject({ hash_before: entries[1].hash_after, hash_after: null });
    expect(entries[6].details).toEqual({
      before: null,
      after: { compatibility: null, semver_policy: null, mode: "READONLY" },
    });
    expect(entries[7].details).toEqual({
      before: { compatibility: null, semver_policy: null, mode: "READONLY" },
      after: null,
    });

    expect((await confluent("PUT", "/config", { compatibility: "FULL" })).status).toBe(200);
    expect((await confluent("DELETE", "/config")).status).toBe(200);
    expect((await confluent("PUT", "/mode", { mode: "READONLY" })).status).toBe(200);
    expect((await confluent("PUT", "/mode", { mode: "READWRITE" })).status).toBe(200);
    const global = await t.get("/api/v1/audit?actor=anonymous&limit=4");
    expect(
      global.body.items.map((e: JsonBody) => [
        e.operation,
        e.details.after?.compatibility ?? null,
        e.details.after?.mode ?? null,
      ]),
    ).toEqual(
      [
        ["mode.global", null, "READWRITE"],
        ["mode.global", null, "READONLY"],
        ["config.global", null, null],
        ["config.global", "FULL", null],
      ].map(([op, compatibility, mode]) => [op, compatibility, mode]),
    );
  });

  test("a refused write leaves no entry", async () => {
    const subject = "audit.refused.Order";
    const first = await register(subject, 1);
    const before = (await entriesOf(subject)).length;
    // Breaking under BACKWARD: the required property goes.
    const incompatible = await t.post("/api/v1/schemas", {
      subject,
      schema_type: "json",
      content: { type: "object", properties: { prompt: { type: "integer" } }, required: ["prompt"] },
    });
    expect(incompatible.status).toBe(409);
    const transition = await t.request("PATCH", `/api/v1/schemas/${first.id}/state`, {
      body: { state: "draft" },
    });
    expect(transition.status).toBe(409);
    const permanent = await t.request("DELETE", `/api/v1/schemas/${first.id}?permanent=true`);
    expect(permanent.status).toBe(409);
    expect((await t.request("DELETE", "/api/v1/schemas/00000000-0000-4000-8000-000000000000")).status).toBe(
      404,
    );
    expect((await entriesOf(subject)).length).toBe(before);
  });

  test("a write whose entry cannot be written is not made: one transaction", async () => {
    // A constraint the audit insert of this actor breaks, so the write's own statements must roll back with it.
    await sql`ALTER TABLE audit_log ADD CONSTRAINT audit_test_refuse CHECK (actor_id <> 'refused-actor')`;
    try {
      const refused: WriteContext = { actor: { id: "refused-actor", kind: "key" }, requestId: "r-1" };
      const service = t.registry.service;
      const subject = "audit.atomic.Order";
      const registered = await service
        .register({ subject, schemaType: "json", content: jsonSchema(1) }, refused)
        .catch((error: unknown) => error);
      expect(registered).toBeInstanceOf(Error);
      expect((await t.get(`/api/v1/subjects/${subject}/versions`)).status).toBe(404);

      const { schema } = await service.register({ subject, schemaType: "json", content: jsonSchema(1) });
      const snapshot = await t.snapshot();
      // One at a time: each must fail on its own, and a rejection must not wait unhandled.
      const refusals: (() => Promise<unknown>)[] = [
        () => service.updateState({ id: schema.id }, "deprecated", null, refused),
        () => service.delete({ id: schema.id }, { permanent: false }, refused),
        () => service.deleteSubject(subject, { permanent: false }, refused),
        () => service.putSubjectSettings(subject, { compatibility: "NONE" }, refused),
        () => service.putGlobalSettings({ compatibility: "NONE" }, refused),
        () => t.registry.confluent.setSubjectMode(subject, "READONLY", {}, refused),
      ];
      for (const refusal of refusals) {
        expect(await refusal().catch((error: unknown) => error)).toBeInstanceOf(Error);
      }
      expect(await t.snapshot()).toEqual(snapshot);
      expect(await service.subjectSettings(subject, { effective: false }).catch(() => null)).toBeNull();
      expect(await t.registry.confluent.subjectMode(subject)).toBeNull();
      expect((await service.globalSettings()).compatibility).toBe("BACKWARD");
      // Written by `system` (no request), and recorded as such.
      const entries = await entriesOf(subject);
      expect(entries.map((e) => [e.operation, e.actor.id, e.request_id])).toEqual([
        ["schema.register", "system", null],
      ]);
    } finally {
      await sql`ALTER TABLE audit_log DROP CONSTRAINT audit_test_refuse`;
    }
  });

  test("GET /audit filters by subject, actor, operation and time, and pages with a cursor", async () => {
    const subject = "audit.paging.Order";
    const alice: WriteContext = { actor: { id: "key-alice", kind: "key" }, requestId: "a" };
    const bob: WriteContext = { actor: { id: "key-bob", kind: "key" }, requestId: "b" };
    const service = t.registry.service;
    for (let n = 1; n <= 5; n++) {
      await service.register(
        { subject, schemaType: "json", content: jsonSchema(n) },
        n % 2 === 0 ? bob : alice,
      );
    }
    const all = await entriesOf(subject);
    expect(all.map((e) => e.actor.id)).toEqual(["key-alice", "key-bob", "key-alice", "key-bob", "key-alice"]);
    expect(all.every((e) => e.actor.kind === "key")).toBe(true);

    const byBob = await t.get(`/api/v1/audit?subject=${subject}&actor=key-bob`);
    expect(byBob.body.items.map((e: JsonBody) => e.version)).toEqual([all[3].version, all[1].version]);
    expect(byBob.body.next_cursor).toBeNull();

    // Pages of 2, newest first, cursor to cursor, no entry twice or missing.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: JsonBody = await t.get(
        `/api/v1/audit?subject=${subject}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e: JsonBody) => e.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.map((e) => e.id).reverse());

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await t.get(`/api/v1/audit?subject=${subject}&since=${future}`)).body.items).toEqual([]);
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await t.get(`/api/v1/audit?subject=${subject}&since=${past}`)).body.items.length).toBe(5);
    const registers = await t.get(`/api/v1/audit?subject=${subject}&operation=schema.state_change`);
    expect(registers.body.items).toEqual([]);

    for (const bad of ["limit=0", "limit=1001", "cursor=abc", "since=yesterday", "operation=schema.read"]) {
      const response = await t.get(`/api/v1/audit?${bad}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
  });

  test("retention: entries past AUDIT_RETENTION_DAYS go, the newer stay", async () => {
    const subject = "audit.retention.Order";
    await register(subject, 1);
    await register(subject, 2);
    const [old] = await entriesOf(subject);
    await sql`UPDATE audit_log SET at = now() - interval '400 days' WHERE id = ${old.id}`;
    // The registry's own pruner (retention 365 days by default).
    const storage = t.registry.storage as unknown as { auditPruner: AuditPruner };
    expect(await storage.auditPruner.pruneNow()).toBeGreaterThanOrEqual(1);
    const left = await entriesOf(subject);
    expect(left.map((e) => e.id)).not.toContain(old.id);
    expect(left.length).toBe(1);
  });
});

describe.skipIf(!available)("audit retention on its timer", () => {
  test("a pruner with an interval prunes by itself and never overlaps; retention 0 keeps everything", async () => {
    const cutoffs: Date[] = [];
    let running = 0;
    let overlapped = false;
    const audit = {
      async prune(before: Date) {
        running++;
        if (running > 1) overlapped = true;
        cutoffs.push(before);
        await Bun.sleep(30);
        running--;
        return 2;
      },
    };
    const now = Date.UTC(2026, 0, 31);
    const pruned: number[] = [];
    const pruner = new AuditPruner(
      audit,
      { retentionDays: 30, intervalMs: 10, onError: () => {}, onPruned: (n) => pruned.push(n) },
      () => now,
    );
    pruner.start();
    await Bun.sleep(120);
    await pruner.stop();
    expect(cutoffs.length).toBeGreaterThanOrEqual(2);
    expect(overlapped).toBe(false);
    expect(cutoffs[0]!.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(pruned.every((n) => n === 2)).toBe(true);

    const keep = new AuditPruner(audit, { retentionDays: 0, intervalMs: 10, onError: () => {} });
    const before = cutoffs.length;
    keep.start();
    await Bun.sleep(40);
    expect(await keep.pruneNow()).toBe(0);
    await keep.stop();
    expect(cutoffs.length).toBe(before);
  });

  test("the retention's failures are reported, not thrown", async () => {
    const errors: unknown[] = [];
    const pruner = new AuditPruner(
      { prune: () => Promise.reject(new Error("database down")) },
      { retentionDays: 1, intervalMs: 1000, onError: (error) => errors.push(error) },
    );
    expect(await pruner.pruneNow()).toBe(0);
    expect(errors.length).toBe(1);
  });
});

describe.skipIf(!available)("audit log with authentication on", () => {
  const BOOTSTRAP = "audit-test-bootstrap-key-0123456789abcdef";
  let t: TestRegistry;
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    t = await startTestRegistry({
      database: "postgres",
      env: { AUTH_REQUIRED: "true", AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP, CACHE_WARM_ON_STARTUP: "false" },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  async function createKey(by: string, role: string): Promise<{ id: string; key: string }> {
    const created = await t.request("POST", "/api/v1/keys", { body: { role }, headers: bearer(by) });
    expect(created.status).toBe(201);
    return created.body;
  }

  test("entries name the key that wrote; key creates and revokes are recorded; only admins read the log", async () => {
    const admin = await createKey(BOOTSTRAP, "admin");
    const writer = await createKey(admin.key, "writer");
    const reader = await createKey(admin.key, "reader");

    const registered = await t.request("POST", "/api/v1/schemas", {
      body: { subject: "audit.auth.Order", schema_type: "json", content: jsonSchema(1) },
      headers: { ...bearer(writer.key), "X-Request-Id": "req-by-writer" },
    });
    expect(registered.status).toBe(201);
    const revoked = await t.request("DELETE", `/api/v1/keys/${reader.id}`, { headers: bearer(admin.key) });
    expect(revoked.status).toBe(200);

    // Readers and writers may not read the log; admins may.
    const other = await createKey(admin.key, "reader");
    expect((await t.get("/api/v1/audit", bearer(other.key))).status).toBe(403);
    expect((await t.get("/api/v1/audit", bearer(writer.key))).status).toBe(403);
    expect((await t.get("/api/v1/audit")).status).toBe(401);
    const log = await t.get("/api/v1/audit?limit=100", bearer(admin.key));
    expect(log.status).toBe(200);
    const entries = [...log.body.items].reverse();
    expect(entries.map((e: JsonBody) => [e.operation, e.actor.id, e.actor.kind])).toEqual([
      ["key.create", "bootstrap", "key"],
      ["key.create", admin.id, "key"],
      ["key.create", admin.id, "key"],
      ["schema.register", writer.id, "key"],
      ["key.revoke", admin.id, "key"],
      ["key.create", admin.id, "key"],
    ]);
    expect(entries[1].details).toEqual({
      key_id: writer.id,
      role: "writer",
      subjects: null,
      expires_at: null,
    });
    expect(entries[3]).toMatchObject({ request_id: "req-by-writer", subject: "audit.auth.Order" });
    expect(entries[4].details).toMatchObject({ key_id: reader.id, role: "reader" });
    // No secret, not even its hash, is in the log.
    expect(JSON.stringify(log.body)).not.toContain(admin.key.split(".").at(-1));
    const byWriter = await t.get(`/api/v1/audit?actor=${writer.id}`, bearer(admin.key));
    expect(byWriter.body.items.map((e: JsonBody) => e.operation)).toEqual(["schema.register"]);
  });
});

/**
 * The storage contract (the schema repository above all, and search, the
 * access log and transactions beside it), as one suite run against every
 * place the storage runs: the machine's PostgreSQL (postgres-storage.test.ts)
 * and the embedded PGlite (pglite-storage.test.ts). Tests share one database
 * per file and keep out of each other's way with subjects of their own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isRegistryError, type RegistryError } from "../../src/domain/errors.ts";
import { invalidVersion } from "../../src/domain/semver.ts";
import type { SchemaMetadata, SchemaState, SchemaType } from "../../src/domain/types.ts";
import type { PostgresStorage } from "../../src/storage/postgres/postgres-storage.ts";
import type { NewSchema, SchemaRepository, SchemaTransaction } from "../../src/storage/storage.ts";

export interface ContractTarget {
  storage: PostgresStorage;
  teardown(): Promise<void>;
}

export interface ContractOptions {
  skip?: boolean;
  /** How many registers race in the concurrency tests. */
  concurrency?: number;
}

const run = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
let counter = 0;

/** A subject no other test (or earlier run in the same database) uses. */
function subject(name: string): string {
  counter += 1;
  return `t${run}.${name}.${counter}`;
}

async function hashOf(content: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(content));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

interface SchemaInput {
  version?: string;
  state?: SchemaState;
  schemaType?: SchemaType;
  metadata?: SchemaMetadata;
}

async function schema(subjectName: string, content: unknown, input: SchemaInput = {}): Promise<NewSchema> {
  const text = JSON.stringify(content);
  return {
    subject: subjectName,
    ...(input.version === undefined ? {} : { version: input.version }),
    schemaType: input.schemaType ?? "json",
    state: input.state ?? "active",
    content,
    contentHash: await hashOf(content),
    contentSize: new TextEncoder().encode(text).length,
    contentLocation: "inline",
    contentKey: null,
    metadata: input.metadata ?? {},
  };
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error("expected the operation to fail");
}

const page = { limit: 100, offset: 0 };

export function storageContract(
  label: string,
  open: () => Promise<ContractTarget>,
  options: ContractOptions = {},
) {
  describe.skipIf(options.skip === true)(label, () => {
    let target: ContractTarget;
    let storage: PostgresStorage;
    let schemas: SchemaRepository;

    // Hooks do not get bunfig's test timeout; a first PGlite start alone takes seconds.
    beforeAll(async () => {
      target = await open();
      storage = target.storage;
      schemas = storage.schemas;
    }, 60_000);

    afterAll(async () => {
      await target?.teardown();
    }, 30_000);

    describe("register", () => {
      test("stores the schema as given and reads it back by id, global_id, subject+version and latest", async () => {
        const s = subject("roundtrip");
        const metadata = { description: "A request", tags: ["llm"], owner: "team-a", custom: { n: 1 } };
        const input = await schema(
          s,
          { type: "object", properties: { a: { type: "string" } } },
          { metadata },
        );
        const { schema: stored, created } = await schemas.register(input);
        expect(created).toBe(true);
        expect(stored).toMatchObject({
          subject: s,
          version: "1.0.0",
          schemaType: "json",
          state: "active",
          content: input.content as object,
          contentHash: input.contentHash,
          contentSize: input.contentSize,
          contentLocation: "inline",
          contentKey: null,
          metadata,
          deletedAt: null,
        });
        expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number.isSafeInteger(stored.globalId) && stored.globalId > 0).toBe(true);
        expect(stored.createdAt).toBeInstanceOf(Date);
        expect(stored.updatedAt).toBeInstanceOf(Date);

        expect(await schemas.getById({ id: stored.id })).toEqual(stored);
        expect(await schemas.getById({ globalId: stored.globalId })).toEqual(stored);
        expect(await schemas.getBySubjectVersion(s, "1.0.0")).toEqual(stored);
        expect(await schemas.getLatest(s)).toEqual(stored);
      });

      test("keeps protobuf source as a string and object-store content as a key without content", async () => {
        const s = subject("kinds");
        const proto = 'syntax = "proto3";\nmessage A { string b = 1; }\n';
        const p = await schemas.register({ ...(await schema(s, proto, { schemaType: "protobuf" })) });
        expect(p.schema.content).toBe(proto);
        expect((await schemas.getById({ id: p.schema.id }))?.content).toBe(proto);

        const big = {
          ...(await schema(s, { large: true })),
          content: null,
          contentLocation: "object_store" as const,
        };
        const o = await schemas.register({ ...big, contentKey: "schemas/ab/cd", contentSize: 2_000_000 });
        expect(o.schema).toMatchObject({
          content: null,
          contentLocation: "object_store",
          contentKey: "schemas/ab/cd",
          contentSize: 2_000_000,
          version: "1.1.0",
        });
      });

      test("assigns 1.0.0, then the highest version's minor + 1, counting deleted and pre-release versions", async () => {
        const s = subject("assign");
        const v1 = await schemas.register(await schema(s, { n: 1 }));
        expect(v1.schema.version).toBe("1.0.0");
        expect((await schemas.register(await schema(s, { n: 2 }))).schema.version).toBe("1.1.0");
        await schemas.register(await schema(s, { n: 3 }, { version: "3.4.7-rc.1" }));
        const after = await schemas.register(await schema(s, { n: 4 }));
        expect(after.schema.version).toBe("3.5.0");
        await schemas.softDelete({ id: after.schema.id });
        // 3.5.0 is deleted but still taken.
        expect((await schemas.register(await schema(s, { n: 5 }))).schema.version).toBe("3.6.0");
      });

      test("assigned versions order with given ones across digit lengths, and clash with them", async () => {
        // The database derives assigned versions' sort keys; the application derives given ones'.
        const s = subject("digits");
        await schemas.register(await schema(s, { d: 1 }, { version: "9.9.0" }));
        expect((await schemas.register(await schema(s, { d: 2 }))).schema.version).toBe("9.10.0");
        await schemas.register(await schema(s, { d: 3 }, { version: "9.10.1-beta" }));
        await schemas.register(await schema(s, { d: 4 }, { version: "10.0.0-rc.1" }));
        expect((await schemas.register(await schema(s, { d: 5 }))).schema.version).toBe("10.1.0");
        await schemas.register(await schema(s, { d: 6 }, { version: "99.0.0" }));
        expect((await schemas.register(await schema(s, { d: 7 }))).schema.version).toBe("99.1.0");
        expect((await schemas.listVersions(s, page)).items.map((r) => r.version)).toEqual([
          "99.1.0",
          "99.0.0",
          "10.1.0",
          "10.0.0-rc.1",
          "9.10.1-beta",
          "9.10.0",
          "9.9.0",
        ]);
        expect((await failure(schemas.register(await schema(s, { d: 8 }, { version: "9.10.0" })))).code).toBe(
          "version_exists",
        );
        expect((await schemas.getBySubjectVersion(s, "10.1.0"))?.content).toEqual({ d: 5 });
      });

      test("answers the live schema with the same content instead of creating one, whatever version is asked", async () => {
        const s = subject("idempotent");
        const first = await schemas.register(await schema(s, { same: true }, { version: "1.2.0" }));
        const again = await schemas.register(await schema(s, { same: true }, { version: "7.0.0" }));
        const unversioned = await schemas.register(await schema(s, { same: true }));
        expect(again).toEqual({ schema: first.schema, created: false });
        expect(unversioned).toEqual({ schema: first.schema, created: false });
        expect((await schemas.listVersions(s, page)).total).toBe(1);
      });

      test("registers the same content again once the earlier one is soft-deleted", async () => {
        const s = subject("redo");
        const first = await schemas.register(await schema(s, { x: 1 }));
        await schemas.softDelete({ id: first.schema.id });
        const second = await schemas.register(await schema(s, { x: 1 }));
        expect(second.created).toBe(true);
        expect(second.schema.version).toBe("1.1.0");
        expect(second.schema.id).not.toBe(first.schema.id);
      });

      test("refuses a taken version with other content (version_exists), deleted or not", async () => {
        const s = subject("clash");
        const held = await schemas.register(await schema(s, { v: 1 }, { version: "2.0.0" }));
        const error = await failure(schemas.register(await schema(s, { v: 2 }, { version: "2.0.0" })));
        expect(error.code).toBe("version_exists");
        expect(error.status).toBe(409);
        expect(error.details).toMatchObject({
          subject: s,
          version: "2.0.0",
          existing_id: held.schema.id,
          existing_deleted: false,
        });

        await schemas.softDelete({ id: held.schema.id });
        const deleted = await failure(schemas.register(await schema(s, { v: 3 }, { version: "2.0.0" })));
        expect(deleted.code).toBe("version_exists");
        expect(deleted.details).toMatchObject({ existing_deleted: true });
        expect((await schemas.listVersions(s, { ...page, includeDeleted: true })).total).toBe(1);
      });

      test("treats versions that differ only in build metadata as the same version", async () => {
        const s = subject("build");
        const stored = await schemas.register(await schema(s, { b: 1 }, { version: "1.2.0+build.5" }));
        expect(stored.schema.version).toBe("1.2.0+build.5");
        expect((await schemas.getBySubjectVersion(s, "1.2.0"))?.id).toBe(stored.schema.id);
        expect((await schemas.getBySubjectVersion(s, "1.2.0+other"))?.id).toBe(stored.schema.id);
        const error = await failure(
          schemas.register(await schema(s, { b: 2 }, { version: "1.2.0+build.6" })),
        );
        expect(error.code).toBe("version_exists");
        expect(await schemas.getBySubjectVersion(s, "not-a-version")).toBeNull();
      });

      test("rejects a version that is not semver before touching the database", async () => {
        const error = await failure(schemas.register(await schema(subject("bad"), {}, { version: "1.0" })));
        expect(error.code).toBe("invalid_request");
        // The same error the service gives: one rule, one message.
        expect(error.message).toBe(invalidVersion("1.0").message);
        expect(error.details).toEqual(invalidVersion("1.0").details);
      });

      test("with no version, a new subject starts at 1.0.0", async () => {
        expect((await schemas.register(await schema(subject("first"), { first: true }))).schema.version).toBe(
          "1.0.0",
        );
      });

      test.each([
        ["1.0.0", "1.1.0"],
        ["1.2.3", "1.3.0"],
        ["0.9.7", "0.10.0"],
        ["2.0.0-rc.1+build.5", "2.1.0"],
        ["1.9.0", "1.10.0"],
      ])("with no version, after %s comes %s", async (latest, next) => {
        const s = subject("next");
        await schemas.register(await schema(s, { latest }, { version: latest }));
        expect((await schemas.register(await schema(s, { after: latest }))).schema.version).toBe(next);
      });
    });

    describe("versions", () => {
      test("orders by semver precedence, newest first, and picks latest among active and deprecated", async () => {
        const s = subject("order");
        const scrambled = ["1.0.0-rc.1", "0.9.0", "1.0.0", "1.0.0-alpha.10", "1.0.0-alpha", "1.0.0-alpha.2"];
        const ids = new Map<string, string>();
        for (const [i, version] of scrambled.entries()) {
          ids.set(version, (await schemas.register(await schema(s, { i }, { version }))).schema.id);
        }
        const listed = await schemas.listVersions(s, page);
        expect(listed.items.map((r) => r.version)).toEqual([
          "1.0.0",
          "1.0.0-rc.1",
          "1.0.0-alpha.10",
          "1.0.0-alpha.2",
          "1.0.0-alpha",
          "0.9.0",
        ]);
        expect(listed.total).toBe(6);
        expect((await schemas.getLatest(s))?.version).toBe("1.0.0");

        await schemas.updateState({ id: ids.get("1.0.0")! }, "deprecated", null);
        expect((await schemas.getLatest(s))?.version).toBe("1.0.0");
        await schemas.softDelete({ id: ids.get("1.0.0")! });
        expect((await schemas.getLatest(s))?.version).toBe("1.0.0-rc.1");
      });

      test("latest skips drafts and archived versions, and is null when none qualifies", async () => {
        const s = subject("latest");
        const draft = await schemas.register(await schema(s, { d: 1 }, { version: "2.0.0", state: "draft" }));
        expect(await schemas.getLatest(s)).toBeNull();
        await schemas.register(await schema(s, { d: 2 }, { version: "1.0.0" }));
        expect((await schemas.getLatest(s))?.version).toBe("1.0.0");
        await schemas.updateState({ id: draft.schema.id }, "archived", "never shipped");
        expect((await schemas.getLatest(s))?.version).toBe("1.0.0");
        expect(await schemas.getLatest(subject("nothing"))).toBeNull();
      });

      test("lists with state filter, deleted rows on request, paging, and without content unless asked", async () => {
        const s = subject("list");
        const a = await schemas.register(await schema(s, { a: 1 }, { version: "1.0.0" }));
        await schemas.register(await schema(s, { a: 2 }, { version: "1.1.0", state: "draft" }));
        await schemas.register(await schema(s, { a: 3 }, { version: "1.2.0" }));
        await schemas.softDelete({ id: a.schema.id });

        const live = await schemas.listVersions(s, page);
        expect(live.items.map((r) => r.version)).toEqual(["1.2.0", "1.1.0"]);
        expect(live.items.every((r) => r.content === null)).toBe(true);
        const withContent = await schemas.listVersions(s, { ...page, withContent: true });
        expect(withContent.items.map((r) => r.content)).toEqual([{ a: 3 }, { a: 2 }]);

        const all = await schemas.listVersions(s, { ...page, includeDeleted: true });
        expect(all.items.map((r) => r.version)).toEqual(["1.2.0", "1.1.0", "1.0.0"]);
        expect(all.items[2]?.deletedAt).toBeInstanceOf(Date);

        const drafts = await schemas.listVersions(s, { ...page, states: ["draft"] });
        expect(drafts.items.map((r) => r.version)).toEqual(["1.1.0"]);
        expect(drafts.total).toBe(1);
        const archived = await schemas.listVersions(s, { ...page, states: ["archived"] });
        expect(archived).toEqual({ items: [], limit: 100, offset: 0, total: 0 });

        const second = await schemas.listVersions(s, { limit: 1, offset: 1, includeDeleted: true });
        expect(second.items.map((r) => r.version)).toEqual(["1.1.0"]);
        expect(second.total).toBe(3);
        const beyond = await schemas.listVersions(s, { limit: 10, offset: 10 });
        expect(beyond.items).toEqual([]);
        expect(beyond.total).toBe(2);
      });

      test("listing a subject without visible versions is not_found", async () => {
        expect((await failure(schemas.listVersions(subject("none"), page))).code).toBe("not_found");
        const s = subject("gone");
        const only = await schemas.register(await schema(s, { g: 1 }));
        await schemas.softDelete({ id: only.schema.id });
        expect((await failure(schemas.listVersions(s, page))).code).toBe("not_found");
        expect((await schemas.listVersions(s, { ...page, includeDeleted: true })).total).toBe(1);
      });

      test("lists subjects with their latest version and live version count", async () => {
        const withLatest = subject("subjects-a");
        const draftsOnly = subject("subjects-b");
        const deletedOnly = subject("subjects-c");
        await schemas.register(await schema(withLatest, { s: 1 }, { version: "1.0.0" }));
        await schemas.register(await schema(withLatest, { s: 2 }, { version: "1.1.0" }));
        const dropped = await schemas.register(await schema(withLatest, { s: 3 }, { version: "1.2.0" }));
        await schemas.softDelete({ id: dropped.schema.id });
        await schemas.register(await schema(draftsOnly, { s: 4 }, { state: "draft" }));
        const gone = await schemas.register(await schema(deletedOnly, { s: 5 }));
        await schemas.softDelete({ id: gone.schema.id });

        const listed = await schemas.listSubjects({ limit: 1000, offset: 0 });
        const bySubject = new Map(listed.items.map((item) => [item.subject, item]));
        expect(bySubject.get(withLatest)).toMatchObject({ latestVersion: "1.1.0", versionCount: 2 });
        expect(bySubject.get(draftsOnly)).toMatchObject({ latestVersion: null, versionCount: 1 });
        expect(bySubject.has(deletedOnly)).toBe(false);
        expect(listed.total).toBe(listed.items.length);
        const subjects = listed.items.map((item) => item.subject);
        expect(subjects).toEqual([...subjects].sort());

        const paged = await schemas.listSubjects({ limit: 1, offset: 1 });
        expect(paged.items.map((item) => item.subject)).toEqual(subjects.slice(1, 2));
        expect(paged.total).toBe(listed.total);
      });
    });

    describe("reads", () => {
      test("hides soft-deleted schemas unless asked, and answers null for unknown or malformed ids", async () => {
        const s = subject("reads");
        const { schema: stored } = await schemas.register(await schema(s, { r: 1 }));
        await schemas.softDelete({ id: stored.id });
        expect(await schemas.getById({ id: stored.id })).toBeNull();
        expect(await schemas.getById({ globalId: stored.globalId })).toBeNull();
        expect(await schemas.getBySubjectVersion(s, "1.0.0")).toBeNull();
        const deleted = await schemas.getById({ id: stored.id }, { includeDeleted: true });
        expect(deleted?.deletedAt).toBeInstanceOf(Date);
        expect((await schemas.getBySubjectVersion(s, "1.0.0", { includeDeleted: true }))?.id).toBe(stored.id);

        expect(await schemas.getById({ id: crypto.randomUUID() })).toBeNull();
        expect(await schemas.getById({ id: "not-a-uuid" })).toBeNull();
        expect(await schemas.getById({ globalId: 9_007_199_254_740 })).toBeNull();
        expect(await schemas.getById({ globalId: -1 })).toBeNull();
        expect(await schemas.getById({ globalId: 1.5 })).toBeNull();
      });
    });

    describe("lifecycle", () => {
      test("moves through allowed states and records each transition with its reason", async () => {
        const { schema: s } = await schemas.register(
          await schema(subject("life"), { l: 1 }, { state: "draft" }),
        );
        const active = await schemas.updateState({ id: s.id }, "active", "ready");
        expect(active.state).toBe("active");
        expect(active.updatedAt.getTime()).toBeGreaterThanOrEqual(s.updatedAt.getTime());
        await schemas.updateState({ globalId: s.globalId }, "deprecated", null);
        await schemas.updateState({ id: s.id }, "active", "still needed");
        await schemas.updateState({ id: s.id }, "deprecated", "replaced");
        const archived = await schemas.updateState({ id: s.id }, "archived", "retired");
        expect(archived.state).toBe("archived");

        const history = await schemas.stateHistory({ id: s.id });
        expect(history.map((h) => [h.fromState, h.toState, h.reason])).toEqual([
          [null, "draft", null],
          ["draft", "active", "ready"],
          ["active", "deprecated", null],
          ["deprecated", "active", "still needed"],
          ["active", "deprecated", "replaced"],
          ["deprecated", "archived", "retired"],
        ]);
        expect(history.every((h) => h.schemaId === s.id && h.changedAt instanceof Date)).toBe(true);
        const times = history.map((h) => h.changedAt.getTime());
        expect(times).toEqual([...times].sort((a, b) => a - b));
      });

      test("refuses transitions the lifecycle does not allow, changing nothing", async () => {
        const { schema: s } = await schemas.register(await schema(subject("deny"), { d: 1 }));
        const error = await failure(schemas.updateState({ id: s.id }, "draft", null));
        expect(error.code).toBe("invalid_transition");
        expect(error.details).toEqual({ from: "active", to: "draft", allowed: ["deprecated"] });
        expect((await failure(schemas.updateState({ id: s.id }, "active", null))).code).toBe(
          "invalid_transition",
        );
        await schemas.updateState({ id: s.id }, "deprecated", null);
        await schemas.updateState({ id: s.id }, "archived", null);
        const final = await failure(schemas.updateState({ id: s.id }, "active", null));
        expect(final.details).toEqual({ from: "archived", to: "active", allowed: [] });
        expect((await schemas.getById({ id: s.id }))?.state).toBe("archived");
        expect(await schemas.stateHistory({ id: s.id })).toHaveLength(3);
      });

      test("state changes on missing or soft-deleted schemas are not_found", async () => {
        const { schema: s } = await schemas.register(await schema(subject("nf"), { n: 1 }));
        await schemas.softDelete({ id: s.id });
        expect((await failure(schemas.updateState({ id: s.id }, "deprecated", null))).code).toBe("not_found");
        expect((await failure(schemas.updateState({ id: crypto.randomUUID() }, "active", null))).code).toBe(
          "not_found",
        );
        expect((await failure(schemas.updateState({ id: "nope" }, "active", null))).code).toBe("not_found");
        expect((await failure(schemas.stateHistory({ globalId: 2 ** 40 }))).code).toBe("not_found");
      });
    });

    describe("deletion", () => {
      test("soft delete once, permanent delete only after it; history goes along; ids are not reused", async () => {
        const s = subject("delete");
        const { schema: stored } = await schemas.register(await schema(s, { del: 1 }));
        const conflict = await failure(schemas.permanentDelete({ id: stored.id }));
        expect(conflict.code).toBe("conflict");
        expect(conflict.status).toBe(409);

        const soft = await schemas.softDelete({ globalId: stored.globalId });
        expect(soft.deletedAt).toBeInstanceOf(Date);
        expect((await failure(schemas.softDelete({ id: stored.id }))).code).toBe("not_found");

        const removed = await schemas.permanentDelete({ id: stored.id });
        expect(removed.id).toBe(stored.id);
        expect(await schemas.getById({ id: stored.id }, { includeDeleted: true })).toBeNull();
        expect((await failure(schemas.stateHistory({ id: stored.id }))).code).toBe("not_found");
        expect((await failure(schemas.permanentDelete({ id: stored.id }))).code).toBe("not_found");
        expect((await failure(schemas.softDelete({ id: crypto.randomUUID() }))).code).toBe("not_found");

        // The version is free again, under a new global_id.
        const again = await schemas.register(await schema(s, { del: 2 }, { version: "1.0.0" }));
        expect(again.schema.globalId).toBeGreaterThan(stored.globalId);
      });
    });

    describe("transactions", () => {
      test("commits everything the work did", async () => {
        const s = subject("tx-commit");
        const ids = await schemas.transaction(async (tx) => {
          const a = await tx.schemas.register(await schema(s, { t: 1 }));
          const b = await tx.schemas.register(await schema(s, { t: 2 }));
          await tx.schemas.updateState({ id: a.schema.id }, "deprecated", "in tx");
          // Reads inside the transaction see its own writes.
          expect((await tx.schemas.getLatest(s))?.version).toBe("1.1.0");
          return [a.schema.id, b.schema.id];
        });
        expect((await schemas.listVersions(s, page)).items.map((r) => r.id).sort()).toEqual([...ids].sort());
        expect((await schemas.getById({ id: ids[0]! }))?.state).toBe("deprecated");
      });

      test("rolls back everything when the work throws, and hands back the work's own error", async () => {
        const s = subject("tx-rollback");
        const before = await schemas.register(await schema(s, { keep: true }));
        const thrown = new Error("stop here");
        let createdId = "";
        const caught = await schemas
          .transaction(async (tx) => {
            createdId = (await tx.schemas.register(await schema(s, { dropped: true }))).schema.id;
            await tx.schemas.updateState({ id: before.schema.id }, "deprecated", null);
            await tx.schemas.softDelete({ id: before.schema.id });
            throw thrown;
          })
          .catch((error: unknown) => error);
        expect(caught).toBe(thrown);
        expect(createdId).not.toBe("");
        expect(await schemas.getById({ id: createdId }, { includeDeleted: true })).toBeNull();
        const kept = await schemas.getById({ id: before.schema.id });
        expect(kept?.state).toBe("active");
        expect(kept?.deletedAt).toBeNull();
        expect(await schemas.stateHistory({ id: before.schema.id })).toHaveLength(1);
      });

      test("a RegistryError inside the work rolls back too", async () => {
        const s = subject("tx-registry-error");
        const error = await failure(
          schemas.transaction(async (tx: SchemaTransaction) => {
            await tx.schemas.register(await schema(s, { one: 1 }, { version: "1.0.0" }));
            await tx.schemas.register(await schema(s, { two: 2 }, { version: "1.0.0" }));
          }),
        );
        expect(error.code).toBe("version_exists");
        expect(await schemas.getLatest(s)).toBeNull();
      });

      test("a nested transaction is a savepoint: it rolls back alone", async () => {
        const s = subject("tx-nested");
        await schemas.transaction(async (tx) => {
          await tx.schemas.register(await schema(s, { outer: 1 }));
          await tx.schemas
            .transaction(async (inner) => {
              await inner.schemas.register(await schema(s, { inner: 1 }));
              throw new Error("inner only");
            })
            .catch(() => {});
          await tx.schemas.register(await schema(s, { outer: 2 }));
        });
        const versions = await schemas.listVersions(s, { ...page, withContent: true });
        expect(versions.items.map((r) => r.content)).toEqual([{ outer: 2 }, { outer: 1 }]);
      });
    });

    describe("search", () => {
      let prefix: string;
      let ids: Record<string, string>;

      beforeAll(async () => {
        prefix = `t${run}.search${++counter}`;
        const entries: [string, string, unknown, SchemaInput][] = [
          [
            "chat",
            `${prefix}.chat.CompletionRequest`,
            { c: 1 },
            {
              version: "1.0.0",
              metadata: {
                description: "Request body of the chat completion call",
                tags: ["llm", "production"],
              },
            },
          ],
          [
            "chat2",
            `${prefix}.chat.CompletionRequest`,
            { c: 2 },
            {
              version: "1.1.0",
              state: "deprecated",
              metadata: {
                description: "Request body of the chat completion call",
                tags: ["llm"],
                owner: "platform",
              },
            },
          ],
          [
            "embed",
            `${prefix}.embeddings.Request`,
            { e: 1 },
            {
              version: "2.0.0",
              schemaType: "avro",
              metadata: {
                description: "Embedding input",
                tags: ["llm", "embeddings"],
                owner: "platform",
                custom: { model_family: "gpt", tier: 2 },
              },
            },
          ],
          [
            "event",
            `${prefix}.events.user_signed_up`,
            { u: 1 },
            { version: "0.1.0", state: "draft", metadata: { description: "A user joined", owner: "growth" } },
          ],
          // `_` and `%` must match literally in subject patterns.
          ["literal", `${prefix}.eventsXuser_signed_up`, { x: 1 }, { version: "0.2.0" }],
        ];
        ids = {};
        for (const [key, s, content, input] of entries) {
          ids[key] = (await schemas.register(await schema(s, content, input))).schema.id;
        }
        const gone = await schemas.register(
          await schema(
            `${prefix}.gone`,
            { g: 1 },
            { metadata: { description: "completion that was deleted" } },
          ),
        );
        await schemas.softDelete({ id: gone.schema.id });
        ids.gone = gone.schema.id;
      });

      const base = () => ({
        limit: 100,
        offset: 0,
        sort: { field: "relevance" as const, descending: true },
        subject: `${prefix}.*`,
      });
      const found = (hits: { id: string }[]) =>
        hits.map((hit) => Object.entries(ids).find(([, id]) => id === hit.id)?.[0] ?? hit.id);

      test("q ranks by trigram similarity over subject, description and tags; tolerates typos", async () => {
        const result = await storage.search.search({ ...base(), q: "embeddings" });
        expect(found(result.items)[0]).toBe("embed");
        expect(result.items[0]?.score).toBeGreaterThan(0.5);
        for (let i = 1; i < result.items.length; i++) {
          expect(result.items[i - 1]!.score!).toBeGreaterThanOrEqual(result.items[i]!.score!);
        }
        const typo = await storage.search.search({ ...base(), q: "complction" });
        expect(found(typo.items).sort()).toEqual(["chat", "chat2"]);
        const tag = await storage.search.search({ ...base(), q: "production" });
        expect(found(tag.items)).toEqual(["chat"]);
        // Shorter than a trigram: a literal substring match (`_` is not a wildcard).
        const short = await storage.search.search({ ...base(), q: "_s" });
        expect(found(short.items).sort()).toEqual(["event", "literal"]);
        expect((await storage.search.search({ ...base(), q: "zzzzqqqq" })).total).toBe(0);
      });

      test("subject patterns: * matches any run, everything else literally", async () => {
        const chat = await storage.search.search({ ...base(), subject: `${prefix}.chat.*` });
        expect(found(chat.items).sort()).toEqual(["chat", "chat2"]);
        const suffix = await storage.search.search({ ...base(), subject: `${prefix}.*.Request` });
        expect(found(suffix.items)).toEqual(["embed"]);
        const literal = await storage.search.search({
          ...base(),
          subject: `${prefix}.events.user_signed_up`,
        });
        expect(found(literal.items)).toEqual(["event"]);
        // `*` spans the "." as well as the "X".
        const spanning = await storage.search.search({
          ...base(),
          subject: `${prefix}.events*user_signed_up`,
        });
        expect(found(spanning.items).sort()).toEqual(["event", "literal"]);
        // A literal `_` matches only itself (as a LIKE wildcard it would match both).
        expect((await storage.search.search({ ...base(), subject: `${prefix}.events_user*` })).total).toBe(0);
        const underscore = await storage.search.search({ ...base(), subject: `${prefix}.*_signed_up` });
        expect(found(underscore.items).sort()).toEqual(["event", "literal"]);
        expect((await storage.search.search({ ...base(), subject: `${prefix}.%` })).total).toBe(0);
      });

      test("filters by tags (all must match), owner, schema type, state and metadata containment", async () => {
        expect(found((await storage.search.search({ ...base(), tags: ["llm"] })).items).sort()).toEqual([
          "chat",
          "chat2",
          "embed",
        ]);
        expect(
          found((await storage.search.search({ ...base(), tags: ["llm", "embeddings"] })).items),
        ).toEqual(["embed"]);
        expect(found((await storage.search.search({ ...base(), owner: "platform" })).items).sort()).toEqual([
          "chat2",
          "embed",
        ]);
        expect(found((await storage.search.search({ ...base(), schemaType: "avro" })).items)).toEqual([
          "embed",
        ]);
        expect(
          found((await storage.search.search({ ...base(), states: ["draft", "deprecated"] })).items).sort(),
        ).toEqual(["chat2", "event"]);
        const custom = await storage.search.search({
          ...base(),
          metadata: { custom: { model_family: "gpt" } },
        });
        expect(found(custom.items)).toEqual(["embed"]);
        expect(
          (await storage.search.search({ ...base(), metadata: { custom: { model_family: "x" } } })).total,
        ).toBe(0);
        const combined = await storage.search.search({
          ...base(),
          q: "request",
          owner: "platform",
          tags: ["llm"],
        });
        expect(found(combined.items).sort()).toEqual(["chat2", "embed"]);
      });

      test("sorts by subject, version and created_at both ways; pages with a total", async () => {
        const bySubject = await storage.search.search({
          ...base(),
          sort: { field: "subject", descending: false },
        });
        expect(found(bySubject.items)).toEqual(["chat2", "chat", "embed", "event", "literal"]);
        const bySubjectDesc = await storage.search.search({
          ...base(),
          sort: { field: "subject", descending: true },
        });
        expect(found(bySubjectDesc.items)).toEqual(["literal", "event", "embed", "chat2", "chat"]);
        const byVersion = await storage.search.search({
          ...base(),
          sort: { field: "version", descending: true },
        });
        expect(found(byVersion.items)).toEqual(["embed", "chat2", "chat", "literal", "event"]);
        const byCreated = await storage.search.search({
          ...base(),
          sort: { field: "created_at", descending: false },
        });
        expect(found(byCreated.items)).toEqual(["chat", "chat2", "embed", "event", "literal"]);
        const newest = await storage.search.search({
          ...base(),
          sort: { field: "created_at", descending: true },
        });
        expect(found(newest.items)).toEqual(["literal", "event", "embed", "chat2", "chat"]);

        const pageTwo = await storage.search.search({
          ...base(),
          sort: { field: "created_at", descending: false },
          limit: 2,
          offset: 2,
        });
        expect(found(pageTwo.items)).toEqual(["embed", "event"]);
        expect(pageTwo.total).toBe(5);
        expect(pageTwo.items.every((hit) => hit.content === null && hit.score === null)).toBe(true);
        const pastTheEnd = await storage.search.search({
          ...base(),
          sort: { field: "created_at", descending: false },
          limit: 2,
          offset: 10,
        });
        expect(pastTheEnd.items).toEqual([]);
        expect(pastTheEnd.total).toBe(5);
        const withContent = await storage.search.search({
          ...base(),
          subject: `${prefix}.embeddings.*`,
          withContent: true,
        });
        expect(withContent.items[0]?.content).toEqual({ e: 1 });
      });

      test("leaves soft-deleted schemas out unless asked", async () => {
        expect(found((await storage.search.search({ ...base(), q: "deleted" })).items)).toEqual([]);
        const withDeleted = await storage.search.search({ ...base(), q: "deleted", includeDeleted: true });
        expect(found(withDeleted.items)).toEqual(["gone"]);
      });
    });

    describe("stats", () => {
      test("counts schemas by state, deleted ones, subjects and stored bytes", async () => {
        const before = await schemas.stats();
        const s = subject("stats");
        const a = await schemas.register(await schema(s, { s: 1 }, { state: "draft" }));
        await schemas.register(await schema(s, { s: 22 }));
        const c = await schemas.register({
          ...(await schema(s, { s: 3 })),
          content: null,
          contentLocation: "object_store",
          contentKey: "k/3",
          contentSize: 5_000_000,
        });
        await schemas.updateState({ id: a.schema.id }, "archived", null);
        await schemas.softDelete({ id: c.schema.id });
        const after = await schemas.stats();
        expect(after.totalSchemas - before.totalSchemas).toBe(2);
        expect(after.archivedSchemas - before.archivedSchemas).toBe(1);
        expect(after.activeSchemas - before.activeSchemas).toBe(1);
        expect(after.draftSchemas - before.draftSchemas).toBe(0);
        expect(after.deletedSchemas - before.deletedSchemas).toBe(1);
        expect(after.subjects - before.subjects).toBe(1);
        expect(after.inlineBytes - before.inlineBytes).toBe(a.schema.contentSize + 8);
        expect(after.objectStoreBytes - before.objectStoreBytes).toBe(5_000_000);
      });
    });

    describe("access log", () => {
      test("counts reads in memory, flushes them in one batch, and ranks popular schemas", async () => {
        const s = subject("popular");
        const hot = await schemas.register(await schema(s, { hot: 1 }));
        const warm = await schemas.register(await schema(s, { warm: 1 }));
        const deleted = await schemas.register(await schema(s, { deleted: 1 }));
        for (let i = 0; i < 5; i++) storage.reads.recordRead(hot.schema.id);
        for (let i = 0; i < 2; i++) storage.reads.recordRead(warm.schema.id);
        storage.reads.recordRead(deleted.schema.id);
        storage.reads.recordRead("not-a-uuid");
        storage.reads.recordRead(crypto.randomUUID());
        await storage.reads.flush();
        storage.reads.recordRead(hot.schema.id);
        await storage.reads.flush();
        await schemas.softDelete({ id: deleted.schema.id });
        await storage.views.refreshNow();

        const popular = await storage.reads.popularSchemas(1000);
        const reads = new Map(popular.map((p) => [p.schemaId, p.reads]));
        expect(reads.get(hot.schema.id)).toBe(6);
        expect(reads.get(warm.schema.id)).toBe(2);
        expect(reads.has(deleted.schema.id)).toBe(false);
        expect(popular.findIndex((p) => p.schemaId === hot.schema.id)).toBeLessThan(
          popular.findIndex((p) => p.schemaId === warm.schema.id),
        );
        expect(storage.reads.failures).toBe(0);
        expect(storage.views.failures).toBe(0);
        expect((await storage.reads.popularSchemas(1)).length).toBe(1);
      });
    });

    describe("concurrency", () => {
      const n = options.concurrency ?? 50;

      test(`${n} concurrent registers of one subject and version create exactly one row, and all succeed`, async () => {
        const s = subject("race");
        const input = await schema(s, { race: true }, { version: "1.0.0" });
        const outcomes = await Promise.all(Array.from({ length: n }, () => schemas.register(input)));
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        expect(new Set(outcomes.map((o) => o.schema.id)).size).toBe(1);
        const listed = await schemas.listVersions(s, { ...page, includeDeleted: true });
        expect(listed.total).toBe(1);
        expect(await schemas.stateHistory({ id: outcomes[0]!.schema.id })).toHaveLength(1);
      });

      test("concurrent registers without a version get distinct consecutive versions", async () => {
        const s = subject("race-assign");
        const inputs = await Promise.all(Array.from({ length: 10 }, (_, i) => schema(s, { i })));
        const outcomes = await Promise.all(inputs.map((input) => schemas.register(input)));
        const versions = outcomes
          .map((o) => o.schema.version)
          .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
        expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => `1.${i}.0`));
      });
    });
  });
}

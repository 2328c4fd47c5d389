/**
 * The storage contract (the schema repository above all, and search, the
 * access log and transactions beside it), as one suite run against every
 * place the storage runs: the machine's PostgreSQL (postgres-storage.test.ts)
 * and the embedded PGlite (pglite-storage.test.ts). Tests share one database
 * per file and keep out of each other's way with subjects of their own; the
 * global evolution settings, which no test can take back, are set only by the
 * last tests of the suite.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type {
  CompatibilityLevel,
  EffectiveSettings,
  SemverPolicy,
} from "../../src/domain/compatibility/index.ts";
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

/**
 * The version a test that does not care gets: 1.0.0, 1.1.0, … per subject, in
 * the order the test builds its rows. The repository stores whatever it is given.
 */
const nextMinor = new Map<string, number>();

function defaultVersion(subjectName: string): string {
  const minor = nextMinor.get(subjectName) ?? 0;
  nextMinor.set(subjectName, minor + 1);
  return `1.${minor}.0`;
}

async function schema(subjectName: string, content: unknown, input: SchemaInput = {}): Promise<NewSchema> {
  const text = JSON.stringify(content);
  return {
    subject: subjectName,
    version: input.version ?? defaultVersion(subjectName),
    schemaType: input.schemaType ?? "json",
    state: input.state ?? "active",
    content,
    contentText: text,
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

const defaults: EffectiveSettings = { compatibility: "BACKWARD", semverPolicy: "advise" };

/** A search for every row of one subject. */
function searchAll(subjectName: string) {
  return {
    limit: 100,
    offset: 0,
    sort: { field: "relevance" as const, descending: true },
    subject: subjectName,
  };
}

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
          contentText: null,
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

      test("stores the version given, and a version held by a soft-deleted row stays taken", async () => {
        const s = subject("given");
        const v1 = await schemas.register(await schema(s, { n: 1 }, { version: "1.0.0" }));
        expect(v1.schema.version).toBe("1.0.0");
        expect((await schemas.register(await schema(s, { n: 2 }, { version: "1.1.0" }))).schema.version).toBe(
          "1.1.0",
        );
        const rc = await schemas.register(await schema(s, { n: 3 }, { version: "3.4.7-rc.1" }));
        expect(rc.schema.version).toBe("3.4.7-rc.1");
        const after = await schemas.register(await schema(s, { n: 4 }, { version: "3.5.0" }));
        expect(after.schema.version).toBe("3.5.0");
        await schemas.softDelete({ id: after.schema.id });
        // 3.5.0 is deleted but still taken.
        const taken = await failure(schemas.register(await schema(s, { n: 5 }, { version: "3.5.0" })));
        expect(taken.code).toBe("version_exists");
        expect(taken.details).toMatchObject({ existing_id: after.schema.id, existing_deleted: true });
        expect((await schemas.register(await schema(s, { n: 5 }, { version: "3.6.0" }))).schema.version).toBe(
          "3.6.0",
        );
      });

      test("versions order by precedence across digit lengths, and a taken one clashes", async () => {
        // The application derives every sort key; these cross the digit lengths of each part.
        const s = subject("digits");
        for (const [d, version] of [
          [1, "9.9.0"],
          [2, "9.10.0"],
          [3, "9.10.1-beta"],
          [4, "10.0.0-rc.1"],
          [5, "10.1.0"],
          [6, "99.0.0"],
          [7, "99.1.0"],
        ] as const) {
          expect((await schemas.register(await schema(s, { d }, { version }))).schema.version).toBe(version);
        }
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
        const lower = await schemas.register(await schema(s, { same: true }, { version: "0.1.0" }));
        expect(again).toEqual({ schema: first.schema, created: false });
        expect(lower).toEqual({ schema: first.schema, created: false });
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

      test("refuses a register without a version, writing nothing", async () => {
        const s = subject("unversioned");
        const { version: _version, ...unversioned } = await schema(s, { u: 1 });
        const error = await failure(schemas.register(unversioned as NewSchema));
        expect(error.code).toBe("invalid_request");
        expect(error.details).toEqual({ field: "version" });
        expect(await schemas.getLatest(s)).toBeNull();
      });

      test.each([
        ["1.0.0", "1.1.0"],
        ["1.2.3", "1.3.0"],
        ["0.9.7", "0.10.0"],
        ["2.0.0-rc.1+build.5", "2.1.0"],
        ["1.9.0", "1.10.0"],
      ])(
        "after %s, other content clashes there, the same content is found at %s, other content lands there",
        async (held, next) => {
          const s = subject("next");
          const first = await schemas.register(await schema(s, { held }, { version: held }));
          const clash = await failure(schemas.register(await schema(s, { other: held }, { version: held })));
          expect(clash.code).toBe("version_exists");
          expect(await schemas.register(await schema(s, { held }, { version: next }))).toEqual({
            schema: first.schema,
            created: false,
          });
          const second = await schemas.register(await schema(s, { after: held }, { version: next }));
          expect(second).toMatchObject({ created: true, schema: { version: next } });
          expect((await schemas.listVersions(s, page)).items.map((r) => r.version)).toEqual([next, held]);
        },
      );
    });

    describe("content as registered", () => {
      // JSONB would hand this back as {"a":{"y":2,"z":1},"b":1}.
      const text = JSON.stringify({ b: 1, a: { z: 1, y: 2 } });
      const jsonbOrder = JSON.stringify({ a: { y: 2, z: 1 }, b: 1 });

      test("every read that returns content returns the text as registered, key order included", async () => {
        const s = subject("as-registered");
        const input = { ...(await schema(s, JSON.parse(text))), contentText: text };
        const { schema: stored } = await schemas.register(input);
        expect(JSON.stringify(stored.content)).toBe(text);

        const reads = {
          byId: await schemas.getById({ id: stored.id }),
          byGlobalId: await schemas.getById({ globalId: stored.globalId }),
          bySubjectVersion: await schemas.getBySubjectVersion(s, stored.version),
          latest: await schemas.getLatest(s),
          listed: (await schemas.listVersions(s, { ...page, withContent: true })).items[0],
          searched: (await storage.search.search({ ...searchAll(s), withContent: true })).items[0],
          again: (await schemas.register(input)).schema,
          context: (await schemas.evolutionContext(s, input.contentHash, defaults)).existing,
          live: (await schemas.evolutionContext(s, input.contentHash, defaults)).live[0],
          changed: await schemas.updateState({ id: stored.id }, "deprecated", null),
        };
        for (const [read, record] of Object.entries(reads)) {
          expect({ read, text: JSON.stringify(record?.content) }).toEqual({ read, text });
        }
        // Lists that leave content out still do.
        expect((await schemas.listVersions(s, page)).items[0]?.content).toBeNull();
        expect((await storage.search.search(searchAll(s))).items[0]?.content).toBeNull();
      });

      test("a row without the text (written before it was kept) reads its JSONB content", async () => {
        const s = subject("jsonb-only");
        const input = { ...(await schema(s, JSON.parse(text))), contentText: null };
        const { schema: stored } = await schemas.register(input);
        const read = await schemas.getById({ id: stored.id });
        expect(read?.content).toEqual(JSON.parse(text));
        expect(JSON.stringify(read?.content)).toBe(jsonbOrder);
        const listed = await schemas.listVersions(s, { ...page, withContent: true });
        expect(JSON.stringify(listed.items[0]?.content)).toBe(jsonbOrder);
        expect(JSON.stringify((await schemas.register(input)).schema.content)).toBe(jsonbOrder);
      });

      test("an object-store row cannot carry content text", async () => {
        const s = subject("object-text");
        const error = await failure(
          schemas.register({
            ...(await schema(s, { o: 1 })),
            content: null,
            contentLocation: "object_store",
            contentKey: "schemas/o/1",
          }),
        );
        expect(error.code).toBe("internal");
        expect(await schemas.getLatest(s)).toBeNull();
      });
    });

    describe("registers checked against the subject's head", () => {
      test("a stale head is conflict (subject_changed) and writes nothing; the current head registers", async () => {
        const s = subject("head");
        const first = await schemas.register(await schema(s, { h: 1 }, { version: "1.0.0" }), {
          expectedHead: 0,
        });
        expect(first.created).toBe(true);

        const stale = await failure(
          schemas.register(await schema(s, { h: 2 }, { version: "1.1.0" }), { expectedHead: 0 }),
        );
        expect(stale.code).toBe("conflict");
        expect(stale.status).toBe(409);
        expect(stale.details).toEqual({ subject: s, reason: "subject_changed" });
        expect(stale.message).toBe(
          `subject ${s} gained a version while this register was being checked; try again`,
        );
        expect((await schemas.listVersions(s, { ...page, includeDeleted: true })).total).toBe(1);

        const second = await schemas.register(await schema(s, { h: 2 }, { version: "1.1.0" }), {
          expectedHead: first.schema.globalId,
        });
        expect(second).toMatchObject({ created: true, schema: { version: "1.1.0" } });
        expect(await schemas.stateHistory({ id: second.schema.id })).toHaveLength(1);

        // A soft-deleted row still counts: the head does not move back.
        await schemas.softDelete({ id: second.schema.id });
        const behind = await failure(
          schemas.register(await schema(s, { h: 3 }, { version: "1.2.0" }), {
            expectedHead: first.schema.globalId,
          }),
        );
        expect(behind.details).toEqual({ subject: s, reason: "subject_changed" });
        const third = await schemas.register(await schema(s, { h: 3 }, { version: "1.2.0" }), {
          expectedHead: second.schema.globalId,
        });
        expect(third.created).toBe(true);
      });

      test("the same content as a live row is found whatever head is given", async () => {
        const s = subject("head-found");
        const first = await schemas.register(await schema(s, { f: 1 }, { version: "1.0.0" }));
        await schemas.register(await schema(s, { f: 2 }, { version: "1.1.0" }));
        expect(
          await schemas.register(await schema(s, { f: 1 }, { version: "2.0.0" }), { expectedHead: 0 }),
        ).toEqual({ schema: first.schema, created: false });
      });

      test("a head that still matches does not hide a taken version", async () => {
        const s = subject("head-clash");
        const first = await schemas.register(await schema(s, { c: 1 }, { version: "1.0.0" }));
        const error = await failure(
          schemas.register(await schema(s, { c: 2 }, { version: "1.0.0" }), {
            expectedHead: first.schema.globalId,
          }),
        );
        expect(error.code).toBe("version_exists");
      });
    });

    describe("evolution context", () => {
      test("of a subject without rows: the defaults, head 0, no highest version, nothing live", async () => {
        expect(await schemas.evolutionContext(subject("void"), await hashOf({ v: 1 }), defaults)).toEqual({
          settings: defaults,
          head: 0,
          modes: { subject: null, global: null },
          highestVersion: null,
          existing: null,
          live: [],
        });
      });

      test("the newest live version alone under a non-transitive level, every live one under a transitive one", async () => {
        const s = subject("context");
        const rows = [];
        for (const [e, version, state] of [
          [1, "1.0.0", "active"],
          [2, "1.9.0", "draft"],
          [3, "1.10.0", "deprecated"],
          [4, "2.0.0", "active"],
        ] as const) {
          rows.push((await schemas.register(await schema(s, { e }, { version, state }))).schema);
        }
        // The highest version, deleted: out of `live`, still the head and the highest.
        await schemas.softDelete({ id: rows[3]!.id });
        const records = await Promise.all(rows.slice(0, 3).map((row) => schemas.getById({ id: row.id })));
        const [v100, v190, v1100] = records;

        const latestOnly = await schemas.evolutionContext(s, await hashOf({ e: 2 }), defaults);
        expect(latestOnly).toEqual({
          settings: defaults,
          head: rows[3]!.globalId,
          modes: { subject: null, global: null },
          highestVersion: "2.0.0",
          existing: v190!,
          live: [v1100!],
        });

        for (const compatibility of [
          "BACKWARD_TRANSITIVE",
          "FORWARD_TRANSITIVE",
          "FULL_TRANSITIVE",
        ] as const) {
          const transitive = await schemas.evolutionContext(s, await hashOf({ e: 9 }), {
            ...defaults,
            compatibility,
          });
          expect(transitive).toEqual({
            settings: { ...defaults, compatibility },
            head: rows[3]!.globalId,
            modes: { subject: null, global: null },
            highestVersion: "2.0.0",
            existing: null,
            live: [v1100!, v190!, v100!],
          });
        }
        for (const compatibility of ["NONE", "FORWARD", "FULL"] as const) {
          const context = await schemas.evolutionContext(s, await hashOf({ e: 9 }), {
            ...defaults,
            compatibility,
          });
          expect(context.live.map((row) => row.version)).toEqual(["1.10.0"]);
        }

        // A deleted row's content is no existing row; the subject's own level applies.
        await storage.settings.putSubject(s, { compatibility: "BACKWARD_TRANSITIVE" });
        const own = await schemas.evolutionContext(s, await hashOf({ e: 4 }), defaults);
        expect(own.existing).toBeNull();
        expect(own.settings).toEqual({ compatibility: "BACKWARD_TRANSITIVE", semverPolicy: "advise" });
        expect(own.live.map((row) => row.version)).toEqual(["1.10.0", "1.9.0", "1.0.0"]);
        await storage.settings.deleteSubject(s);
      });

      test("the head falls back when its row is deleted for good; the highest version follows", async () => {
        const s = subject("context-purge");
        const a = await schemas.register(await schema(s, { p: 1 }, { version: "1.0.0" }));
        const b = await schemas.register(await schema(s, { p: 2 }, { version: "3.0.0" }));
        const c = await schemas.register(await schema(s, { p: 3 }, { version: "2.0.0" }));
        const before = await schemas.evolutionContext(s, await hashOf({ p: 9 }), defaults);
        // The head is the newest row, not the highest version.
        expect([before.head, before.highestVersion]).toEqual([c.schema.globalId, "3.0.0"]);
        expect(before.live.map((row) => row.id)).toEqual([b.schema.id]);
        await schemas.softDelete({ id: b.schema.id });
        await schemas.permanentDelete({ id: b.schema.id });
        await schemas.softDelete({ id: c.schema.id });
        await schemas.permanentDelete({ id: c.schema.id });
        const after = await schemas.evolutionContext(s, await hashOf({ p: 9 }), defaults);
        expect(after).toMatchObject({ head: a.schema.globalId, highestVersion: "1.0.0" });
        expect(after.live.map((row) => row.id)).toEqual([a.schema.id]);
      });

      test("inside a transaction, sees the transaction's own rows", async () => {
        const s = subject("context-tx");
        await schemas.transaction(async (tx) => {
          const { schema: row } = await tx.schemas.register(await schema(s, { t: 1 }));
          const context = await tx.schemas.evolutionContext(s, row.contentHash, defaults);
          expect(context.head).toBe(row.globalId);
          expect(context.existing?.id).toBe(row.id);
        });
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

      test("q finds a subject by its words (split at dots and camelCase); the subject itself ranks first", async () => {
        const words = await storage.search.search({ ...base(), q: "completion request" });
        expect(found(words.items).sort()).toEqual(["chat", "chat2"]);
        const typedAsOne = await storage.search.search({ ...base(), q: "CompletionRequest" });
        expect(found(typedAsOne.items).sort()).toEqual(["chat", "chat2"]);
        const whole = await storage.search.search({ ...base(), q: `${prefix}.embeddings.Request` });
        expect(found(whole.items)[0]).toBe("embed");
        expect(whole.items[0]?.score).toBe(1);
        expect(whole.totalExact).toBeUndefined();
      });

      test("a word no schema contains is read as the closest known words", async () => {
        // "embedings" is in no document; "embeddings" and "embedding" are.
        const typo = await storage.search.search({ ...base(), q: "embedings" });
        expect(found(typo.items)).toEqual(["embed"]);
        // A known word is taken as it is, even when it finds little.
        expect((await storage.search.search({ ...base(), q: "joined" })).total).toBe(1);
        // Text that matches nothing, close to nothing, stays empty.
        expect((await storage.search.search({ ...base(), q: "qqqqzzzz wwwwxxxx" })).total).toBe(0);
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
          contentText: null,
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

      test("concurrent registers of different content at one version: one row, every other one version_exists", async () => {
        const s = subject("race-version");
        const inputs = await Promise.all(
          Array.from({ length: 10 }, (_, i) => schema(s, { i }, { version: "1.0.0" })),
        );
        const settled = await Promise.allSettled(inputs.map((input) => schemas.register(input)));
        expect(settled.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        const refused = settled.flatMap((o) => (o.status === "rejected" ? [o.reason as RegistryError] : []));
        expect(refused.map((error) => error.code)).toEqual(Array(9).fill("version_exists"));
        expect((await schemas.listVersions(s, { ...page, includeDeleted: true })).total).toBe(1);
      });

      test(`${n} concurrent registers checked against the same head: exactly one wins`, async () => {
        const s = subject("race-head");
        const base = await schemas.register(await schema(s, { r: 0 }, { version: "1.0.0" }));
        const head = (await schemas.evolutionContext(s, base.schema.contentHash, defaults)).head;
        expect(head).toBe(base.schema.globalId);
        // Distinct content and versions: only the head can decide between them.
        const inputs = await Promise.all(
          Array.from({ length: n }, (_, i) => schema(s, { r: i + 1 }, { version: `1.${i + 1}.0` })),
        );
        const settled = await Promise.allSettled(
          inputs.map((input) => schemas.register(input, { expectedHead: head })),
        );
        const won = settled.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
        expect(won).toHaveLength(1);
        expect(won[0]?.created).toBe(true);
        const refused = settled.flatMap((o) => (o.status === "rejected" ? [o.reason as RegistryError] : []));
        expect(refused).toHaveLength(n - 1);
        for (const error of refused) {
          expect(error.code).toBe("conflict");
          expect(error.details).toEqual({ subject: s, reason: "subject_changed" });
        }
        const listed = await schemas.listVersions(s, { ...page, includeDeleted: true });
        expect(listed.items.map((r) => r.id)).toEqual([won[0]!.schema.id, base.schema.id]);
      });
    });

    describe("Confluent identity", () => {
      test("one content id per content and references, under any subject; integer versions count per subject", async () => {
        const a = subject("ids.a");
        const b = subject("ids.b");
        const first = await schemas.register(await schema(a, { title: "ids-1" }));
        const second = await schemas.register(await schema(a, { title: "ids-2" }));
        const elsewhere = await schemas.register(await schema(b, { title: "ids-1" }));
        expect(first.schema.subjectVersion).toBe(1);
        expect(second.schema.subjectVersion).toBe(2);
        expect(elsewhere.schema.subjectVersion).toBe(1);
        expect(elsewhere.schema.contentId).toBe(first.schema.contentId);
        expect(second.schema.contentId).not.toBe(first.schema.contentId);
        // The same content with references is another schema id.
        const references = [{ name: "ids.json", subject: a, version: 1 }];
        const referencing = await schemas.register({
          ...(await schema(b, { title: "ids-1" })),
          version: "2.0.0",
          references,
        });
        expect(referencing.created).toBe(true);
        expect(referencing.schema.references).toEqual(references);
        expect(referencing.schema.contentId).not.toBe(first.schema.contentId);
        expect(referencing.schema.subjectVersion).toBe(2);

        const identity = storage.identity;
        const byId = await identity.byContentId(first.schema.contentId);
        expect(byId?.contentId).toBe(first.schema.contentId);
        expect(byId?.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
        expect((await identity.byContentId(first.schema.contentId, { subject: b }))?.subject).toBe(b);
        expect((await identity.byGuid(byId!.guid))?.contentId).toBe(first.schema.contentId);
        expect(await identity.byContentId(987_654_321)).toBeNull();
        expect(await identity.usagesOfContent(first.schema.contentId)).toEqual([
          ...[
            { subject: a, version: 1, deleted: false },
            { subject: b, version: 1, deleted: false },
          ].sort((x, y) => (x.subject < y.subject ? -1 : 1)),
        ]);
        expect((await identity.bySubjectVersion(a, 2))?.id).toBe(second.schema.id);
        expect((await identity.latestOfSubject(a))?.subjectVersion).toBe(2);
        const found = await identity.findInSubject(b, "json", first.schema.contentHash, references);
        expect(found?.id).toBe(referencing.schema.id);
        expect((await identity.findInSubject(b, "json", first.schema.contentHash, []))?.id).toBe(
          elsewhere.schema.id,
        );
        expect(await identity.referencedBy(a, 1)).toEqual([referencing.schema.contentId]);
        expect(await identity.referencedBy(a, 2)).toEqual([]);
      });

      test("versions keep counting after soft deletes and restart only when every row is gone", async () => {
        const s = subject("ids.count");
        const one = await schemas.register(await schema(s, { title: "count-1" }));
        const two = await schemas.register(await schema(s, { title: "count-2" }));
        await schemas.softDelete({ id: two.schema.id });
        expect(await storage.identity.subjectVersions(s)).toEqual([
          { version: 1, deleted: false },
          { version: 2, deleted: true },
        ]);
        const three = await schemas.register(await schema(s, { title: "count-3" }));
        expect(three.schema.subjectVersion).toBe(3);
        expect(await storage.identity.bySubjectVersion(s, 2)).toBeNull();
        expect((await storage.identity.bySubjectVersion(s, 2, { includeDeleted: true }))?.id).toBe(
          two.schema.id,
        );

        const soft = await storage.identity.deleteSubject(s, { permanent: false });
        expect(soft.map((r) => r.subjectVersion)).toEqual([1, 3]);
        expect(await storage.identity.subjectNames({ prefix: s })).toEqual([]);
        expect(await storage.identity.subjectNames({ prefix: s, deletedOnly: true })).toEqual([s]);
        expect(await storage.identity.subjectNames({ prefix: s, includeDeleted: true })).toEqual([s]);
        const gone = await storage.identity.deleteSubject(s, { permanent: true });
        expect(gone.map((r) => r.subjectVersion)).toEqual([1, 2, 3]);
        expect(await storage.identity.subjectVersions(s)).toEqual([]);
        const again = await schemas.register(await schema(s, { title: "count-4" }));
        expect(again.schema.subjectVersion).toBe(1);
        // The content id outlives its rows: the same content gets it back.
        const back = await schemas.register(await schema(s, { title: "count-1" }));
        expect(back.schema.contentId).toBe(one.schema.contentId);
      });

      test("a referenced version cannot be deleted, soft or permanently, alone or with its subject", async () => {
        const base = subject("refs.base");
        const user = subject("refs.user");
        const target = await schemas.register(await schema(base, { title: "refs-base" }));
        await schemas.register({
          ...(await schema(user, { title: "refs-user" })),
          references: [{ name: "base.json", subject: base, version: 1 }],
        });
        // One after the other: both at once would leave the second's refusal unawaited for a while.
        for (const attempt of [
          () => schemas.softDelete({ id: target.schema.id }),
          () => storage.identity.deleteSubject(base, { permanent: false }),
        ]) {
          const error = await failure(attempt());
          expect(error.code).toBe("conflict");
          expect(error.details).toMatchObject({ resource: "reference", subject: base });
        }
        expect((await schemas.getById({ id: target.schema.id }))?.deletedAt).toBeNull();
      });

      test("a register naming a version that is gone (soft-deleted or missing) is refused under the lock", async () => {
        const base = subject("refs.gone");
        const gone = await schemas.register(await schema(base, { title: "refs-gone" }));
        await schemas.softDelete({ id: gone.schema.id });
        for (const version of [1, 2]) {
          const error = await failure(
            schemas.register({
              ...(await schema(subject("refs.late"), { title: `refs-late-${version}` })),
              references: [{ name: "gone.json", subject: base, version }],
            }),
          );
          expect(error.code).toBe("invalid_schema");
          expect(error.details).toMatchObject({ resource: "reference" });
        }
      });

      test("lists schemas by prefix, every version or the latest, paged", async () => {
        const prefix = subject("list");
        const s1 = `${prefix}.a`;
        const s2 = `${prefix}.b`;
        await schemas.register(await schema(s1, { title: "l-1" }));
        await schemas.register(await schema(s1, { title: "l-2" }));
        await schemas.register(await schema(s2, { title: "l-3" }));
        const all = await storage.identity.listSchemas({ prefix, offset: 0, limit: 100 });
        expect(all.map((r) => [r.subject, r.subjectVersion])).toEqual([
          [s1, 1],
          [s1, 2],
          [s2, 1],
        ]);
        const latest = await storage.identity.listSchemas({
          prefix,
          latestOnly: true,
          offset: 0,
          limit: 100,
        });
        expect(latest.map((r) => [r.subject, r.subjectVersion])).toEqual([
          [s1, 2],
          [s2, 1],
        ]);
        const paged = await storage.identity.listSchemas({ prefix, offset: 1, limit: 1 });
        expect(paged.map((r) => [r.subject, r.subjectVersion])).toEqual([[s1, 2]]);
      });

      test("IMPORT keeps the id and version given; an id of other content, or a taken version, is refused", async () => {
        const s = subject("import");
        const id = 1_000_000 + Math.floor(Math.random() * 1_000_000);
        const imported = await schemas.register({
          ...(await schema(s, { title: `import-${id}` })),
          contentId: id,
          subjectVersion: 7,
        });
        expect([imported.schema.contentId, imported.schema.subjectVersion]).toEqual([id, 7]);
        const clash = await failure(
          schemas.register({
            ...(await schema(s, { title: `other-${id}` })),
            contentId: id,
            subjectVersion: 8,
          }),
        );
        expect(clash.details).toMatchObject({ resource: "schema" });
        const taken = await failure(
          schemas.register({
            ...(await schema(s, { title: `third-${id}` })),
            contentId: id + 1,
            subjectVersion: 7,
          }),
        );
        expect(taken.code).toBe("version_exists");
        // Ids handed out afterwards pass the imported one.
        const next = await schemas.register(await schema(s, { title: `after-${id}` }));
        expect(next.schema.contentId).toBeGreaterThan(id);
        expect(next.schema.subjectVersion).toBe(8);
      });

      test("modes: a subject's own, cleared; a mode-only row is no evolution setting; the global one set and reset", async () => {
        const s = subject("modes");
        const settings = storage.settings;
        expect(await settings.getSubjectMode(s)).toBeNull();
        expect(await settings.putSubjectMode(s, "READONLY")).toBeNull();
        expect(await settings.getSubjectMode(s)).toBe("READONLY");
        expect((await settings.getModes(s)).subject).toBe("READONLY");
        expect((await settings.getModes(null)).subject).toBeNull();
        expect(await settings.getSubject(s)).toBeNull();
        await settings.putSubject(s, { compatibility: "FULL" });
        expect(await settings.deleteSubject(s)).toEqual({ compatibility: "FULL" });
        expect(await settings.getSubjectMode(s)).toBe("READONLY");
        expect(await settings.putSubjectMode(s, null)).toBe("READONLY");
        expect(await settings.getSubjectMode(s)).toBeNull();
        await settings.putSubject(s, { compatibility: "NONE", semverPolicy: "enforce" });
        expect(await settings.clearSubjectCompatibility(s)).toBe("NONE");
        expect(await settings.getSubject(s)).toEqual({ semverPolicy: "enforce" });
        expect(await settings.clearSubjectCompatibility(s)).toBeNull();

        const before = await settings.getGlobalMode();
        await settings.putGlobalMode("READONLY_OVERRIDE");
        expect(await settings.getGlobalMode()).toBe("READONLY_OVERRIDE");
        expect(await settings.getModes(s)).toEqual({ subject: null, global: "READONLY_OVERRIDE" });
        expect(await settings.putGlobalMode(before)).toBe("READONLY_OVERRIDE");
        expect(await settings.getGlobalMode()).toBe(before);
      });
    });

    // Last: the global settings these tests set cannot be taken back, and the
    // evolution-context tests above expect none.
    describe("evolution settings", () => {
      test("a subject's settings: none, then put merges field by field, delete answers what they were", async () => {
        const s = subject("settings");
        const settings = storage.settings;
        expect(await settings.getSubject(s)).toBeNull();
        expect(await settings.deleteSubject(s)).toBeNull();
        expect(await settings.putSubject(s, { compatibility: "FULL" })).toEqual({ compatibility: "FULL" });
        expect(await settings.getSubject(s)).toEqual({ compatibility: "FULL" });
        expect(await settings.putSubject(s, { semverPolicy: "enforce" })).toEqual({
          compatibility: "FULL",
          semverPolicy: "enforce",
        });
        expect(await settings.putSubject(s, { compatibility: "NONE", semverPolicy: undefined })).toEqual({
          compatibility: "NONE",
          semverPolicy: "enforce",
        });
        expect(await settings.getSubject(s)).toEqual({ compatibility: "NONE", semverPolicy: "enforce" });
        // Another subject's settings are its own.
        expect(await settings.getSubject(subject("settings-other"))).toBeNull();

        const invalid = await failure(
          settings.putSubject(s, { compatibility: "SIDEWAYS" as CompatibilityLevel, semverPolicy: "advise" }),
        );
        expect(invalid.code).toBe("invalid_request");
        expect(invalid.details).toEqual({ field: "compatibility" });
        const policy = await failure(settings.putSubject(s, { semverPolicy: "loose" as SemverPolicy }));
        expect(policy.details).toEqual({ field: "semverPolicy" });
        expect((await failure(settings.putSubject("", { compatibility: "FULL" }))).code).toBe(
          "invalid_request",
        );
        expect(await settings.getSubject(s)).toEqual({ compatibility: "NONE", semverPolicy: "enforce" });

        expect(await settings.deleteSubject(s)).toEqual({ compatibility: "NONE", semverPolicy: "enforce" });
        expect(await settings.getSubject(s)).toBeNull();
        expect(await settings.deleteSubject(s)).toBeNull();
      });

      test("global settings, and the evolution context's settings: subject over global over defaults, per field", async () => {
        const settings = storage.settings;
        const s = subject("precedence");
        const bare = subject("precedence-bare");
        const hash = await hashOf({ p: 1 });
        const effective = async (name: string) =>
          (await schemas.evolutionContext(name, hash, defaults)).settings;

        expect(await settings.getGlobal()).toEqual({});
        expect(await effective(s)).toEqual(defaults);

        expect(await settings.putGlobal({ compatibility: "FULL" })).toEqual({ compatibility: "FULL" });
        expect(await effective(s)).toEqual({ compatibility: "FULL", semverPolicy: "advise" });

        await settings.putSubject(s, { semverPolicy: "enforce" });
        expect(await effective(s)).toEqual({ compatibility: "FULL", semverPolicy: "enforce" });
        await settings.putSubject(s, { compatibility: "NONE" });
        expect(await effective(s)).toEqual({ compatibility: "NONE", semverPolicy: "enforce" });
        expect(await effective(bare)).toEqual({ compatibility: "FULL", semverPolicy: "advise" });

        expect(await settings.putGlobal({ semverPolicy: "enforce" })).toEqual({
          compatibility: "FULL",
          semverPolicy: "enforce",
        });
        const refused = await failure(settings.putGlobal({ compatibility: "ALL" as CompatibilityLevel }));
        expect(refused.code).toBe("invalid_request");
        expect(await settings.getGlobal()).toEqual({ compatibility: "FULL", semverPolicy: "enforce" });

        await settings.deleteSubject(s);
        expect(await effective(s)).toEqual({ compatibility: "FULL", semverPolicy: "enforce" });
        expect(await effective(bare)).toEqual({ compatibility: "FULL", semverPolicy: "enforce" });
      });
    });
  });
}

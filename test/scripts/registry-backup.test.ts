/**
 * scripts/registry-export.ts and scripts/registry-import.ts, run as a user
 * runs them: one registry process on a fresh PostgreSQL database is filled
 * through the Confluent API (JSON Schema, Avro and Protobuf subjects,
 * references, ids burned by a permanent delete, an id shared by two subjects, a subject whose id order differs
 * from its version order, soft-deleted versions and a soft-deleted subject,
 * settings and a mode), exported to a file, and imported into a second
 * registry on another fresh database. Everything either registry answers
 * through the Confluent API must then be the same: every subject, version,
 * id, schema text byte for byte, reference, deletion, setting and mode.
 *
 * The replay order and the file checks run without a server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayOrder, type SchemaLine } from "../../scripts/registry-export.ts";
import { parseExport } from "../../scripts/registry-import.ts";
import {
  type RegistryProcess,
  requireConfluentApi,
  startRegistryProcess,
} from "../clients/registry-process.ts";
import { postgresAvailable } from "../support/database.ts";
import { runScript } from "../support/run-script.ts";

function schemaLine(subject: string, version: number, id: number, references: SchemaLine["references"] = []) {
  return { kind: "schema", subject, version, id, schemaType: "AVRO", schema: "{}", references } as SchemaLine;
}

const names = (lines: SchemaLine[]) => lines.map((line) => `${line.subject}@${line.version}`);

describe("the export's replay order", () => {
  test("ascending ids when nothing references anything", () => {
    const lines = [schemaLine("b", 1, 3), schemaLine("a", 1, 1), schemaLine("c", 1, 2)];
    expect(names(replayOrder(lines))).toEqual(["a@1", "c@1", "b@1"]);
  });

  test("a referenced version comes before its referrer, whatever their ids", () => {
    const lines = [
      schemaLine("order", 1, 1, [{ name: "money.proto", subject: "money", version: 2 }]),
      schemaLine("money", 1, 2),
      schemaLine("money", 2, 3),
      schemaLine("other", 1, 4),
    ];
    expect(names(replayOrder(lines))).toEqual(["money@1", "money@2", "order@1", "other@1"]);
  });

  test("a subject's versions keep their order when a later version has a lower id (content shared with another subject)", () => {
    const lines = [schemaLine("a", 1, 1), schemaLine("b", 1, 5), schemaLine("b", 2, 1)];
    expect(names(replayOrder(lines))).toEqual(["a@1", "b@1", "b@2"]);
  });

  test("a reference cycle is an error naming the versions in it", () => {
    const lines = [
      schemaLine("a", 1, 1, [{ name: "b", subject: "b", version: 1 }]),
      schemaLine("b", 1, 2, [{ name: "a", subject: "a", version: 1 }]),
    ];
    expect(() => replayOrder(lines)).toThrow(/cycle through a v1, b v1/);
  });

  test("the import refuses a file that is not an export, naming the line", () => {
    expect(() => parseExport('{"subject":"a"}\n')).toThrow(/not the header/);
    expect(() =>
      parseExport('{"kind":"header","format":"schema-registry-export","formatVersion":1}\nnot json\n'),
    ).toThrow(/line 2 is not JSON/);
  });
});

const available = await postgresAvailable();

async function call(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: { "Content-Type": "application/vnd.schemaregistry.v1+json" },
        }),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, body: json as never };
}

/** A call that must succeed: the failure names the request and the answer. */
async function ok<T = never>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await call(url, method, path, body);
  if (answer.status !== 200) {
    throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body as T;
}

const s = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

/** Everything a Confluent client can read of a registry, in a stable order. */
async function observe(url: string) {
  const subjects = ((await ok<string[]>(url, "GET", "/subjects?deleted=true")) as string[]).sort();
  const versions: Record<string, unknown> = {};
  const ids = new Set<number>();
  for (const subject of subjects) {
    const all = await ok<number[]>(url, "GET", `${s(subject)}/versions?deleted=true`);
    const liveAnswer = await call(url, "GET", `${s(subject)}/versions`);
    const live = liveAnswer.status === 200 ? (liveAnswer.body as number[]) : [];
    for (const version of all) {
      const v = await ok<Record<string, unknown>>(
        url,
        "GET",
        `${s(subject)}/versions/${version}?deleted=true`,
      );
      ids.add(v.id as number);
      versions[`${subject}@${version}`] = {
        id: v.id,
        version: v.version,
        schemaType: v.schemaType ?? "AVRO",
        schema: v.schema,
        references: v.references ?? [],
        deleted: !live.includes(version),
      };
    }
  }
  const byId: Record<number, unknown> = {};
  for (const id of [...ids].sort((a, b) => a - b)) {
    const schema = await ok<Record<string, unknown>>(url, "GET", `/schemas/ids/${id}`);
    byId[id] = {
      schema: schema.schema,
      schemaType: schema.schemaType ?? "AVRO",
      references: schema.references ?? [],
    };
  }
  const configs: Record<string, unknown> = { "": await ok(url, "GET", "/config") };
  const modes: Record<string, unknown> = { "": await ok(url, "GET", "/mode") };
  for (const subject of subjects) {
    const config = await call(url, "GET", `/config/${encodeURIComponent(subject)}`);
    configs[subject] = config.status === 200 ? config.body : config.status;
    const mode = await call(url, "GET", `/mode/${encodeURIComponent(subject)}`);
    modes[subject] = mode.status === 200 ? mode.body : mode.status;
  }
  return { subjects, versions, byId, configs, modes };
}

const avroRecord = (name: string, fields: Record<string, unknown>[]) =>
  JSON.stringify({ type: "record", name, namespace: "com.example.backup", fields });

/** Fills a registry with every kind of thing an export must carry. */
async function seed(url: string): Promise<void> {
  // Ids burned first (registered, then permanently deleted): the source's ids are not the ones a
  // fresh registry would hand out, so a target that numbered the imports itself could not match.
  for (const n of [1, 2]) {
    await ok(url, "POST", `${s("burned-value")}/versions`, {
      schemaType: "JSON",
      schema: `{"type":"object","properties":{"burned${n}":{"type":"string"}}}`,
    });
  }
  await ok(url, "DELETE", s("burned-value"));
  await ok(url, "DELETE", `${s("burned-value")}?permanent=true`);

  // JSON Schema, three versions, the second soft-deleted.
  await ok(url, "PUT", "/config/orders-value", { compatibility: "NONE" });
  for (const n of [1, 2, 3]) {
    await ok(url, "POST", `${s("orders-value")}/versions`, {
      schemaType: "JSON",
      // Spacing and key order as a user wrote them: the copy must keep the bytes.
      schema: `{"type":"object",  "properties":{"id":{"type":"string"},"f${n}":{"type":"integer"}},"required":["id"]}`,
    });
  }
  await ok(url, "DELETE", `${s("orders-value")}/versions/2`);

  // Avro, two compatible versions; the first also under a second subject (one id, two subjects).
  const payment1 = avroRecord("Payment", [{ name: "id", type: "string" }]);
  await ok(url, "POST", `${s("payments-value")}/versions`, { schema: payment1 });
  await ok(url, "POST", `${s("payments-value")}/versions`, {
    schema: avroRecord("Payment", [
      { name: "id", type: "string" },
      { name: "amount", type: "long", default: 0 },
    ]),
  });
  await ok(url, "POST", `${s("payments-copy")}/versions`, { schema: payment1 });

  // A subject whose second version reuses an older id: its id order is not its version order.
  await ok(url, "PUT", "/config/mixed-value", { compatibility: "NONE" });
  await ok(url, "POST", `${s("mixed-value")}/versions`, {
    schema: avroRecord("Mixed", [{ name: "x", type: "int" }]),
  });
  await ok(url, "POST", `${s("mixed-value")}/versions`, { schema: payment1 });

  // Avro references.
  await ok(url, "POST", `${s("com.example.backup.Address")}/versions`, {
    schema: avroRecord("Address", [{ name: "street", type: "string" }]),
  });
  await ok(url, "POST", `${s("customers-value")}/versions`, {
    schema: avroRecord("Customer", [
      { name: "name", type: "string" },
      { name: "address", type: "com.example.backup.Address" },
    ]),
    references: [{ name: "com.example.backup.Address", subject: "com.example.backup.Address", version: 1 }],
  });

  // Protobuf with an import, the imported file under a subject named by its path.
  await ok(url, "POST", `${s("shop/money.proto")}/versions`, {
    schemaType: "PROTOBUF",
    schema:
      'syntax = "proto3";\npackage shop;\n\nmessage Money {\n  string currency = 1;\n  int64 cents = 2;\n}\n',
  });
  await ok(url, "POST", `${s("shop.order-value")}/versions`, {
    schemaType: "PROTOBUF",
    schema:
      'syntax = "proto3";\npackage shop;\n\nimport "shop/money.proto";\n\n' +
      "message Order {\n  string id = 1;\n  shop.Money total = 2;\n}\n",
    references: [{ name: "shop/money.proto", subject: "shop/money.proto", version: 1 }],
  });

  // A subject soft-deleted as a whole.
  await ok(url, "POST", `${s("retired-value")}/versions`, {
    schemaType: "JSON",
    schema: '{"type":"object","properties":{"old":{"type":"boolean"}}}',
  });
  await ok(url, "DELETE", s("retired-value"));

  // Settings and a mode.
  await ok(url, "PUT", "/config/payments-value", { compatibility: "FULL_TRANSITIVE" });
  await ok(url, "PUT", "/mode/customers-value", { mode: "READONLY" });
  await ok(url, "PUT", "/config", { compatibility: "FORWARD" });
}

describe.skipIf(!available)("exporting a registry and importing it into another", () => {
  let source: RegistryProcess;
  let target: RegistryProcess;
  let workdir: string;
  let file: string;
  let exported: Awaited<ReturnType<typeof runScript>>;
  let imported: Awaited<ReturnType<typeof runScript>>;

  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), "registry-backup-"));
    file = join(workdir, "registry.jsonl");
    [source, target] = await Promise.all([startRegistryProcess(), startRegistryProcess()]);
    await requireConfluentApi(source.url);
    await seed(source.url);
    exported = await runScript("scripts/registry-export.ts", ["--url", source.url, "--out", file]);
    imported = await runScript("scripts/registry-import.ts", ["--url", target.url, "--in", file]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  test("the export succeeds and says what it wrote", () => {
    expect(exported.stderr).toContain("exported 13 versions (2 soft-deleted) of 9 subjects");
    expect(exported.code).toBe(0);
  });

  test("the file lists referenced versions before their referrers, each subject's versions in order", async () => {
    const data = parseExport(await Bun.file(file).text());
    expect(Math.min(...data.schemas.map((line) => line.id))).toBeGreaterThan(2);
    const position = new Map(data.schemas.map((line, index) => [`${line.subject}@${line.version}`, index]));
    for (const [index, line] of data.schemas.entries()) {
      for (const reference of line.references) {
        expect(position.get(`${reference.subject}@${reference.version}`)!).toBeLessThan(index);
      }
      if (line.version > 1 && position.has(`${line.subject}@${line.version - 1}`)) {
        expect(position.get(`${line.subject}@${line.version - 1}`)!).toBeLessThan(index);
      }
    }
    expect(
      data.schemas.filter((line) => line.deleted).map((line) => `${line.subject}@${line.version}`),
    ).toEqual(expect.arrayContaining(["orders-value@2", "retired-value@1"]));
    expect(data.configs).toContainEqual(
      expect.objectContaining({ subject: "payments-value", compatibilityLevel: "FULL_TRANSITIVE" }),
    );
    expect(data.modes).toContainEqual({ kind: "mode", subject: "customers-value", mode: "READONLY" });
  });

  test("the import succeeds, and the target answers exactly what the source answers", async () => {
    expect(imported.stderr).toContain("imported 13 versions (2 soft-deleted) of 9 subjects");
    expect(imported.code).toBe(0);
    const [before, after] = await Promise.all([observe(source.url), observe(target.url)]);
    expect(after.subjects).toEqual(before.subjects);
    expect(after.versions).toEqual(before.versions);
    expect(after.byId).toEqual(before.byId);
    expect(after.configs).toEqual(before.configs);
    expect(after.modes).toEqual(before.modes);
    expect((await ok<{ mode: string }>(target.url, "GET", "/mode")).mode).toBe("READWRITE");
  });

  test("a schema registered on the target afterwards gets an id none of the imported ones has", async () => {
    const { byId } = await observe(target.url);
    const { id } = await ok<{ id: number }>(target.url, "POST", `${s("after-import-value")}/versions`, {
      schemaType: "JSON",
      schema: '{"type":"object","properties":{"fresh":{"type":"string"}}}',
    });
    expect(Object.keys(byId).map(Number)).not.toContain(id);
    expect(id).toBeGreaterThan(Math.max(...Object.keys(byId).map(Number)));
  });

  test("a second import into the non-empty target is refused, and with --force restores what it holds", async () => {
    const before = await observe(target.url);
    const refused = await runScript("scripts/registry-import.ts", ["--url", target.url, "--in", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds \d+ subject\(s\).*--force/);

    // A READONLY subject refuses even a version it already holds; the import puts the mode back itself.
    await ok(target.url, "DELETE", "/mode/customers-value");
    const forced = await runScript("scripts/registry-import.ts", [
      "--url",
      target.url,
      "--in",
      file,
      "--force",
    ]);
    expect(forced.stderr).toContain("imported 13 versions");
    expect(forced.code).toBe(0);
    expect(await observe(target.url)).toEqual(before);
  });
});

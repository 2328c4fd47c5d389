/** Cached entries: both serializers round-trip; anything that does not decode or check out is a miss. */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { msgpackSerializer } from "../../bench/cache/msgpack-serializer.ts";
import { createKeyNamespace } from "../../src/cache/keys.ts";
import { decodeEntry, encodeEntry } from "../../src/cache/serializers/entry-codec.ts";
import { jsonSerializer } from "../../src/cache/serializers/json-serializer.ts";

const record = {
  id: "5f0c7a7e-8d0b-4c3e-9d7a-2b1f0e6c9a11",
  globalId: 17,
  content: { type: "object", properties: { name: { type: "string", description: "ünïcødé ✓" } } },
  createdAt: "2026-11-25T10:00:00.000Z",
};

describe.each([jsonSerializer, msgpackSerializer])("serializer %#", (serializer) => {
  test("round-trips values and negative entries", () => {
    expect(decodeEntry(serializer, encodeEntry(serializer, record))).toEqual({ value: record });
    expect(decodeEntry(serializer, encodeEntry(serializer, null))).toEqual({ value: null });
    expect(decodeEntry(serializer, encodeEntry(serializer, "text"))).toEqual({ value: "text" });
    expect(decodeEntry(serializer, encodeEntry(serializer, 0))).toEqual({ value: 0 });
  });

  test("garbage and wrong shapes decode to a miss, not an exception", () => {
    for (const text of [
      "",
      "not json {",
      "\u0000\u0001",
      "eyJ4IjoxfQ==",
      '{"x":1}',
      '{"d":null}',
      '{"n":2}',
    ]) {
      expect(decodeEntry(serializer, text)).toBeUndefined();
    }
    expect(decodeEntry(serializer, serializer.encode({ d: 1, extra: true }))).toBeUndefined();
  });

  test("a value failing the caller's schema is a miss; a passing one is transformed", () => {
    const schema = v.object({
      id: v.pipe(v.string(), v.uuid()),
      globalId: v.number(),
      content: v.unknown(),
      createdAt: v.pipe(
        v.string(),
        v.isoTimestamp(),
        v.transform((s) => new Date(s)),
      ),
    });
    const decoded = decodeEntry(serializer, encodeEntry(serializer, record), schema);
    expect(decoded?.value?.createdAt).toEqual(new Date("2026-11-25T10:00:00.000Z"));
    expect(
      decodeEntry(serializer, encodeEntry(serializer, { ...record, globalId: "17" }), schema),
    ).toBeUndefined();
  });
});

test("msgpack entries decode in a process that never saw their structures", async () => {
  const text = msgpackSerializer.encode({ d: record });
  const other = Bun.spawnSync([
    process.execPath,
    "-e",
    `import { msgpackSerializer } from "${import.meta.dir}/../../bench/cache/msgpack-serializer.ts";
     console.log(JSON.stringify(msgpackSerializer.decode(${JSON.stringify(text)})));`,
  ]);
  expect(JSON.parse(other.stdout.toString())).toEqual({ d: record });
});

test("key namespaces separate prefixes, format versions and serializers", () => {
  const a = createKeyNamespace("registry", "j", 1);
  expect(a.full("schema:id:1")).toBe("registry:v1.j:schema:id:1");
  const others = [
    createKeyNamespace("other", "j", 1),
    createKeyNamespace("registry", "j", 2),
    createKeyNamespace("registry", "m", 1),
  ];
  for (const ns of others) expect(ns.full("schema:id:1")).not.toBe(a.full("schema:id:1"));
});

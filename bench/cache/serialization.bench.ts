/**
 * Serialization bench: JSON against MessagePack (msgpackr) on JSON-Schema-shaped
 * schema records of about 1 KB, 20 KB and 500 KB, encode and decode. L2 holds
 * text (see src/cache/serializers/serializer.ts), so msgpack is measured both as
 * raw bytes and as the base64 text it would be stored as. Prints sizes and, per
 * group, mitata's summary ratios from the same run.
 *
 * Run: ./node_modules/.bin/bun bench/cache/serialization.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { jsonSerializer } from "../../src/cache/serializers/json-serializer.ts";
import { msgpackBytes, msgpackSerializer } from "./msgpack-serializer.ts";
import { schemaRecordOfSize } from "./payloads.ts";

const sizes = [
  ["small ~1 KB", 1_024],
  ["medium ~20 KB", 20_480],
  ["large ~500 KB", 512_000],
] as const;

console.log("payload sizes (bytes): json | msgpack | msgpack as base64 text");
for (const [label, target] of sizes) {
  const record = schemaRecordOfSize(target, 7);
  const json = jsonSerializer.encode(record).length;
  const mp = msgpackBytes.encode(record).length;
  const mp64 = msgpackSerializer.encode(record).length;
  console.log(
    `  ${label.padEnd(14)} ${json} | ${mp} (${(mp / json).toFixed(2)}x) | ${mp64} (${(mp64 / json).toFixed(2)}x)`,
  );
}

for (const [label, target] of sizes) {
  const record = schemaRecordOfSize(target, 7);
  const jsonText = jsonSerializer.encode(record);
  const mpBytes = msgpackBytes.encode(record);
  const mpText = msgpackSerializer.encode(record);

  group(`encode ${label}`, () => {
    summary(() => {
      bench("json", () => do_not_optimize(jsonSerializer.encode(record)));
      bench("msgpack bytes", () => do_not_optimize(msgpackBytes.encode(record)));
      bench("msgpack base64 (L2 form)", () => do_not_optimize(msgpackSerializer.encode(record)));
    });
  });
  group(`decode ${label}`, () => {
    summary(() => {
      bench("json", () => do_not_optimize(jsonSerializer.decode(jsonText)));
      bench("msgpack bytes", () => do_not_optimize(msgpackBytes.decode(mpBytes)));
      bench("msgpack base64 (L2 form)", () => do_not_optimize(msgpackSerializer.decode(mpText)));
    });
  });
}

await run();

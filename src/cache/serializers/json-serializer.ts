/**
 * JSON serializer: the default, chosen on bench/cache/serialization.bench.ts
 * (JSON-Schema-shaped records of ~1 KB, ~20 KB, ~500 KB; Bun 1.4, 2 shared
 * cores, indicative). JSON.stringify/JSON.parse beat msgpackr everywhere:
 * encode 4.5-5.3x (small), 2.7-5.2x (medium), 4.4-5.4x (large) faster;
 * decode 7-11x, 5-6x, 2.0-2.3x faster. MessagePack is 11-33 % smaller as raw
 * bytes, but L2 holds text (see serializer.ts), and as base64 text it is 19 %
 * larger at 1 KB and only 10 % smaller at 20-500 KB. Speed on every read that
 * misses L1 outweighs a tenth of the bytes.
 */
import type { Serializer } from "./serializer.ts";

export const jsonSerializer: Serializer = {
  id: "j",
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text),
};

/**
 * JSON serializer: the default. bench/cache/serialization.bench.ts measured it
 * against MessagePack on small, medium and large JSON-Schema-shaped payloads;
 * on Bun, JSON.stringify/JSON.parse beat msgpackr once msgpackr's bytes are
 * made text (base64) for L2, and the base64 text is larger than the JSON too.
 * See the figures in the bench's header and in the cache README section.
 */
import type { Serializer } from "./serializer.ts";

export const jsonSerializer: Serializer = {
  id: "j",
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text),
};

/**
 * A MessagePack serializer (msgpackr) for L2, stored as base64 text (see
 * src/cache/serializers/serializer.ts for why L2 holds text): the candidate the
 * serialization bench measures against JSON. It keeps Dates as Dates, which
 * JSON does not, but JSON is faster and smaller once the base64 step is
 * counted, so the registry ships JSON only and this lives with the bench.
 */
import { Packr } from "msgpackr";
import type { Serializer } from "../../src/cache/serializers/serializer.ts";

// Uint8Array base64 helpers are in Bun and Deno but not yet in TypeScript's lib.
interface Base64Bytes extends Uint8Array {
  toBase64(): string;
}
interface Base64BytesConstructor {
  fromBase64(text: string): Uint8Array;
}

// Self-describing records: every message carries its own structure
// definitions, so instances that never shared state decode each other's entries.
const packr = new Packr({ useRecords: true, moreTypes: false });

export const msgpackSerializer: Serializer = {
  id: "m",
  encode: (value) => (packr.pack(value) as unknown as Base64Bytes).toBase64(),
  decode: (text) => packr.unpack((Uint8Array as unknown as Base64BytesConstructor).fromBase64(text)),
};

/** Raw MessagePack bytes, for the serialization bench's "without base64" row. */
export const msgpackBytes = {
  encode: (value: unknown): Uint8Array => packr.pack(value),
  decode: (bytes: Uint8Array): unknown => packr.unpack(bytes),
};

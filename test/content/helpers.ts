/**
 * Small helpers shared by the content-tier tests: deterministic test bytes,
 * byte comparison, and catching a RegistryError.
 */
import { expect } from "bun:test";
import { RegistryError } from "../../src/domain/errors.ts";

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Pseudo-random bytes of any size (xorshift), so large fixtures need no CSPRNG calls and differ by seed. */
export function bytesOf(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

/** The RegistryError the operation fails with; fails the test when it succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }
  throw new Error("expected the operation to fail");
}

/**
 * A valid JSON Schema whose canonical form is about `bytes` long (within a
 * few KiB): properties with long descriptions, differing by `seed`. Validation
 * cost grows with the number of nodes, so the bulk is in strings.
 */
export function largeJsonSchema(bytes: number, seed = 1): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const chunk = 4096;
  const words = `lorem ipsum dolor sit amet ${seed} `;
  const text = words.repeat(Math.ceil(chunk / words.length)).slice(0, chunk);
  const count = Math.max(1, Math.round(bytes / (chunk + 60)));
  for (let i = 0; i < count; i++) properties[`field_${seed}_${i}`] = { type: "string", description: text };
  return { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties };
}

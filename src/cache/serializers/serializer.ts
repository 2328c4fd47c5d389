/**
 * The Serializer contract: how a cached value becomes the text stored in L2
 * and back. L2 values are strings (not bytes) because the Upstash REST
 * protocol carries values inside JSON and its client decodes every result as
 * UTF-8: only text survives both drivers byte for byte. A serializer whose
 * native form is binary must therefore wrap it in text (base64).
 */

export interface Serializer {
  /** Short, stable name; it is part of the key namespace, so a change of serializer never reads old entries. */
  readonly id: string;
  encode(value: unknown): string;
  /** Throws on input it cannot decode; the cache turns that into a miss. */
  decode(text: string): unknown;
}

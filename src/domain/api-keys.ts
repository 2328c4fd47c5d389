/**
 * API keys as the registry knows them: what a key is (its id, role, subject
 * prefixes, expiry), how its text is made and read, and how its secret is
 * hashed for storage. The HTTP layer verifies keys with these rules, the
 * storage keeps them, scripts/keys.ts makes them from a shell.
 *
 * A key's text is `<id>.<secret>`: `srk_` and 16 hex digits of id (public:
 * it names the key in lists and the audit log, and is the user of HTTP
 * Basic), then 32 random bytes of secret in base64url. The secret is kept
 * only as its SHA-256. A fast hash is enough here, unlike for passwords:
 * 256 random bits cannot be guessed or looked up in a dictionary, whatever
 * the hash costs, and a cheap hash keeps a verification (on a cache miss)
 * cheap too.
 */
import type { Role } from "./principal.ts";

export interface ApiKey {
  readonly id: string;
  readonly role: Role;
  /** Subject prefixes the key is limited to; null: every subject. */
  readonly subjects: readonly string[] | null;
  readonly description: string | null;
  readonly createdAt: Date;
  /** null: never expires. */
  readonly expiresAt: Date | null;
}

/** A key as stored: its description and the hash of its secret. */
export interface StoredApiKey extends ApiKey {
  readonly secretHash: Uint8Array;
}

export interface NewApiKey {
  role: Role;
  subjects: readonly string[] | null;
  description: string | null;
  expiresAt: Date | null;
}

export const KEY_ID_PREFIX = "srk_";
const KEY_ID = /^srk_[0-9a-f]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function isKeyId(text: string): boolean {
  return KEY_ID.test(text);
}

/** A new key's id and secret, and the text a caller sends (`<id>.<secret>`). */
export function generateKey(): { id: string; secret: string; key: string } {
  const idBytes = crypto.getRandomValues(new Uint8Array(8));
  const id = KEY_ID_PREFIX + [...idBytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const secret = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  return { id, secret, key: `${id}.${secret}` };
}

/** The id and secret of a key's text, or null when it is not one. */
export function parseKey(text: string): { id: string; secret: string } | null {
  const dot = text.indexOf(".");
  if (dot < 0) return null;
  const id = text.slice(0, dot);
  const secret = text.slice(dot + 1);
  return KEY_ID.test(id) && SECRET.test(secret) ? { id, secret } : null;
}

export function isKeySecret(text: string): boolean {
  return SECRET.test(text);
}

/** SHA-256 of the secret's text: what the store keeps. */
export async function hashSecret(secret: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(secret);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Compares two hashes in time that does not depend on where they differ. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

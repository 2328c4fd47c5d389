/**
 * Credentials in, a Principal out: the `Authorization` header of a request
 * read as an API key (`Bearer <id>.<secret>`, or HTTP Basic with the key id
 * as user and the secret as password, as Confluent's clients send it), the
 * bootstrap admin key (only while no API key exists), or a JWT (when a JWKS
 * is configured).
 *
 * What was verified is remembered in process for `cacheMs` (never past the
 * key's or token's own expiry), keyed by the header's text, so a request
 * with a known key costs a Map lookup and no await: the fast path of
 * `GET /schemas/{id}` stays an L1 read. A revocation drops the key's entries
 * here at once and, through the invalidation bus, on every other instance
 * (`forget`); a generation counter keeps a lookup that was in flight during a
 * revocation from caching what it found.
 */
import {
  type ApiKey,
  hashSecret,
  isKeyId,
  isKeySecret,
  type NewApiKey,
  parseKey,
  type StoredApiKey,
  sameHash,
} from "../../domain/api-keys.ts";
import type { WriteContext } from "../../domain/audit.ts";
import { RegistryError } from "../../domain/errors.ts";
import { OPEN_ACCESS, type Principal, ROLES, type Role } from "../../domain/principal.ts";

/** What the authenticator needs of the key store (storage/api-keys.ts implements it). */
export interface KeyDirectory {
  /** Given `audit`, the store records the change in the audit log in the same transaction. */
  create(id: string, secretHash: Uint8Array, key: NewApiKey, audit?: WriteContext): Promise<ApiKey>;
  find(id: string): Promise<StoredApiKey | null>;
  list(): Promise<ApiKey[]>;
  revoke(id: string, audit?: WriteContext): Promise<ApiKey | null>;
  count(): Promise<number>;
}

/** Verifies a JWT (jwt.ts); resolves to its subject and claims, rejects with `unauthorized`. */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

export interface VerifiedToken {
  subject: string;
  role: unknown;
  subjects: unknown;
  /** Seconds since the epoch; undefined when the token does not expire. */
  expiresAt: number | undefined;
}

/** Tells every instance, this one included, that a key changed (created or revoked). */
export interface KeyChangeBus {
  publish(keyId: string): Promise<void>;
  /** `keyId`, or "all" when notifications may have been lost; returns the unsubscribe function. */
  subscribe(handler: (keyId: string | "all") => void): () => void;
}

export interface AuthenticatorOptions {
  required: boolean;
  keys: KeyDirectory;
  bootstrapKey?: string | undefined;
  jwt?: TokenVerifier | undefined;
  /** How long a verified credential is remembered, ms; 0 verifies every request. */
  cacheMs: number;
  /** Most credentials remembered at once. */
  maxEntries?: number;
  bus?: KeyChangeBus | null;
  now?: () => number;
}

/** The principal of the bootstrap key: an admin of everything, named so in the audit log. */
export const BOOTSTRAP_PRINCIPAL: Principal = Object.freeze({
  id: "bootstrap",
  kind: "key",
  role: "admin",
  subjectPrefixes: null,
});

/** The caller of an open route when auth is on: allowed nothing beyond it. */
export const ANONYMOUS: Principal = Object.freeze({
  id: "anonymous",
  kind: "anonymous",
  role: "reader",
  subjectPrefixes: Object.freeze([]) as readonly string[],
});

interface Remembered {
  principal: Principal;
  /** performance.now() after which it is verified again (monotonic: a clock step changes nothing). */
  until: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

export class Authenticator {
  readonly required: boolean;
  readonly #keys: KeyDirectory;
  readonly #bootstrapHash: Promise<Uint8Array> | null;
  readonly #jwt: TokenVerifier | undefined;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #bus: KeyChangeBus | null;
  readonly #now: () => number;
  readonly #remembered = new Map<string, Remembered>();
  /** The header last answered from `#remembered`, and its entry; forgotten with it. */
  #lastHeader: string | null = null;
  #lastEntry: Remembered | undefined = undefined;
  /**
   * Credentials just refused, and until when (performance.now()): a client
   * retrying a wrong or revoked key, or a flood of one bad header, costs a
   * Map lookup rather than a database read each time. Cleared by any key change.
   */
  readonly #refused = new Map<string, { error: RegistryError; until: number }>();
  readonly #unsubscribe: (() => void) | null;
  #generation = 0;
  /** Whether the key table was empty, and until when that answer holds. */
  #empty: { value: boolean; until: number } | null = null;

  constructor(options: AuthenticatorOptions) {
    this.required = options.required;
    this.#keys = options.keys;
    this.#bootstrapHash = options.bootstrapKey ? hashSecret(options.bootstrapKey) : null;
    this.#jwt = options.jwt;
    this.#cacheMs = options.cacheMs;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#bus = options.bus ?? null;
    this.#now = options.now ?? Date.now;
    this.#unsubscribe = this.#bus ? this.#bus.subscribe((keyId) => this.forget(keyId)) : null;
  }

  /** The key store, for the key routes. */
  get keys(): KeyDirectory {
    return this.#keys;
  }

  /**
   * The caller of a request with this `Authorization` header: the principal
   * itself when it is remembered (no promise), else a promise. Without
   * credentials, or with credentials that do not verify, `unauthorized`
   * (thrown, or the promise rejects); a JWT without a known role, `forbidden`.
   *
   * `monotonicNow` is the request's own `performance.now()` when the caller
   * has one (the fast path): reading a clock costs as much as the rest of a
   * remembered key's check on some machines.
   */
  authenticate(header: string | null | undefined, monotonicNow?: number): Principal | Promise<Principal> {
    if (!this.required) return OPEN_ACCESS;
    if (!header) throw unauthorized("credentials are required: an API key or a token");
    // The last header seen first: a client sends one key request after request, and comparing two
    // strings is cheaper than hashing one for the Map.
    const remembered = this.#lastHeader === header ? this.#lastEntry : this.#remembered.get(header);
    if (remembered !== undefined) {
      if (remembered.until > (monotonicNow ?? performance.now())) {
        this.#lastHeader = header;
        this.#lastEntry = remembered;
        return remembered.principal;
      }
      this.#remembered.delete(header);
      this.#lastHeader = null;
    }
    const refused = this.#refused.get(header);
    if (refused !== undefined) {
      if (refused.until > performance.now()) throw refused.error;
      this.#refused.delete(header);
    }
    return this.#verify(header);
  }

  /** Drops what is remembered of a key (or of every key), after a create or a revoke anywhere. */
  forget(keyId: string | "all"): void {
    this.#generation++;
    this.#empty = null;
    this.#refused.clear();
    this.#lastHeader = null;
    if (keyId === "all") {
      this.#remembered.clear();
      return;
    }
    // Any change of keys may end the bootstrap key's term (it holds only while no key exists).
    for (const [header, entry] of this.#remembered) {
      if (entry.principal.id === keyId || entry.principal === BOOTSTRAP_PRINCIPAL)
        this.#remembered.delete(header);
    }
  }

  /** Tells this instance at once and every other one through the bus that a key changed. */
  async announce(keyId: string): Promise<void> {
    this.forget(keyId);
    await this.#bus?.publish(keyId);
  }

  close(): void {
    this.#unsubscribe?.();
  }

  async #verify(header: string): Promise<Principal> {
    const generation = this.#generation;
    let verified: { principal: Principal; expiresAt?: number | undefined };
    try {
      verified = await this.#principalOf(header);
    } catch (error) {
      // Refusals are remembered briefly; a backend that did not answer (`unavailable`) is asked again.
      const refusal =
        error instanceof RegistryError && (error.code === "unauthorized" || error.code === "forbidden");
      if (refusal && this.#cacheMs > 0 && generation === this.#generation) {
        remember(this.#refused, this.#maxEntries, header, {
          error,
          until: performance.now() + Math.min(this.#cacheMs, REFUSAL_MS),
        });
      }
      throw error;
    }
    const { principal, expiresAt } = verified;
    if (this.#cacheMs > 0 && generation === this.#generation) {
      const lifetime = Math.min(
        this.#cacheMs,
        expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - this.#now(),
      );
      remember(this.#remembered, this.#maxEntries, header, {
        principal,
        until: performance.now() + lifetime,
      });
    }
    return principal;
  }

  async #principalOf(header: string): Promise<{ principal: Principal; expiresAt?: number | undefined }> {
    const space = header.indexOf(" ");
    const scheme = space < 0 ? header : header.slice(0, space);
    const value = space < 0 ? "" : header.slice(space + 1).trim();
    switch (scheme.toLowerCase()) {
      case "bearer":
        return this.#bearer(value);
      case "basic":
        return this.#basic(value);
      default:
        throw unauthorized(`the ${scheme} scheme is not accepted: send Bearer or Basic`);
    }
  }

  async #bearer(token: string): Promise<{ principal: Principal; expiresAt?: number | undefined }> {
    if (token === "") throw unauthorized("the Bearer credentials are empty");
    const key = parseKey(token);
    if (key) return this.#apiKey(key.id, key.secret);
    if (await this.#isBootstrapKey(token)) return this.#bootstrap();
    if (this.#jwt && token.split(".").length === 3) return this.#token(token);
    throw unauthorized("the credentials are not an API key of this registry");
  }

  async #basic(encoded: string): Promise<{ principal: Principal; expiresAt?: number | undefined }> {
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0)),
      );
    } catch {
      throw unauthorized("the Basic credentials are not base64");
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) throw unauthorized("the Basic credentials have no password");
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // The password may be the secret alone (user = key id) or the whole key.
    if (isKeyId(user) && isKeySecret(password)) return this.#apiKey(user, password);
    const key = parseKey(password);
    if (key && (user === "" || user === key.id)) return this.#apiKey(key.id, key.secret);
    if (await this.#isBootstrapKey(password)) return this.#bootstrap();
    throw unauthorized("the Basic credentials are not an API key of this registry");
  }

  async #apiKey(id: string, secret: string): Promise<{ principal: Principal; expiresAt?: number }> {
    const [stored, hash] = await Promise.all([this.#keys.find(id), hashSecret(secret)]);
    if (!stored || !sameHash(stored.secretHash, hash)) {
      throw unauthorized(`API key ${id} is unknown or revoked, or its secret is wrong`);
    }
    const expiresAt = stored.expiresAt?.getTime();
    if (expiresAt !== undefined && expiresAt <= this.#now()) {
      throw unauthorized(`API key ${id} expired at ${stored.expiresAt!.toISOString()}`);
    }
    return {
      principal: Object.freeze({
        id: stored.id,
        kind: "key",
        role: stored.role,
        subjectPrefixes: stored.subjects,
      }),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  async #isBootstrapKey(text: string): Promise<boolean> {
    if (!this.#bootstrapHash) return false;
    return sameHash(await this.#bootstrapHash, await hashSecret(text));
  }

  async #bootstrap(): Promise<{ principal: Principal }> {
    const now = this.#now();
    if (this.#empty === null || this.#empty.until <= now) {
      const generation = this.#generation;
      const empty = (await this.#keys.count()) === 0;
      if (generation === this.#generation) this.#empty = { value: empty, until: now + this.#cacheMs };
      if (!empty) throw bootstrapRefused();
      // Remembered only briefly: the first key created anywhere must end it.
      return { principal: BOOTSTRAP_PRINCIPAL };
    }
    if (!this.#empty.value) throw bootstrapRefused();
    return { principal: BOOTSTRAP_PRINCIPAL };
  }

  async #token(token: string): Promise<{ principal: Principal; expiresAt?: number }> {
    const verified = await this.#jwt!(token);
    const role = verified.role;
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      throw new RegistryError(
        "forbidden",
        `the token names no role this registry knows (${ROLES.join(", ")}) in its role claim`,
      );
    }
    const prefixes = verified.subjects;
    let subjectPrefixes: readonly string[] | null = null;
    if (prefixes !== undefined && prefixes !== null) {
      if (!Array.isArray(prefixes) || !prefixes.every((prefix) => typeof prefix === "string")) {
        throw new RegistryError("forbidden", "the token's subjects claim is not a list of subject prefixes");
      }
      subjectPrefixes = Object.freeze([...prefixes]);
    }
    return {
      principal: Object.freeze({ id: verified.subject, kind: "jwt", role: role as Role, subjectPrefixes }),
      ...(verified.expiresAt !== undefined ? { expiresAt: verified.expiresAt * 1000 } : {}),
    };
  }
}

/** How long a refusal is remembered at most, ms: a key created meanwhile is never one refused (ids are random). */
const REFUSAL_MS = 5000;

/** Sets an entry of a bounded map; the oldest entry goes when it is full (a Map iterates in insertion order). */
function remember<V>(map: Map<string, V>, maxEntries: number, key: string, value: V): void {
  if (map.size >= maxEntries) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

export function unauthorized(message: string): RegistryError {
  return new RegistryError("unauthorized", message);
}

function bootstrapRefused(): RegistryError {
  return unauthorized("the bootstrap key is accepted only while no API key exists: use an API key");
}

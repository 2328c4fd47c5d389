/**
 * The authenticator on its own, over an in-memory key directory that counts
 * its reads: a remembered key answers without a promise and without a read;
 * a refused header is remembered too, so a client retrying a bad key costs
 * no read; a key change (forget) ends both; a key's expiry bounds how long
 * it is remembered; the bootstrap key holds only while the directory is
 * empty; Bearer and Basic (secret alone or whole key as password) both work.
 */
import { describe, expect, test } from "bun:test";
import {
  type ApiKey,
  generateKey,
  hashSecret,
  type NewApiKey,
  type StoredApiKey,
} from "../../src/domain/api-keys.ts";
import { RegistryError } from "../../src/domain/errors.ts";
import { Authenticator, BOOTSTRAP_PRINCIPAL, type KeyDirectory } from "../../src/http/auth/authenticator.ts";

class MemoryKeys implements KeyDirectory {
  readonly keys = new Map<string, StoredApiKey>();
  reads = 0;
  async create(id: string, secretHash: Uint8Array, key: NewApiKey): Promise<ApiKey> {
    const stored = { id, secretHash, ...key, createdAt: new Date() };
    this.keys.set(id, stored);
    return stored;
  }
  async find(id: string) {
    this.reads++;
    return this.keys.get(id) ?? null;
  }
  async list() {
    return [...this.keys.values()];
  }
  async revoke(id: string) {
    const key = this.keys.get(id) ?? null;
    this.keys.delete(id);
    return key;
  }
  async count() {
    return this.keys.size;
  }
}

const BOOTSTRAP = "a-bootstrap-key-of-at-least-32-characters";

async function setUp(expiresAt: Date | null = null) {
  const keys = new MemoryKeys();
  const auth = new Authenticator({ required: true, keys, cacheMs: 60_000, bootstrapKey: BOOTSTRAP });
  const { id, secret, key } = generateKey();
  await keys.create(id, await hashSecret(secret), {
    role: "writer",
    subjects: ["team-a."],
    description: null,
    expiresAt,
  });
  return { keys, auth, id, secret, key };
}

async function refusal(run: () => unknown): Promise<RegistryError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("not refused");
}

describe("Authenticator", () => {
  test("a remembered key answers at once, with no promise and no read", async () => {
    const { keys, auth, id, key } = await setUp();
    const first = await auth.authenticate(`Bearer ${key}`);
    expect(first).toEqual({ id, kind: "key", role: "writer", subjectPrefixes: ["team-a."] });
    const second = auth.authenticate(`Bearer ${key}`);
    expect(second instanceof Promise).toBe(false);
    expect(second).toEqual(first);
    expect(keys.reads).toBe(1);
  });

  test("a refused header is remembered: a retry costs no read; a key change ends it", async () => {
    const { keys, auth, id } = await setUp();
    const wrong = `Bearer ${id}.${"B".repeat(43)}`;
    expect((await refusal(() => auth.authenticate(wrong))).code).toBe("unauthorized");
    expect((await refusal(() => auth.authenticate(wrong))).code).toBe("unauthorized");
    expect(keys.reads).toBe(1);
    auth.forget(id);
    await refusal(() => auth.authenticate(wrong));
    expect(keys.reads).toBe(2);
  });

  test("forget drops a remembered key: the next request reads it again", async () => {
    const { keys, auth, id, key } = await setUp();
    await auth.authenticate(`Bearer ${key}`);
    await keys.revoke(id);
    auth.forget(id);
    expect((await refusal(() => auth.authenticate(`Bearer ${key}`))).message).toContain("unknown or revoked");
  });

  test("a key is remembered no longer than it lives", async () => {
    const { auth, key } = await setUp(new Date(Date.now() + 150));
    await auth.authenticate(`Bearer ${key}`);
    await Bun.sleep(200);
    expect((await refusal(() => auth.authenticate(`Bearer ${key}`))).message).toContain("expired");
  });

  test("Basic: the key id as user with the secret, or the whole key, as password", async () => {
    const { auth, id, secret, key } = await setUp();
    expect((await auth.authenticate(`Basic ${btoa(`${id}:${secret}`)}`)).id).toBe(id);
    expect((await auth.authenticate(`Basic ${btoa(`${id}:${key}`)}`)).id).toBe(id);
    expect((await auth.authenticate(`basic ${btoa(`:${key}`)}`)).id).toBe(id);
    expect((await refusal(() => auth.authenticate("Basic !!!"))).code).toBe("unauthorized");
    expect((await refusal(() => auth.authenticate(`Digest ${key}`))).message).toContain("Digest");
    expect((await refusal(() => auth.authenticate(null))).message).toContain("credentials are required");
  });

  test("the bootstrap key holds only while no key exists", async () => {
    const keys = new MemoryKeys();
    const auth = new Authenticator({ required: true, keys, cacheMs: 60_000, bootstrapKey: BOOTSTRAP });
    expect(await auth.authenticate(`Bearer ${BOOTSTRAP}`)).toBe(BOOTSTRAP_PRINCIPAL);
    const { id, secret } = generateKey();
    await keys.create(id, await hashSecret(secret), {
      role: "admin",
      subjects: null,
      description: null,
      expiresAt: null,
    });
    await auth.announce(id);
    expect((await refusal(() => auth.authenticate(`Bearer ${BOOTSTRAP}`))).message).toContain(
      "bootstrap key",
    );
  });

  test("with auth off every caller is the open-access admin, whatever it sends", () => {
    const auth = new Authenticator({ required: false, keys: new MemoryKeys(), cacheMs: 0 });
    expect(auth.authenticate(null)).toMatchObject({ id: "anonymous", role: "admin", subjectPrefixes: null });
    expect(auth.authenticate("Bearer nonsense")).toMatchObject({ role: "admin" });
  });
});

/** The documented limits: subject, tags, description, metadata, content size. */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../src/domain/errors.ts";
import {
  checkContentSize,
  DEFAULT_LIMITS,
  type Limits,
  MAX_OWNER_LENGTH,
  SUBJECT_PATTERN,
  TAG_PATTERN,
  validateMetadata,
  validateSubject,
} from "../../src/domain/limits.ts";

function rejection(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("expected a RegistryError");
}

test("the defaults are the documented ones", () => {
  expect(DEFAULT_LIMITS).toEqual({
    maxSchemaBytes: 16 * 1024 * 1024,
    maxSubjectLength: 255,
    maxTags: 50,
    maxTagLength: 50,
    maxDescriptionLength: 4096,
    maxMetadataBytes: 16 * 1024,
  });
  expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
});

describe("subject", () => {
  test.each([
    "a",
    "A9",
    "com.acme.chat.CompletionRequest",
    "orders-value",
    "a_b-c.d",
    "1.2",
    // Confluent's subjects: any Unicode, spaces and `/` included.
    ".a",
    "a b",
    "a/b",
    "ä",
    "_a",
    "订单-value",
    " padded ",
  ])("accepts %p", (s) => {
    expect(SUBJECT_PATTERN.test(s)).toBe(true);
    expect(() => validateSubject(s, DEFAULT_LIMITS)).not.toThrow();
  });

  test.each(["", " ", "\t \n", "a\n", "a\u0000b", "\u007f"])("rejects %p", (s) => {
    const error = rejection(() => validateSubject(s, DEFAULT_LIMITS));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toStartWith("subject must ");
  });

  test("the pattern error says the rule", () => {
    expect(rejection(() => validateSubject("a\tb")).message).toBe(
      "subject must hold no control characters and not be only whitespace",
    );
  });

  test("length counts characters, not UTF-16 units: 255 emoji are accepted", () => {
    expect(() => validateSubject("😀".repeat(255))).not.toThrow();
    expect(rejection(() => validateSubject("😀".repeat(256))).message).toBe(
      "subject must be 1 to 255 characters long (got 256)",
    );
  });

  test("length: 255 characters accepted, 256 refused, and the limit is configurable", () => {
    expect(() => validateSubject("a".repeat(255))).not.toThrow();
    expect(rejection(() => validateSubject("a".repeat(256))).message).toBe(
      "subject must be 1 to 255 characters long (got 256)",
    );
    expect(() => validateSubject("abcd", { ...DEFAULT_LIMITS, maxSubjectLength: 3 })).toThrow(RegistryError);
    expect(rejection(() => validateSubject("")).message).toBe(
      "subject must be 1 to 255 characters long (got 0)",
    );
  });

  test("a non-string subject is refused", () => {
    expect(rejection(() => validateSubject(42 as unknown as string)).message).toBe(
      "subject must be a string",
    );
  });
});

describe("metadata", () => {
  test("absent or null means empty", () => {
    expect(validateMetadata(undefined, DEFAULT_LIMITS)).toEqual({});
    expect(validateMetadata(null, DEFAULT_LIMITS)).toEqual({});
    expect(validateMetadata({ description: null, tags: null }, DEFAULT_LIMITS)).toEqual({});
  });

  test("the known keys come back as given", () => {
    const metadata = {
      description: "Request body of the chat completion call",
      tags: ["llm", "production", "team:platform", "v1.2_beta-x"],
      owner: "platform-team",
      custom: { model_family: "gpt", nested: { n: [1, 2] } },
    };
    expect(validateMetadata(metadata, DEFAULT_LIMITS)).toEqual(metadata);
  });

  test("unknown top-level keys are named", () => {
    const error = rejection(() =>
      validateMetadata({ description: "x", team: "a", labels: [] }, DEFAULT_LIMITS),
    );
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe(
      "metadata has unknown keys: team, labels; allowed keys are description, tags, owner, custom",
    );
    expect(error.details.unknown_keys).toEqual(["team", "labels"]);
  });

  test.each([
    [[], "metadata must be an object"],
    ["x", "metadata must be an object"],
    [{ description: 5 }, "metadata.description must be a string"],
    [{ tags: "llm" }, "metadata.tags must be an array of strings"],
    [{ tags: ["ok", 7] }, "metadata.tags[1] must be a string"],
    [{ tags: ["ok", "-bad"] }, 'metadata.tags[1] must match ^[A-Za-z0-9][A-Za-z0-9_.:-]*$ (got "-bad")'],
    [{ tags: ["a b"] }, 'metadata.tags[0] must match ^[A-Za-z0-9][A-Za-z0-9_.:-]*$ (got "a b")'],
    [{ tags: [""] }, "metadata.tags[0] must be 1 to 50 characters long (got 0)"],
    [{ tags: ["a".repeat(51)] }, "metadata.tags[0] must be 1 to 50 characters long (got 51)"],
    [{ tags: ["llm", "prod", "llm"] }, 'metadata.tags[2] repeats metadata.tags[0] ("llm")'],
    [
      { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) },
      "metadata.tags must hold at most 50 tags (got 51)",
    ],
    [{ owner: 1 }, "metadata.owner must be a string"],
    [{ owner: "" }, `metadata.owner must be 1 to ${MAX_OWNER_LENGTH} characters long (got 0)`],
    [{ owner: "o".repeat(256) }, `metadata.owner must be 1 to ${MAX_OWNER_LENGTH} characters long (got 256)`],
    [{ custom: [1] }, "metadata.custom must be an object"],
    [{ custom: "x" }, "metadata.custom must be an object"],
  ])("rejects %p", (metadata, message) => {
    const error = rejection(() => validateMetadata(metadata, DEFAULT_LIMITS));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe(message);
  });

  test("50 tags of 50 characters are fine", () => {
    const tags = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(50, "x"));
    expect(tags.every((tag) => TAG_PATTERN.test(tag))).toBe(true);
    expect(validateMetadata({ tags }, DEFAULT_LIMITS).tags).toEqual(tags);
  });

  test("description: 4,096 characters counted as code points", () => {
    // 4,096 emoji are 8,192 UTF-16 code units and 16 KiB of UTF-8: lift the byte limit to see the count.
    const roomy = { ...DEFAULT_LIMITS, maxMetadataBytes: 64 * 1024 };
    expect(() => validateMetadata({ description: "😀".repeat(4096) }, roomy)).not.toThrow();
    expect(() => validateMetadata({ description: "😀".repeat(4097) }, roomy)).toThrow("(got 4097)");
    expect(rejection(() => validateMetadata({ description: "d".repeat(4097) }, DEFAULT_LIMITS)).message).toBe(
      "metadata.description must be at most 4096 characters long (got 4097)",
    );
  });

  test("metadata over 16 KiB of JSON is invalid_request with the sizes", () => {
    const custom = { blob: "x".repeat(16 * 1024) };
    const error = rejection(() => validateMetadata({ custom }, DEFAULT_LIMITS));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe("metadata must be at most 16384 bytes as JSON (got 16406)");
    expect(error.details).toMatchObject({ limit_bytes: 16384, size_bytes: 16406 });
    // Multi-byte characters count as the bytes they take.
    const fits = { custom: { blob: "é".repeat(8000) } };
    expect(() => validateMetadata(fits, DEFAULT_LIMITS)).not.toThrow();
    expect(() => validateMetadata({ custom: { blob: "é".repeat(8200) } }, DEFAULT_LIMITS)).toThrow(
      RegistryError,
    );
  });

  test("configured limits are the ones enforced", () => {
    const limits: Limits = { ...DEFAULT_LIMITS, maxTags: 1, maxTagLength: 100, maxDescriptionLength: 3 };
    expect(validateMetadata({ tags: ["t".repeat(100)] }, limits).tags).toHaveLength(1);
    expect(() => validateMetadata({ tags: ["a", "b"] }, limits)).toThrow("at most 1 tags");
    expect(() => validateMetadata({ description: "abcd" }, limits)).toThrow("at most 3 characters");
  });
});

describe("content size", () => {
  test("at the limit is fine, one byte over is payload_too_large with the sizes", () => {
    expect(() => checkContentSize(16 * 1024 * 1024, DEFAULT_LIMITS)).not.toThrow();
    const error = rejection(() => checkContentSize(16 * 1024 * 1024 + 1, DEFAULT_LIMITS));
    expect(error.code).toBe("payload_too_large");
    expect(error.status).toBe(413);
    expect(error.message).toBe("content is 16777217 bytes, over the limit of 16777216 bytes");
    expect(error.details).toEqual({ limit_bytes: 16777216, size_bytes: 16777217 });
  });
});

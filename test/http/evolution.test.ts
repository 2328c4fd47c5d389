/**
 * Schema evolution over HTTP against the real PostgreSQL backend: the
 * compatibility levels as a register applies them (JSON Schema, Avro and
 * Protobuf changes), the 409 that lists every violation and stores nothing,
 * the settings routes (global, per subject, effective), the dry run, the
 * version derived from each change and semver_policy enforce.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiResponse, type JsonBody, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";

const available = await postgresAvailable();

const LEVELS = "NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE";

/** An object schema (open content model) with the given properties and required names. */
function objectSchema(
  properties: Record<string, Record<string, unknown>>,
  required: string[] = [],
): Record<string, unknown> {
  return { type: "object", properties, required };
}

/** A string property. */
const S = { type: "string" };

const PROMPT_V1 = objectSchema({ prompt: S }, ["prompt"]);

const ORDER_AVRO = {
  type: "record",
  name: "Order",
  namespace: "com.acme",
  fields: [
    { name: "id", type: "string" },
    { name: "quantity", type: "int" },
  ],
};

const ORDER_PROTO = `syntax = "proto3";
package acme;

message Order {
  string id = 1;
  int32 quantity = 2;
}
`;

describe.skipIf(!available)("schema evolution over HTTP", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  const register = (subject: string, content: unknown, extra: Record<string, unknown> = {}) =>
    api.post("/api/v1/schemas", { subject, schema_type: "json", content, ...extra });
  const registerAs = (schemaType: string, subject: string, content: unknown, version?: string) =>
    api.post("/api/v1/schemas", {
      subject,
      schema_type: schemaType,
      content,
      ...(version ? { version } : {}),
    });
  const configure = (subject: string, settings: Record<string, unknown>) =>
    api.request("PUT", `/api/v1/subjects/${subject}/config`, { body: settings });
  const versionsOf = async (subject: string): Promise<string[]> => {
    const res = await api.get(`/api/v1/subjects/${subject}/versions?include_deleted=true`);
    return res.status === 404 ? [] : res.body.items.map((item: JsonBody) => item.version);
  };
  const dryRun = (subject: string, body: Record<string, unknown>) =>
    api.post(`/api/v1/subjects/${subject}/compatibility`, body);

  function expectError(res: ApiResponse, status: number, code: string): void {
    expect(res.status, res.text).toBe(status);
    expect(res.body.error.code).toBe(code);
  }

  function expectRegistered(res: ApiResponse, version: string): void {
    expect(res.status, res.text).toBe(201);
    expect(res.body.version).toBe(version);
  }

  describe("BACKWARD, the default level", () => {
    test("a new required property is refused with every violation, and nothing is stored", async () => {
      const subject = "evo.backward.json";
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const before = await api.snapshot();

      // Two breaking changes at once: a new required property and a narrowed type.
      const res = await register(
        subject,
        objectSchema({ prompt: { type: "integer" }, user_id: { type: "string" } }, ["prompt", "user_id"]),
      );
      expectError(res, 409, "incompatible_schema");
      const { details, message } = res.body.error;
      expect(details.subject).toBe(subject);
      expect(details.level).toBe("BACKWARD");
      expect(details.checked_versions).toEqual(["1.0.0"]);
      expect(details.violations).toHaveLength(2);
      for (const violation of details.violations) {
        expect(Object.keys(violation).sort()).toEqual(["message", "path", "rule", "version"]);
        expect(violation.version).toBe("1.0.0");
        expect(violation.message.length).toBeGreaterThan(20);
      }
      expect(details.violations).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: "#/properties/user_id", rule: "required_property_added" }),
          expect.objectContaining({ path: "#/properties/prompt", rule: "type_narrowed" }),
        ]),
      );
      expect(message).toContain("BACKWARD");
      expect(message).toContain("version 1.0.0");
      expect(message).toContain("2 violations");

      expect(await versionsOf(subject)).toEqual(["1.0.0"]);
      expect(await api.snapshot()).toEqual(before);
    });

    test("the same property added as optional is a minor version", async () => {
      const subject = "evo.backward.json";
      const res = await register(
        subject,
        objectSchema({ prompt: { type: "string" }, user_id: S }, ["prompt"]),
      );
      expectRegistered(res, "1.1.0");
    });

    test("Avro: a field added without a default is refused; with one it is a minor", async () => {
      const subject = "evo.backward.avro";
      expectRegistered(await registerAs("avro", subject, ORDER_AVRO), "1.0.0");
      const noDefault = {
        ...ORDER_AVRO,
        fields: [...ORDER_AVRO.fields, { name: "currency", type: "string" }],
      };
      const refused = await registerAs("avro", subject, noDefault);
      expectError(refused, 409, "incompatible_schema");
      expect(refused.body.error.details.violations).toEqual([
        expect.objectContaining({
          path: "#/fields/currency",
          rule: "reader_field_missing_default",
          version: "1.0.0",
        }),
      ]);
      const withDefault = {
        ...ORDER_AVRO,
        fields: [...ORDER_AVRO.fields, { name: "currency", type: "string", default: "EUR" }],
      };
      expectRegistered(await registerAs("avro", subject, withDefault), "1.1.0");
      // Widening int to long is a promotion Avro readers make.
      const widened = {
        ...withDefault,
        fields: withDefault.fields.map((f) => (f.name === "quantity" ? { ...f, type: "long" } : f)),
      };
      expectRegistered(await registerAs("avro", subject, widened), "1.2.0");
      expect(await versionsOf(subject)).toEqual(["1.2.0", "1.1.0", "1.0.0"]);
    });

    test("Protobuf: a field's type changed across wire groups is refused; a new field is a minor", async () => {
      const subject = "evo.backward.proto";
      expectRegistered(await registerAs("protobuf", subject, ORDER_PROTO), "1.0.0");
      const refused = await registerAs(
        "protobuf",
        subject,
        ORDER_PROTO.replace("int32 quantity = 2;", "string quantity = 2;"),
      );
      expectError(refused, 409, "incompatible_schema");
      expect(refused.body.error.details.violations).toEqual([
        expect.objectContaining({
          path: "#/messages/acme.Order/fields/2",
          rule: "field_type_incompatible",
          version: "1.0.0",
        }),
      ]);
      const added = ORDER_PROTO.replace("int32 quantity = 2;", "int32 quantity = 2;\n  string note = 3;");
      expectRegistered(await registerAs("protobuf", subject, added), "1.1.0");
    });
  });

  describe("transitive and non-transitive levels", () => {
    const subject = "evo.transitive";

    test("BACKWARD compares with the latest version alone, BACKWARD_TRANSITIVE with every one", async () => {
      expectRegistered(await register(subject, objectSchema({ a: { type: "string" } })), "1.0.0");
      // Under NONE a breaking change goes in, as a new major.
      await configure(subject, { compatibility: "NONE" });
      expectRegistered(await register(subject, objectSchema({ a: { type: "integer" } })), "2.0.0");

      await configure(subject, { compatibility: "BACKWARD" });
      const v3 = objectSchema({ a: { type: "integer" }, b: { type: "string" } });
      expectRegistered(await register(subject, v3), "2.1.0");

      await configure(subject, { compatibility: "BACKWARD_TRANSITIVE" });
      const v4 = objectSchema({ a: { type: "integer" }, b: { type: "string" }, c: { type: "string" } });
      const refused = await register(subject, v4);
      expectError(refused, 409, "incompatible_schema");
      expect(refused.body.error.details.level).toBe("BACKWARD_TRANSITIVE");
      expect(refused.body.error.details.checked_versions).toEqual(["2.1.0", "2.0.0", "1.0.0"]);
      expect(refused.body.error.details.violations).toEqual([
        expect.objectContaining({ path: "#/properties/a", rule: "type_narrowed", version: "1.0.0" }),
      ]);

      // The same candidate under plain BACKWARD: only 2.1.0 is compared with.
      await configure(subject, { compatibility: "BACKWARD" });
      const check = await dryRun(subject, { schema_type: "json", content: v4 });
      expect(check.status, check.text).toBe(200);
      expect(check.body).toMatchObject({ compatible: true, checked_versions: ["2.1.0"] });
    });

    test("a deleted version is left out of a transitive check", async () => {
      await configure(subject, { compatibility: "BACKWARD_TRANSITIVE" });
      const v1 = await api.get(`/api/v1/subjects/${subject}/versions/1.0.0`);
      expect((await api.request("DELETE", `/api/v1/schemas/${v1.body.id}`)).status).toBe(204);
      const v4 = objectSchema({ a: { type: "integer" }, b: { type: "string" }, c: { type: "string" } });
      const res = await register(subject, v4);
      expectRegistered(res, "2.2.0");
    });
  });

  describe("FORWARD, FULL and NONE", () => {
    test("FORWARD: the old schema must read the new one; a new required property passes, a removed one does not", async () => {
      const subject = "evo.forward";
      await configure(subject, { compatibility: "FORWARD" });
      expectRegistered(await register(subject, objectSchema({ a: S, b: S }, ["a"])), "1.0.0");
      // The old (open) schema reads documents that carry b: fine forward, breaking backward, so a major.
      expectRegistered(await register(subject, objectSchema({ a: S, b: S }, ["a", "b"])), "2.0.0");
      // Dropping a required property: documents written without it fail the old schema.
      const refused = await register(subject, objectSchema({ a: S, b: S }, ["b"]));
      expectError(refused, 409, "incompatible_schema");
      expect(refused.body.error.details.level).toBe("FORWARD");
      expect(refused.body.error.details.violations).toEqual([
        expect.objectContaining({
          path: "#/properties/a",
          rule: "required_property_added",
          version: "2.0.0",
        }),
      ]);
    });

    test("FULL: an optional property passes, a required one added or removed does not", async () => {
      const subject = "evo.full";
      await configure(subject, { compatibility: "FULL" });
      expectRegistered(await register(subject, objectSchema({ a: S }, ["a"])), "1.0.0");
      expectRegistered(await register(subject, objectSchema({ a: S, b: S }, ["a"])), "1.1.0");

      const added = await register(subject, objectSchema({ a: S, b: S, c: S }, ["a", "c"]));
      expectError(added, 409, "incompatible_schema");
      expect(added.body.error.details.violations).toEqual([
        expect.objectContaining({
          path: "#/properties/c",
          rule: "required_property_added",
          version: "1.1.0",
        }),
      ]);
      const removed = await register(subject, objectSchema({ a: S, b: S }, []));
      expectError(removed, 409, "incompatible_schema");
      expect(removed.body.error.details.violations).toEqual([
        expect.objectContaining({
          path: "#/properties/a",
          rule: "required_property_added",
          version: "1.1.0",
        }),
      ]);
      expect(await versionsOf(subject)).toEqual(["1.1.0", "1.0.0"]);
    });

    test("FULL with Protobuf: a new message is refused (the old schema cannot decode it)", async () => {
      const subject = "evo.full.proto";
      await configure(subject, { compatibility: "FULL" });
      expectRegistered(await registerAs("protobuf", subject, ORDER_PROTO), "1.0.0");
      const res = await registerAs(
        "protobuf",
        subject,
        `${ORDER_PROTO}\nmessage Refund {\n  string id = 1;\n}\n`,
      );
      expectError(res, 409, "incompatible_schema");
      expect(res.body.error.details.violations).toEqual([
        expect.objectContaining({ rule: "message_removed", version: "1.0.0" }),
      ]);
    });

    test("NONE: any valid change goes in, a breaking one as a major", async () => {
      const subject = "evo.none";
      await configure(subject, { compatibility: "NONE" });
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const res = await register(
        subject,
        objectSchema({ prompt: { type: "integer" }, x: S }, ["prompt", "x"]),
      );
      expectRegistered(res, "2.0.0");
      const check = await dryRun(subject, {
        schema_type: "json",
        content: objectSchema({ y: { type: "null" } }, ["y"]),
      });
      expect(check.body).toMatchObject({
        compatible: true,
        level: "NONE",
        checked_versions: [],
        violations: [],
      });
      expect(check.body.suggested_version).toBe("3.0.0");
    });
  });

  describe("settings", () => {
    test("GET /config answers the configured defaults, every field", async () => {
      const res = await api.get("/api/v1/config");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ compatibility: "BACKWARD", semver_policy: "advise" });
    });

    test("a subject's own settings: 404 until set, effective always; PUT merges; DELETE answers what they were", async () => {
      const subject = "evo.settings";
      const own = await api.get(`/api/v1/subjects/${subject}/config`);
      expectError(own, 404, "not_found");
      expect(own.body.error.message).toContain("effective=true");
      const effective = await api.get(`/api/v1/subjects/${subject}/config?effective=true`);
      expect(effective.status).toBe(200);
      expect(effective.body).toEqual({ compatibility: "BACKWARD", semver_policy: "advise" });

      const put = await configure(subject, { compatibility: "FULL_TRANSITIVE" });
      expect(put.status, put.text).toBe(200);
      expect(put.body).toEqual({ compatibility: "FULL_TRANSITIVE" });
      expect((await api.get(`/api/v1/subjects/${subject}/config`)).body).toEqual({
        compatibility: "FULL_TRANSITIVE",
      });
      expect((await api.get(`/api/v1/subjects/${subject}/config?effective=true`)).body).toEqual({
        compatibility: "FULL_TRANSITIVE",
        semver_policy: "advise",
      });

      const merged = await configure(subject, { semver_policy: "enforce" });
      expect(merged.body).toEqual({ compatibility: "FULL_TRANSITIVE", semver_policy: "enforce" });

      const deleted = await api.request("DELETE", `/api/v1/subjects/${subject}/config`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ compatibility: "FULL_TRANSITIVE", semver_policy: "enforce" });
      expectError(await api.get(`/api/v1/subjects/${subject}/config`), 404, "not_found");
      expectError(await api.request("DELETE", `/api/v1/subjects/${subject}/config`), 404, "not_found");
      expect((await api.get(`/api/v1/subjects/${subject}/config?effective=true`)).body).toEqual({
        compatibility: "BACKWARD",
        semver_policy: "advise",
      });
    });

    test("an unknown level or policy is a 400 naming the allowed values", async () => {
      const level = await configure("evo.settings", { compatibility: "backward" });
      expectError(level, 400, "invalid_request");
      expect(level.body.error.message).toContain(`expected one of ${LEVELS}`);
      expect(level.body.error.message).toContain('"backward"');
      expect(level.body.error.details.issues[0].path).toBe("compatibility");

      const policy = await api.request("PUT", "/api/v1/config", { body: { semver_policy: "strict" } });
      expectError(policy, 400, "invalid_request");
      expect(policy.body.error.message).toContain("expected one of advise, enforce");

      expectError(await configure("evo.settings", {}), 400, "invalid_request");
      const unknown = await configure("evo.settings", { compatibility: "FULL", mode: "x" });
      expectError(unknown, 400, "invalid_request");
      expect(unknown.body.error.message).toContain("mode");
      expectError(await api.request("PUT", "/api/v1/config", { body: {} }), 400, "invalid_request");
      expectError(
        await api.request("PUT", "/api/v1/config", { body: { compatibility: 3 } }),
        400,
        "invalid_request",
      );
      expectError(
        await api.get("/api/v1/subjects/evo.settings/config?effective=yes"),
        400,
        "invalid_request",
      );
      expectError(await api.get("/api/v1/subjects/%01bad/config"), 400, "invalid_request");
      // Nothing of it was stored.
      expectError(await api.get("/api/v1/subjects/evo.settings/config"), 404, "not_found");
      expect((await api.get("/api/v1/config")).body).toEqual({
        compatibility: "BACKWARD",
        semver_policy: "advise",
      });
    });

    test("the global level applies to subjects without their own; a subject's own wins", async () => {
      const follower = "evo.global.follower";
      const own = "evo.global.own";
      for (const subject of [follower, own]) expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      await configure(own, { compatibility: "BACKWARD" });

      const put = await api.request("PUT", "/api/v1/config", { body: { compatibility: "NONE" } });
      expect(put.status, put.text).toBe(200);
      expect(put.body).toEqual({ compatibility: "NONE", semver_policy: "advise" });
      try {
        expect((await api.get("/api/v1/config")).body).toEqual({
          compatibility: "NONE",
          semver_policy: "advise",
        });
        expect((await api.get(`/api/v1/subjects/${follower}/config?effective=true`)).body.compatibility).toBe(
          "NONE",
        );
        const breaking = objectSchema({ prompt: { type: "integer" } }, ["prompt"]);
        expectRegistered(await register(follower, breaking), "2.0.0");
        expectError(await register(own, breaking), 409, "incompatible_schema");

        // A PUT of one field keeps the other.
        const policy = await api.request("PUT", "/api/v1/config", { body: { semver_policy: "enforce" } });
        expect(policy.body).toEqual({ compatibility: "NONE", semver_policy: "enforce" });
      } finally {
        await api.request("PUT", "/api/v1/config", {
          body: { compatibility: "BACKWARD", semver_policy: "advise" },
        });
      }
      expect((await api.get("/api/v1/config")).body).toEqual({
        compatibility: "BACKWARD",
        semver_policy: "advise",
      });
    });
  });

  describe("dry run: POST /subjects/{subject}/compatibility", () => {
    const subject = "evo.dry";

    test("a subject with no versions: compatible, nothing checked, 1.0.0", async () => {
      const res = await dryRun(subject, { schema_type: "json", content: PROMPT_V1 });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({
        compatible: true,
        level: "BACKWARD",
        violations: [],
        checked_versions: [],
        suggested_version: "1.0.0",
        existing_id: null,
        existing_version: null,
      });
      expect(await versionsOf(subject)).toEqual([]);
    });

    test("compatible and incompatible candidates, with the version each would get; nothing is written", async () => {
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const before = await api.snapshot();

      const additive = await dryRun(subject, {
        schema_type: "json",
        content: objectSchema({ prompt: { type: "string" }, n: { type: "integer" } }, ["prompt"]),
      });
      expect(additive.body).toMatchObject({
        compatible: true,
        violations: [],
        checked_versions: ["1.0.0"],
        suggested_version: "1.1.0",
        existing_id: null,
      });

      const documentation = await dryRun(subject, {
        schema_type: "json",
        content: { ...PROMPT_V1, description: "What the user asked" },
      });
      expect(documentation.body).toMatchObject({ compatible: true, suggested_version: "1.0.1" });

      const breaking = await dryRun(subject, {
        schema_type: "json",
        content: objectSchema({ prompt: { type: "string" }, user_id: S }, ["prompt", "user_id"]),
      });
      expect(breaking.status).toBe(200);
      expect(breaking.body).toMatchObject({
        compatible: false,
        level: "BACKWARD",
        checked_versions: ["1.0.0"],
        suggested_version: "2.0.0",
      });
      expect(breaking.body.violations).toEqual([
        {
          path: "#/properties/user_id",
          rule: "required_property_added",
          message: expect.stringContaining("user_id"),
          version: "1.0.0",
        },
      ]);

      expect(await api.snapshot()).toEqual(before);
    });

    test("content already live: compatible, nothing checked, its version and id", async () => {
      const live = await api.get(`/api/v1/subjects/${subject}/versions/1.0.0`);
      // Key order and formatting do not make content differ.
      const reordered = { required: ["prompt"], properties: { prompt: { type: "string" } }, type: "object" };
      const res = await dryRun(subject, { schema_type: "json", content: JSON.stringify(reordered, null, 2) });
      expect(res.body).toEqual({
        compatible: true,
        level: "BACKWARD",
        violations: [],
        checked_versions: [],
        suggested_version: "1.0.0",
        existing_id: live.body.id,
        existing_version: "1.0.0",
      });
    });

    test("answers as a register would: an incompatible change under enforce is the verdict; a taken version is 409", async () => {
      const strict = "evo.dry.strict";
      await configure(strict, { compatibility: "BACKWARD", semver_policy: "enforce" });
      expectRegistered(await register(strict, PROMPT_V1), "1.0.0");
      const breaking = objectSchema({ prompt: { type: "string" }, user_id: S }, ["prompt", "user_id"]);
      // The register answers incompatible_schema first, so the dry run gives that verdict, not the policy.
      const verdict = await dryRun(strict, { schema_type: "json", content: breaking, version: "1.1.0" });
      expect(verdict.status).toBe(200);
      expect(verdict.body).toMatchObject({ compatible: false, suggested_version: "2.0.0" });
      expectError(await register(strict, breaking, { version: "1.1.0" }), 409, "incompatible_schema");
      // A compatible change asking for a version other content holds: what the register would say.
      const additive = objectSchema({ prompt: { type: "string" }, n: { type: "integer" } }, ["prompt"]);
      // (Under enforce a version at or below the latest is the policy's 409; under advise it is the clash.)
      expectError(
        await dryRun(strict, { schema_type: "json", content: additive, version: "1.0.0" }),
        409,
        "version_policy",
      );
      const loose = "evo.dry.loose";
      expectRegistered(await register(loose, PROMPT_V1), "1.0.0");
      const taken = await dryRun(loose, { schema_type: "json", content: additive, version: "1.0.0" });
      expectError(taken, 409, "version_exists");
      expectError(await register(loose, additive, { version: "1.0.0" }), 409, "version_exists");
    });

    test("content that is not a valid schema: 422 before any comparison", async () => {
      const res = await dryRun(subject, { schema_type: "json", content: { type: "object", properties: 5 } });
      expectError(res, 422, "invalid_schema");
      const proto = await dryRun(subject, { schema_type: "protobuf", content: "message {" });
      expectError(proto, 422, "invalid_schema");
    });

    test("the body is the register's less subject, state and metadata", async () => {
      expectError(
        await dryRun(subject, { subject, schema_type: "json", content: PROMPT_V1 }),
        400,
        "invalid_request",
      );
      expectError(await dryRun(subject, { schema_type: "json" }), 400, "invalid_request");
      expectError(
        await dryRun(subject, {
          schema_type: "json",
          content: PROMPT_V1,
          upload_id: "7d7e0c55-3b8e-4f55-9d2a-1c1d1c1d1c1d",
        }),
        400,
        "invalid_request",
      );
      expectError(
        await dryRun(subject, { schema_type: "json", content: PROMPT_V1, version: "v2" }),
        400,
        "invalid_request",
      );
      expectError(
        await dryRun("%01bad", { schema_type: "json", content: PROMPT_V1 }),
        400,
        "invalid_request",
      );
    });
  });

  describe("version derivation", () => {
    test("breaking → major, additive → minor, documentation only → patch", async () => {
      const subject = "evo.derive";
      await configure(subject, { compatibility: "NONE" });
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      expectRegistered(
        await register(
          subject,
          objectSchema({ prompt: { type: "string" }, n: { type: "integer" } }, ["prompt"]),
        ),
        "1.1.0",
      );
      expectRegistered(
        await register(
          subject,
          objectSchema(
            { prompt: { type: "string", description: "The user's words" }, n: { type: "integer" } },
            ["prompt"],
          ),
        ),
        "1.1.1",
      );
      expectRegistered(
        await register(
          subject,
          objectSchema({ prompt: { type: "string" }, n: { type: "integer" } }, ["prompt", "n"]),
        ),
        "2.0.0",
      );
    });

    test("under BACKWARD: documentation only → patch, then an optional property → minor", async () => {
      const subject = "evo.derive.backward";
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      expectRegistered(await register(subject, { ...PROMPT_V1, title: "Prompt" }), "1.0.1");
      expectRegistered(
        await register(subject, { ...PROMPT_V1, title: "Prompt", properties: { prompt: S, lang: S } }),
        "1.1.0",
      );
    });

    test("after a soft-deleted 1.1.0 the next minor is 1.2.0", async () => {
      const subject = "evo.derive.deleted";
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const minor = await register(subject, objectSchema({ prompt: S, a: S }, ["prompt"]));
      expectRegistered(minor, "1.1.0");
      expect((await api.request("DELETE", `/api/v1/schemas/${minor.body.id}`)).status).toBe(204);
      const next = await register(subject, objectSchema({ prompt: S, b: S }, ["prompt"]));
      expectRegistered(next, "1.2.0");
      expect(await versionsOf(subject)).toEqual(["1.2.0", "1.1.0", "1.0.0"]);
    });

    test("an explicit version is taken under advise, whatever the change", async () => {
      const subject = "evo.derive.advise";
      await configure(subject, { compatibility: "NONE" });
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const breaking = objectSchema({ prompt: { type: "integer" } }, ["prompt"]);
      expectRegistered(await register(subject, breaking, { version: "1.1.0" }), "1.1.0");
    });
  });

  describe("semver_policy enforce", () => {
    const breaking = objectSchema({ prompt: { type: "integer" } }, ["prompt"]);

    test("a breaking change registered as a minor is refused, naming the version it needs", async () => {
      const subject = "evo.enforce.a";
      await configure(subject, { compatibility: "NONE", semver_policy: "enforce" });
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      const before = await api.snapshot();
      const res = await register(subject, breaking, { version: "1.1.0" });
      expectError(res, 409, "version_policy");
      expect(res.body.error.message).toContain("2.0.0");
      expect(res.body.error.details).toEqual({
        requested_version: "1.1.0",
        needed_version: "2.0.0",
        change: "major",
        latest_version: "1.0.0",
      });
      expect(await api.snapshot()).toEqual(before);
      // The dry run answers the same.
      const check = await dryRun(subject, { schema_type: "json", content: breaking, version: "1.1.0" });
      expectError(check, 409, "version_policy");
      // A larger step than needed is fine.
      expectRegistered(await register(subject, breaking, { version: "3.0.0" }), "3.0.0");
    });

    test("the major it needs is accepted, and without a version it is derived", async () => {
      const subject = "evo.enforce.b";
      await configure(subject, { compatibility: "NONE", semver_policy: "enforce" });
      expectRegistered(await register(subject, PROMPT_V1), "1.0.0");
      expectRegistered(await register(subject, breaking, { version: "2.0.0" }), "2.0.0");
      expectRegistered(await register(subject, { ...breaking, description: "Now a number" }), "2.0.1");
      // A minor where a patch would do is a larger step: fine.
      expectRegistered(
        await register(
          subject,
          { ...breaking, properties: { prompt: { type: "integer" }, x: S } },
          { version: "2.1.0" },
        ),
        "2.1.0",
      );
    });
  });
});

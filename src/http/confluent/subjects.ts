/**
 * Confluent's subject routes: list subjects, look a schema up under a
 * subject, delete a subject, list, register, read and delete its versions
 * (`latest` or `-1` for the highest live one), the bare schema text of a
 * version, the ids referencing it, and `/subjects/{s}/metadata`.
 *
 * Confluent's `/metadata` answers the latest version whose metadata
 * properties hold every `key`/`value` pair asked. This registry stores no
 * Confluent metadata, so with no pair it is the latest version, and with any
 * pair no version matches: 40403, as Confluent answers when none does.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { narrowedPrefix, subjectFilter } from "../auth/scope.ts";
import { writeContext } from "../write-context.ts";
import { ConfluentError } from "./errors.ts";
import { json, jsonText, readJson } from "./media.ts";
import { flag, parseVersion } from "./params.ts";
import { readCandidate, subjectVersionShape } from "./representation.ts";
import { type ConfluentRoute, pathParam, subjectParam } from "./route-table.ts";

/**
 * How a version is read: `?deleted=` and `?format=` (`serialized`: a Protobuf
 * schema as a base64 FileDescriptorProto; Confluent's Protobuf deserializer
 * reads referenced files so).
 */
function readOptions(c: Context<AppEnv>): { includeDeleted: boolean; format?: string } {
  const format = c.req.query("format");
  return { includeDeleted: flag(c, "deleted"), ...(format ? { format } : {}) };
}

export const subjectRoutes: ConfluentRoute[] = [
  {
    method: "GET",
    path: "/subjects",
    handler: async (c, registry) => {
      const subjectPrefix = narrowedPrefix(c, c.req.query("subjectPrefix"));
      const subjects = await registry.listSubjects({
        ...(subjectPrefix ? { subjectPrefix } : {}),
        includeDeleted: flag(c, "deleted"),
        deletedOnly: flag(c, "deletedOnly"),
      });
      // A caller limited to subject prefixes sees only theirs (auth/scope.ts).
      const visible = subjectFilter(c);
      return json(visible ? subjects.filter(visible) : subjects);
    },
  },
  {
    method: "POST",
    path: "/subjects/:subject",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const candidate = readCandidate(await readJson(c.req.raw), { allowIdentity: false });
      const schema = await registry.lookup(subject, candidate, {
        normalize: flag(c, "normalize"),
        includeDeleted: flag(c, "deleted"),
      });
      return json(subjectVersionShape(schema, subject));
    },
  },
  {
    method: "DELETE",
    path: "/subjects/:subject",
    handler: async (c, registry) =>
      json(
        await registry.deleteSubject(subjectParam(c), { permanent: flag(c, "permanent") }, writeContext(c)),
      ),
  },
  {
    method: "GET",
    path: "/subjects/:subject/versions",
    handler: async (c, registry) =>
      json(
        await registry.listVersions(subjectParam(c), {
          includeDeleted: flag(c, "deleted"),
          deletedOnly: flag(c, "deletedOnly"),
        }),
      ),
  },
  {
    method: "POST",
    path: "/subjects/:subject/versions",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const candidate = readCandidate(await readJson(c.req.raw), { allowIdentity: true });
      const { id } = await registry.register(
        subject,
        candidate,
        { normalize: flag(c, "normalize") },
        writeContext(c),
      );
      return json({ id });
    },
  },
  {
    method: "GET",
    path: "/subjects/:subject/versions/:version",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const version = parseVersion(pathParam(c, "version"));
      const schema = await registry.version(subject, version, readOptions(c));
      return json(subjectVersionShape(schema, subject));
    },
  },
  {
    method: "GET",
    path: "/subjects/:subject/versions/:version/schema",
    handler: async (c, registry) => {
      const version = parseVersion(pathParam(c, "version"));
      const schema = await registry.version(subjectParam(c), version, readOptions(c));
      return jsonText(schema.schema);
    },
  },
  {
    method: "GET",
    path: "/subjects/:subject/versions/:version/referencedby",
    handler: async (c, registry) => {
      const version = parseVersion(pathParam(c, "version"));
      return json(await registry.referencedBy(subjectParam(c), version));
    },
  },
  {
    method: "DELETE",
    path: "/subjects/:subject/versions/:version",
    handler: async (c, registry) => {
      const version = parseVersion(pathParam(c, "version"));
      return json(
        await registry.deleteVersion(
          subjectParam(c),
          version,
          { permanent: flag(c, "permanent") },
          writeContext(c),
        ),
      );
    },
  },
  {
    method: "GET",
    path: "/subjects/:subject/metadata",
    handler: async (c, registry) => {
      const subject = subjectParam(c);
      const schema = await registry.version(subject, "latest", readOptions(c));
      if (c.req.queries("key")?.length) {
        throw new ConfluentError(404, 40403, "Schema not found");
      }
      return json(subjectVersionShape(schema, subject));
    },
  },
];

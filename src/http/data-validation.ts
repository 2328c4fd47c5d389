/**
 * What the two validate routes share beyond their contract: reading a body
 * as one document or a batch, asking the service, and shaping the answer.
 *
 * The batch rule: an object whose only key is `documents`, holding an array,
 * is a batch; any other JSON value is one document. A document of exactly
 * that shape is sent wrapped, `{"documents": [doc]}`.
 */
import type { z } from "@hono/zod-openapi";
import { DEFAULT_MAX_ERRORS } from "../domain/data-validation/defaults.ts";
import { RegistryError } from "../domain/errors.ts";
import { MAX_CONTENT_DEPTH } from "../domain/limits.ts";
import {
  MAX_VALIDATION_DOCUMENTS,
  type RegistryService,
  type ValidationTarget,
} from "../registry/registry-service.ts";
import type { batchVerdict, dataVerdict } from "./contract.ts";

/** What both validate routes say about their body and answer. */
export const VALIDATION_DESCRIPTION = [
  'The body is the JSON document to check, or a batch: an object whose only key is "documents", holding an array of documents (at most ' +
    `${MAX_VALIDATION_DOCUMENTS}; more answers 400). A single document of exactly that shape must be wrapped: {"documents": [doc]}.`,
  `A single document answers {valid, errors}; a batch answers {valid, results}, valid being true when every document is, with one {valid, errors} per document in the order sent. Each error is a JSON pointer into the document (path) and a sentence; at most ${DEFAULT_MAX_ERRORS} errors per document.`,
  `JSON Schema documents are any JSON value; Avro documents are in Avro's JSON form; Protobuf documents are in the proto3 JSON mapping of one message: the first the file declares, or the one ?message= names (a name the schema does not declare answers 400). Stored patterns run in linear time, and documents nested deeper than ${MAX_CONTENT_DEPTH} levels are invalid where validation would follow them down. A stored schema the validator cannot compile (a pattern the linear-time engine cannot run, say) answers 422 invalid_schema.`,
].join("\n\n");

type Verdict = z.infer<typeof dataVerdict>;
type BatchVerdict = z.infer<typeof batchVerdict>;

/** The documents of a validation body: the batch's array, or the body alone. */
export function documentsOf(body: unknown): { batch: boolean; documents: readonly unknown[] } {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const keys = Object.keys(body);
    const documents = (body as { documents?: unknown }).documents;
    if (keys.length === 1 && keys[0] === "documents" && Array.isArray(documents)) {
      return { batch: true, documents };
    }
  }
  return { batch: false, documents: [body] };
}

/** Validates the body's documents against the target: one verdict, or a batch's. */
export async function validateBody(
  service: RegistryService,
  target: ValidationTarget,
  body: unknown,
  message: string | undefined,
): Promise<Verdict | BatchVerdict> {
  const { batch, documents } = documentsOf(body);
  let verdicts: Awaited<ReturnType<RegistryService["validateData"]>>;
  try {
    verdicts = await service.validateData(target, documents, { messageName: message });
  } catch (error) {
    throw inHttpTerms(error);
  }
  if (!batch) return verdicts[0]!;
  return { valid: verdicts.every((verdict) => verdict.valid), results: [...verdicts] };
}

/** The service names the Protobuf message `messageName`; over HTTP it is the `message` query parameter. */
function inHttpTerms(error: unknown): unknown {
  if (
    error instanceof RegistryError &&
    error.code === "invalid_request" &&
    error.details.field === "messageName"
  ) {
    return RegistryError.invalidRequest(error.message.replace(/^messageName\b/, "query parameter message"), {
      ...error.details,
      field: "message",
    });
  }
  return error;
}

/**
 * Confluent's media types. Clients send and accept
 * `application/vnd.schemaregistry.v1+json`, `application/vnd.schemaregistry+json`
 * or `application/json`; every answer is `application/vnd.schemaregistry.v1+json`,
 * as Confluent's own. A body is read as JSON whichever of the three it is
 * labelled (or when it is not labelled at all, as curl users often send it).
 */
import { ConfluentError } from "./errors.ts";

export const CONFLUENT_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json";

const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.schemaregistry.v1+json",
  "application/vnd.schemaregistry+json",
  "application/json",
  // Some clients label a JSON body as octet-stream; Confluent reads it as JSON too.
  "application/octet-stream",
]);

const HEADERS = { "Content-Type": CONFLUENT_MEDIA_TYPE };

/** A JSON answer from a body already written as text (the memoised representations). */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: HEADERS });
}

export function json(value: unknown, status = 200): Response {
  return jsonText(JSON.stringify(value), status);
}

/** The request body as JSON; 415 for another media type, 400 (Confluent's code too) for text that does not parse. */
export async function readJson(request: Request): Promise<unknown> {
  const contentType = request.headers.get("Content-Type");
  if (contentType !== null) {
    const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
    if (mediaType !== "" && !JSON_MEDIA_TYPES.has(mediaType)) {
      throw new ConfluentError(415, 415, `HTTP 415 Unsupported Media Type: ${mediaType}`);
    }
  }
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfluentError(400, 400, `Unparseable request body: ${detail}`);
  }
}

/**
 * Confluent's answer to a request an admission bound refused: busy, not
 * broken, so 503 with Retry-After (Confluent's 50001 code in the body),
 * where any other backend failure stays Confluent's 500.
 */
import { expect, test } from "bun:test";
import { RegistryError } from "../../../src/domain/errors.ts";
import { confluentErrorResponse } from "../../../src/http/confluent/errors.ts";
import { silentLogger } from "../../../src/observability/logger.ts";

const request = { requestId: "req-1", method: "POST", path: "/subjects/s/versions" };

test("a refusal by an admission bound is 503 with Retry-After", async () => {
  const refused = new RegistryError("unavailable", "too many writes are waiting; try again shortly", {
    class: "write",
    reason: "queue_full",
    retry_after_seconds: 2,
  });
  const response = confluentErrorResponse(refused, request, silentLogger);
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toBe("2");
  expect(await response.json()).toEqual({
    error_code: 50001,
    message: "too many writes are waiting; try again shortly",
  });
});

test("another unavailable backend stays Confluent's 500, without Retry-After", async () => {
  const down = RegistryError.unavailable("the metadata database does not answer");
  const response = confluentErrorResponse(down, request, silentLogger);
  expect(response.status).toBe(500);
  expect(response.headers.get("Retry-After")).toBeNull();
  expect((await response.json()).error_code).toBe(50001);
});

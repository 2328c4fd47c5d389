/**
 * The answer to a request that reaches a server which is draining (stopping,
 * but still waiting for the requests in flight): 503 `unavailable` in the
 * API's error envelope, with `Connection: close` so the client's next try
 * opens a connection elsewhere. Used where a runtime cannot stop listening
 * without breaking the requests in flight (see deno.ts).
 */
import { ERROR_STATUS, errorEnvelope } from "../domain/errors.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";

export function drainingResponse(request: Request): Response {
  const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
  const body = errorEnvelope(
    "unavailable",
    "this instance is shutting down; retry the request",
    {},
    requestId,
  );
  return new Response(JSON.stringify(body), {
    status: ERROR_STATUS.unavailable,
    headers: {
      "Content-Type": "application/json",
      Connection: "close",
      "Retry-After": "1",
      [REQUEST_ID_HEADER]: requestId,
    },
  });
}

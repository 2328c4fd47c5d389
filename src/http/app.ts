/**
 * The registry's HTTP app: one OpenAPIHono `fetch` handler with every route,
 * the OpenAPI document (the contract, generated from the routes) and the
 * docs page. Web-standard only, so it serves on Bun and Deno alike and tests
 * call `app.request()`.
 *
 * Order of the pipeline: request id → telemetry → deadline → header bound →
 * authentication → rate limit → body limit → JSON depth bound → route (zod
 * validation → handler) → onError / notFound. The bounds (request-bounds.ts)
 * come before anything that parses the request. The telemetry middleware
 * (metrics and the access log) comes right after the request id, so it times
 * everything after it and every log line carries the id. The composition
 * root may put a fast path in front of it all (schema-fast-path.ts).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { RegistryError } from "../domain/errors.ts";
import type { Limits } from "../domain/limits.ts";
import { MAX_REQUEST_ID_LENGTH, REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import { requestTelemetry } from "../observability/request-telemetry.ts";
import { MAX_VALIDATION_DOCUMENTS } from "../registry/registry-service.ts";
import type { AddRoute, AppDeps, AppEnv, RegistryApp } from "./app-env.ts";
import { apiKeyRoutes } from "./auth/key-routes.ts";
import { authentication } from "./auth/middleware.ts";
import { describeSecurity } from "./auth/openapi.ts";
import { bodyLimitFor } from "./body-limit.ts";
import { addConfluentRoutes, isConfluentPath, refuseConfluent } from "./confluent/confluent-api.ts";
import { addApiReference } from "./console/api-reference.ts";
import { CONSOLE_BASE, createConsoleApp } from "./console/console-app.tsx";
import { API_PREFIX, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./contract.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, requestDeadline } from "./deadline.ts";
import { createErrorHandler, createNotFoundHandler, validationHook } from "./error-handler.ts";
import { rateLimiter } from "./rate-limit.ts";
import {
  boundBodyBytes,
  boundHeaders,
  boundJsonDepth,
  MAX_BODY_DEPTH,
  MAX_HEADER_BYTES,
  type Refuse,
} from "./request-bounds.ts";
import { checkCompatibility } from "./routes/check-compatibility.ts";
import { createUpload } from "./routes/create-upload.ts";
import { deleteSchema } from "./routes/delete-schema.ts";
import { deleteSubjectConfig } from "./routes/delete-subject-config.ts";
import { getAudit } from "./routes/get-audit.ts";
import { getGlobalConfig } from "./routes/get-global-config.ts";
import { getIdentity } from "./routes/get-identity.ts";
import { getLatestVersion } from "./routes/get-latest-version.ts";
import { getSchema } from "./routes/get-schema.ts";
import { getSchemaContent } from "./routes/get-schema-content.ts";
import { getSchemaHistory } from "./routes/get-schema-history.ts";
import { getStats } from "./routes/get-stats.ts";
import { getSubjectConfig } from "./routes/get-subject-config.ts";
import { getVersion } from "./routes/get-version.ts";
import { health } from "./routes/health.ts";
import { listSubjects } from "./routes/list-subjects.ts";
import { listVersions } from "./routes/list-versions.ts";
import { metrics } from "./routes/metrics.ts";
import { putGlobalConfig } from "./routes/put-global-config.ts";
import { putSubjectConfig } from "./routes/put-subject-config.ts";
import { registerSchema } from "./routes/register-schema.ts";
import { searchSchemas } from "./routes/search-schemas.ts";
import { updateSchemaState } from "./routes/update-schema-state.ts";
import { validateSchemaData } from "./routes/validate-schema-data.ts";
import { validateVersionData } from "./routes/validate-version-data.ts";

export const API_VERSION = "1.0.0";

/**
 * Routes in registration order. `versions/latest` comes before
 * `versions/{version}`: both match `/latest`, and the first one answers.
 */
const ROUTES: AddRoute[] = [
  registerSchema,
  createUpload,
  getSchema,
  getSchemaContent,
  getSchemaHistory,
  updateSchemaState,
  deleteSchema,
  listSubjects,
  getLatestVersion,
  getVersion,
  listVersions,
  validateVersionData,
  getGlobalConfig,
  putGlobalConfig,
  getSubjectConfig,
  putSubjectConfig,
  deleteSubjectConfig,
  checkCompatibility,
  validateSchemaData,
  searchSchemas,
  getStats,
  getIdentity,
  getAudit,
  health,
  metrics,
  apiKeyRoutes,
];

export function createApp(deps: AppDeps): RegistryApp {
  const limits = deps.service.limits;
  const maxBodyBytes = bodyLimitFor(limits);
  const app: RegistryApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(
    "*",
    requestId({
      limitLength: MAX_REQUEST_ID_LENGTH,
      // Called for an id Hono's check refuses: the registry's rule also keeps ids with `.` or `:`.
      generator: (c) => requestIdFrom(c.req.header(REQUEST_ID_HEADER)),
    }),
  );
  app.use("*", requestTelemetry({ metrics: deps.metrics, logger: deps.logger }));
  // Every request answered within the deadline, whatever the backends do; telemetry sees that answer.
  app.use(
    "*",
    requestDeadline({
      timeoutMs: deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      logger: deps.logger,
      isConfluent: (path) => deps.confluent !== undefined && isConfluentPath(path),
    }),
  );
  // The console (a sub-app: its middleware meets only /ui requests) and the API reference come before
  // every API middleware: their pages hold no data and render for anyone; the data comes from the API.
  app.route(CONSOLE_BASE, createConsoleApp({ limits, logger: deps.logger, auth: deps.auth }));
  addApiReference(app, { openApiUrl: "/openapi.json", title: "Schema Registry API" });
  // Bounds checked before anything parses the request (request-bounds.ts), answered in each API's own body.
  const refuse: Refuse = (c, kind, message, details) => {
    if (deps.confluent && isConfluentPath(c.req.path)) return refuseConfluent(c, kind, message, details);
    throw new RegistryError(kind === "headers" ? "headers_too_large" : "invalid_request", message, details);
  };
  app.use("*", boundHeaders({ maxBytes: MAX_HEADER_BYTES, refuse }));
  // Sets `principal` on every request, or answers 401 / 403 (src/http/auth/permissions.ts says who may do what).
  app.use("*", authentication(deps.auth, deps.logger));
  // Per caller, so after authentication: a 429 costs one bucket lookup and nothing below it.
  if (deps.rateLimit) app.use("*", rateLimiter(deps.rateLimit, deps.metrics));
  app.use(`${API_PREFIX}/*`, boundBodyBytes(maxBodyBytes));

  app.use(`${API_PREFIX}/*`, boundJsonDepth({ maxDepth: MAX_BODY_DEPTH, refuse }));

  for (const addRoute of ROUTES) addRoute(app, deps);
  // Confluent's API answers its own errors and bodies; mounted after the native routes, which it never shadows.
  if (deps.confluent) {
    addConfluentRoutes(app, { confluent: deps.confluent, logger: deps.logger, maxBodyBytes });
  }

  let document: unknown;
  let described: unknown;
  app.get("/openapi.json", (c) => {
    // Built once: the routes do not change after start-up.
    document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Schema Registry",
        version: API_VERSION,
        description: describeLimits(limits),
      },
      tags: [
        { name: "schemas", description: "Register, read, change and delete schemas." },
        { name: "subjects", description: "Subjects and their versions." },
        { name: "search", description: "Find schemas." },
        {
          name: "compatibility",
          description:
            "How a subject's schemas may evolve: the compatibility level and semver policy (global and per subject), and a dry run of a register.",
        },
        { name: "validation", description: "Check JSON documents against a stored schema." },
        { name: "operations", description: "Health probes, Prometheus metrics and statistics." },
        { name: "keys", description: "API keys: who may call the registry (admin)." },
      ],
    });
    // The permission table written into it: the security schemes and what each operation needs.
    described ??= describeSecurity(document, {
      required: deps.auth?.authenticator.required ?? false,
      metricsPublic: deps.auth?.metricsPublic ?? true,
    });
    return c.json(described);
  });

  app.notFound(createNotFoundHandler(allowedMethodsOf(app)));
  app.onError(createErrorHandler(deps.logger));
  return app;
}

function describeLimits(limits: Limits): string {
  return [
    "Schema registry for JSON Schema, Avro and Protobuf, with semantic versions derived from each change, compatibility checks on every register, data validation against stored schemas and a lifecycle.",
    "",
    'Every error answers `{ "error": { "code", "message", "details", "request_id" } }` (the Error schema); every response carries `X-Request-Id`.',
    "A known path asked with another method answers 405 `method_not_allowed` with `Allow`.",
    "",
    "Limits of this instance:",
    `- content: at most ${limits.maxSchemaBytes} bytes in canonical form (MAX_SCHEMA_BYTES); request body at most ${bodyLimitFor(limits)} bytes`,
    `- request: line and headers at most ${MAX_HEADER_BYTES} bytes (431 headers_too_large); a JSON body nested at most ${MAX_BODY_DEPTH} levels deep (400 invalid_request)`,
    `- subject: 1 to ${limits.maxSubjectLength} characters`,
    `- tags: at most ${limits.maxTags}, each at most ${limits.maxTagLength} characters`,
    `- description: at most ${limits.maxDescriptionLength} characters; metadata at most ${limits.maxMetadataBytes} bytes of JSON`,
    `- lists: limit 0 to ${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}`,
    `- validation: at most ${MAX_VALIDATION_DOCUMENTS} documents per request, within the request body limit`,
  ].join("\n");
}

/** The methods that serve a path, from the app's own route table (for 405). */
function allowedMethodsOf(app: RegistryApp): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        pattern: new RegExp(
          `^${route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}/?$`,
        ),
      }));
    const methods = new Set(table.filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

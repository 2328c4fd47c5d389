/**
 * GET /health/live, GET /health/ready and GET /health. Live: the process
 * answers (no component is asked, so a slow database never gets a live
 * process restarted). Ready: every critical component (PostgreSQL, with its
 * migrations applied) answers; a non-critical one down (Redis, the object
 * store) makes it degraded but still ready, since requests succeed without
 * it. `/health`: every component, configured or not, with its status and
 * latency, for a person or a dashboard.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { isRegistryError } from "../../domain/errors.ts";
import type { HealthProbe } from "../../observability/health.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { requestIdHeader } from "../contract-schemas.ts";

/** The components `/health` always lists; one that is not configured shows as such. */
export const KNOWN_COMPONENTS = ["postgres", "redis", "object_store"] as const;

/** A probe that does not answer within this budget counts as down. */
export const PROBE_TIMEOUT_MS = 2000;

const check = z.object({
  status: z.enum(["up", "down"]),
  critical: z.boolean(),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export interface ProbeResult {
  name: string;
  status: "up" | "down";
  critical: boolean;
  latencyMs: number;
  error?: string;
}

export async function runProbes(probes: HealthProbe[]): Promise<ProbeResult[]> {
  return Promise.all(
    probes.map(async (probe) => {
      const started = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
              PROBE_TIMEOUT_MS,
            );
          }),
        ]);
        return {
          name: probe.name,
          status: "up" as const,
          critical: probe.critical,
          latencyMs: elapsed(started),
        };
      } catch (error) {
        // Only our own messages go out: a driver's error may name hosts or users.
        const message =
          isRegistryError(error) || (error instanceof Error && error.message.startsWith("no answer"))
            ? error.message
            : "does not answer";
        return {
          name: probe.name,
          status: "down" as const,
          critical: probe.critical,
          latencyMs: elapsed(started),
          error: message,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

export function health(app: RegistryApp, deps: AppDeps): void {
  const live = createRoute({
    method: "get",
    path: "/health/live",
    operationId: "healthLive",
    tags: ["operations"],
    summary: "Liveness: the process answers",
    responses: {
      200: {
        description: "Alive.",
        headers: requestIdHeader,
        content: { "application/json": { schema: z.object({ status: z.literal("live") }) } },
      },
    },
  });
  app.openapi(live, (c) => c.json({ status: "live" as const }, 200));

  const readiness = z
    .object({ status: z.enum(["ready", "degraded", "unready"]), checks: z.record(z.string(), check) })
    .openapi("Readiness");
  const ready = createRoute({
    method: "get",
    path: "/health/ready",
    operationId: "healthReady",
    tags: ["operations"],
    summary: "Readiness: PostgreSQL answers and its migrations are applied",
    responses: {
      200: {
        description: "Ready (degraded when a non-critical component is down).",
        headers: requestIdHeader,
        content: { "application/json": { schema: readiness } },
      },
      503: {
        description: "A critical component is down.",
        content: { "application/json": { schema: readiness } },
      },
    },
  });
  app.openapi(ready, async (c) => {
    const results = await runProbes(deps.health);
    const checks = Object.fromEntries(
      results.map((r) => [
        r.name,
        {
          status: r.status,
          critical: r.critical,
          latency_ms: r.latencyMs,
          ...(r.error ? { error: r.error } : {}),
        },
      ]),
    );
    if (results.some((r) => r.critical && r.status === "down")) {
      return c.json({ status: "unready" as const, checks }, 503);
    }
    const status = results.some((r) => r.status === "down") ? ("degraded" as const) : ("ready" as const);
    return c.json({ status, checks }, 200);
  });

  const component = z
    .object({
      status: z.enum(["up", "down", "not_configured"]),
      critical: z.boolean().openapi({ description: "Down makes the instance unready (503)." }),
      latency_ms: z.number().nullable().openapi({ description: "null when not configured." }),
      error: z.string().optional(),
    })
    .openapi("ComponentHealth");
  const report = z
    .object({
      status: z.enum(["up", "degraded", "down"]).openapi({
        description:
          "down: a critical component is down; degraded: another one is; up: all configured ones answer.",
      }),
      components: z.record(z.string(), component).openapi({
        description: "postgres, redis and object_store always, and any other component the instance probes.",
      }),
      uptime_seconds: z.number(),
      runtime: z.string().openapi({ example: "Bun/1.4.5" }),
    })
    .openapi("Health");
  const detail = createRoute({
    method: "get",
    path: "/health",
    operationId: "health",
    tags: ["operations"],
    summary: "Every component's status and latency",
    description: `Each probe has ${PROBE_TIMEOUT_MS} ms to answer; a component that does not counts as down.`,
    responses: {
      200: {
        description: "Up, or degraded (a non-critical component is down).",
        headers: requestIdHeader,
        content: { "application/json": { schema: report } },
      },
      503: {
        description: "A critical component is down.",
        headers: requestIdHeader,
        content: { "application/json": { schema: report } },
      },
    },
  });
  app.openapi(detail, async (c) => {
    const results = await runProbes(deps.health);
    const components: Record<string, z.infer<typeof component>> = {};
    for (const name of KNOWN_COMPONENTS) {
      components[name] = { status: "not_configured", critical: false, latency_ms: null };
    }
    for (const r of results) {
      components[r.name] = {
        status: r.status,
        critical: r.critical,
        latency_ms: r.latencyMs,
        ...(r.error ? { error: r.error } : {}),
      };
    }
    const body = {
      status: overallStatus(results),
      components,
      uptime_seconds: Math.round(performance.now()) / 1000,
      runtime: typeof navigator === "undefined" ? "unknown" : navigator.userAgent,
    };
    return body.status === "down" ? c.json(body, 503) : c.json(body, 200);
  });
}

export function overallStatus(results: ProbeResult[]): "up" | "degraded" | "down" {
  if (results.some((r) => r.critical && r.status === "down")) return "down";
  return results.some((r) => r.status === "down") ? "degraded" : "up";
}

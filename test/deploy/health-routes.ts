/**
 * The health routes the server really has, read from their definitions
 * (src/http/routes/health.ts), so the images' health checks and the
 * Kubernetes probes are checked against the code rather than a copy of it.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export function healthRoutes(): string[] {
  const source = readFileSync(resolve(import.meta.dir, "../../src/http/routes/health.ts"), "utf8");
  const paths = [...source.matchAll(/path:\s*"(\/health[^"]*)"/g)].map((match) => match[1]!);
  if (!paths.includes("/health/live") || !paths.includes("/health/ready")) {
    throw new Error(`the health routes moved or were renamed: found ${paths.join(", ")}`);
  }
  return paths;
}

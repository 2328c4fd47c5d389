/**
 * The images and compose.yaml, checked without Docker (there is none on the
 * test machines): each Dockerfile parses into instructions, is multi-stage,
 * ends as a non-root user, listens on every interface, exposes the port it
 * serves and checks a real health route; what it copies exists and is not
 * excluded by .dockerignore. compose.yaml parses, runs the registry with auth
 * on and a bootstrap key the server accepts, and every file it mounts or
 * builds from exists, wired to each other (Prometheus → registry, Grafana →
 * Prometheus and the dashboard).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { healthRoutes } from "./health-routes.ts";

const ROOT = resolve(import.meta.dir, "../..");

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/**
 * A Dockerfile as instructions: line continuations joined, comment lines
 * (also inside a continuation) and parser directives dropped, keywords upper-cased.
 */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let current: { text: string; line: number } | null = null;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) return;
    if (current === null) {
      if (line.trim() === "") return;
      current = { text: "", line: index + 1 };
    }
    if (line.endsWith("\\")) {
      current.text += `${line.slice(0, -1)} `;
      return;
    }
    current.text += line;
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(current.text);
    if (!match) throw new Error(`line ${current.line}: not an instruction: ${current.text}`);
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: current.line });
    current = null;
  });
  if (current !== null) throw new Error("the file ends inside a line continuation");
  return instructions;
}

const KNOWN = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

/** `ENV A=1 B="x y"` → { A: "1", B: "x y" }. */
function envOf(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    out[match[1]!] = match[2]!.replace(/^"|"$/g, "");
  }
  return out;
}

/** The patterns of .dockerignore, as a test of whether a path is excluded (top-level names are enough here). */
function dockerignore(): (path: string) => boolean {
  const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return (path) =>
    patterns.some((pattern) => {
      const regex = new RegExp(
        `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}(/|$)`,
      );
      return regex.test(path);
    });
}

const DOCKERFILES = ["Dockerfile", "Dockerfile.deno"];
const routes = healthRoutes();

describe.each(DOCKERFILES)("%s", (file) => {
  const instructions = parseDockerfile(readFileSync(join(ROOT, file), "utf8"));
  const of = (keyword: string) => instructions.filter((entry) => entry.keyword === keyword);
  const froms = of("FROM");
  const lastFrom = froms.at(-1)!;
  const finalStage = instructions.filter((entry) => entry.line >= lastFrom.line);

  test("parses into known instructions, multi-stage", () => {
    expect(instructions.filter((entry) => !KNOWN.has(entry.keyword))).toEqual([]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    // The dependencies stage installs production modules only, from the lock file.
    expect(of("RUN").some((entry) => /npm ci\b.*--omit=dev/.test(entry.args))).toBe(true);
  });

  test("the final stage runs as a non-root user", () => {
    const users = finalStage.filter((entry) => entry.keyword === "USER");
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(":")[0]!;
    expect(["root", "0", ""]).not.toContain(user);
  });

  test("listens on every interface, on the port it exposes", () => {
    const env = Object.assign({}, ...finalStage.filter((e) => e.keyword === "ENV").map((e) => envOf(e.args)));
    expect(env.HOST).toBe("0.0.0.0");
    const exposed = finalStage.filter((entry) => entry.keyword === "EXPOSE").map((entry) => entry.args);
    expect(exposed).toContain(env.PORT);
  });

  test("the health check asks a real health route", () => {
    const health = finalStage.filter((entry) => entry.keyword === "HEALTHCHECK");
    expect(health.length).toBe(1);
    const path = /\/health\/[a-z]+/.exec(health[0]!.args)?.[0];
    expect(path).toBeDefined();
    expect(routes).toContain(path!);
    expect(health[0]!.args).toMatch(/\bCMD\b/);
  });

  test("everything it copies from the context exists and is not ignored", () => {
    const ignored = dockerignore();
    const copied = of("COPY")
      .filter((entry) => !entry.args.startsWith("--from"))
      .flatMap((entry) => entry.args.split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) {
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored(source) }).toEqual({ source, ignored: false });
    }
    // And the runtime stage gets the server's sources and its migrations.
    expect(copied).toContain("src");
    expect(copied).toContain("migrations");
  });

  test("starts the server", () => {
    const cmd = finalStage.filter((entry) => entry.keyword === "CMD").at(-1)!;
    expect(JSON.parse(cmd.args)).toContain("src/server.ts");
  });
});

test("the Dockerfile parser refuses what is not an instruction, and joins continuations", () => {
  expect(() => parseDockerfile("FROM a\n!!\n")).toThrow("not an instruction");
  expect(parseDockerfile("ENV A=1 \\\n  # note\n  B=2\n")).toEqual([
    { keyword: "ENV", args: "A=1    B=2", line: 1 },
  ]);
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}

describe("compose.yaml", () => {
  const compose = Bun.YAML.parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const { services } = compose;
  const registry = services.registry!;
  /** `${NAME:-default}` as compose fills it in with NAME unset. */
  const filled = (value: string) => value.replace(/\$\{\w+:-([^}]*)\}/g, "$1");

  test("runs the registry, Prometheus and Grafana beside PostgreSQL, Redis and MinIO", () => {
    for (const name of ["postgres", "redis", "minio", "registry", "prometheus", "grafana"]) {
      expect(Object.keys(services)).toContain(name);
    }
    expect(existsSync(join(ROOT, registry.build!.context, registry.build!.dockerfile))).toBe(true);
  });

  test("the registry has auth on, listens on every interface, and its environment is a valid configuration", async () => {
    const env = Object.fromEntries(
      Object.entries(registry.environment!).map(([key, value]) => [key, filled(String(value))]),
    );
    expect(env.AUTH_REQUIRED).toBe("true");
    expect(env.HOST).toBe("0.0.0.0");
    expect(registry.environment!.AUTH_BOOTSTRAP_ADMIN_KEY).toMatch(/^\$\{AUTH_BOOTSTRAP_ADMIN_KEY:-.+\}$/);
    const config = await loadConfig({ env });
    expect(config.server.port).toBe(8080);
    expect(config.storage.databaseUrl).toContain("@postgres:5432/");
    expect(registry.ports).toContain(`127.0.0.1:${config.server.port}:${config.server.port}`);
  });

  test("every file it mounts exists, and every named volume is declared", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (source.startsWith(".")) {
          expect({ name, source, exists: existsSync(join(ROOT, source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        } else {
          expect(Object.keys(compose.volumes)).toContain(source);
        }
      }
    }
  });

  test("Prometheus scrapes the registry service on its port and loads the rules it mounts", () => {
    const prometheus = Bun.YAML.parse(
      readFileSync(join(ROOT, "deploy/prometheus/prometheus.yml"), "utf8"),
    ) as {
      rule_files: string[];
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets).toContain(`registry:${registry.environment!.PORT}`);
    expect(prometheus.scrape_configs[0]!.metrics_path).toBe("/metrics");
    const mounts = services.prometheus!.volumes!.map((volume) => volume.split(":"));
    for (const rule of prometheus.rule_files) {
      expect(mounts.some(([, target]) => target === `/etc/prometheus/${rule}`)).toBe(true);
    }
  });

  test("Grafana gets the data source pointing at Prometheus, and the dashboards folder its provider reads", () => {
    const grafana = services.grafana!;
    const mounts = new Map(grafana.volumes!.map((volume) => [volume.split(":")[1]!, volume.split(":")[0]!]));
    const provider = Bun.YAML.parse(
      readFileSync(join(ROOT, "deploy/grafana/provisioning/dashboards/schema-registry.yml"), "utf8"),
    ) as { providers: { options: { path: string } }[] };
    const dashboards = mounts.get(provider.providers[0]!.options.path);
    expect(dashboards).toBe("./deploy/grafana/dashboards");
    expect(existsSync(join(ROOT, dashboards!, "schema-registry.json"))).toBe(true);
    const datasource = Bun.YAML.parse(
      readFileSync(join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yml"), "utf8"),
    ) as { datasources: { url: string }[] };
    expect(datasource.datasources[0]!.url).toBe("http://prometheus:9090");
    expect(services.prometheus!.ports).toContain("127.0.0.1:9090:9090");
  });
});

/**
 * deploy/prometheus and deploy/grafana, checked: promtool accepts the rules
 * and the scrape config, the rules' unit tests pass (error rate, breaker,
 * readiness, hit rate, replica lag), every dashboard query is valid PromQL,
 * and every metric the dashboard and the rules name is one a running
 * registry exports (a renamed metric would leave a panel empty and an alert
 * silent without anyone noticing).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { requireRedis } from "../support/redis.ts";
import { type ExportedMetric, findPromtool, isExported, metricNames, promtool } from "./promql.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PROMETHEUS = join(ROOT, "deploy/prometheus");
const DASHBOARD = join(ROOT, "deploy/grafana/dashboards/schema-registry.json");

const promtoolPath = findPromtool();

/** Grafana's reference to the dashboard's data source variable (its syntax, not a template string). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
const GRAFANA_DATASOURCE = "${datasource}";

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

function alertRules(): Rule[] {
  const doc = Bun.YAML.parse(readFileSync(join(PROMETHEUS, "alerts.yml"), "utf8")) as {
    groups: { rules: Rule[] }[];
  };
  return doc.groups.flatMap((group) => group.rules);
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;

function dashboardPanels(): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets and the variables' queries. */
function dashboardQueries(): { where: string; expr: string }[] {
  const targets = dashboardPanels().flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })),
  );
  const variables = dashboard.templating.list
    .filter((variable) => variable.type === "query")
    .map((variable) => ({
      where: `variable ${variable.name}`,
      expr: typeof variable.query === "string" ? variable.query : (variable.query?.query ?? ""),
    }));
  return [...targets, ...variables];
}

/** A dashboard query as Prometheus would get it once Grafana has filled in its variables. */
function asPrometheusSees(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__interval", "1m")
    .replace(/\$\{?\w+\}?/g, ".*");
}

describe.skipIf(promtoolPath === null)("promtool on deploy/prometheus", () => {
  test("promtool check rules accepts alerts.yml", async () => {
    const result = await promtool(promtoolPath!, ["check", "rules", join(PROMETHEUS, "alerts.yml")]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  test("the rules' unit tests pass (error rate, breaker open, not ready, hit rate, replica lag)", async () => {
    const result = await promtool(promtoolPath!, ["test", "rules", join(PROMETHEUS, "alerts.test.yml")]);
    if (result.code !== 0) console.error(result.output);
    expect(result.code).toBe(0);
    const tested = readFileSync(join(PROMETHEUS, "alerts.test.yml"), "utf8");
    for (const alert of ["SchemaRegistryHighErrorRate", "SchemaRegistryCacheBreakerOpen"]) {
      expect(tested).toContain(`alertname: ${alert}`);
    }
  });

  test("promtool check config accepts prometheus.yml and finds the rules beside it", async () => {
    const result = await promtool(promtoolPath!, ["check", "config", join(PROMETHEUS, "prometheus.yml")]);
    if (result.code !== 0) console.error(result.output);
    expect(result.code).toBe(0);
    expect(result.output).toContain("1 rule files found");
  });

  test("every dashboard query is valid PromQL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dashboard-rules-"));
    try {
      const rules = dashboardQueries()
        .filter((query) => !query.expr.startsWith("label_values("))
        .map((query, index) => ({ record: `dashboard:query_${index}`, expr: asPrometheusSees(query.expr) }));
      expect(rules.length).toBeGreaterThan(20);
      const file = join(dir, "dashboard.yml");
      writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const result = await promtool(promtoolPath!, ["check", "rules", file]);
      if (result.code !== 0) console.error(result.output);
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the metric-name reader", () => {
  test("keeps metric names, drops functions, keywords, labels, ranges and variables", () => {
    expect([
      ...metricNames(
        'histogram_quantile(0.95, sum by (route, le) (rate(x_seconds_bucket{job=~"$job", route="/a"}[$__rate_interval]))) > 0.005 and on (job) up == 0 or vector(1)',
      ),
    ]).toEqual(["x_seconds_bucket", "up"]);
    expect([...metricNames('label_values(schema_registry_uptime_seconds{job=~"$job"}, instance)')]).toEqual([
      "schema_registry_uptime_seconds",
    ]);
    expect([...metricNames("a / ignoring (le) b > 64 * 1024 offset 5m")]).toEqual(["a", "b"]);
  });

  test("a histogram's series count as it; a name the server lacks does not", () => {
    const exported: ExportedMetric[] = [{ name: "h_seconds", type: "histogram" }];
    expect(isExported("h_seconds_bucket", exported)).toBe(true);
    expect(isExported("h_seconds_count", exported)).toBe(true);
    expect(isExported("h_seconds_total", exported)).toBe(false);
    expect(isExported("up", exported)).toBe(true);
  });
});

const available = await postgresAvailable();
const redisUp = available && (await requireRedis("the metric names of the deploy files"));

describe.skipIf(!redisUp)("the dashboard and the rules name only metrics the server exports", () => {
  let api: TestRegistry;
  let exported: ExportedMetric[];
  let scraped: Set<string>;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres", env: { REDIS_URL: "redis://127.0.0.1:6379" } });
    await api.get("/api/v1/schemas/1");
    const res = await api.get("/metrics");
    expect(res.status).toBe(200);
    scraped = new Set(
      res.text
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ")[2]!),
    );
    // Every metric the server declares; the S3 and replica ones appear in a scrape only once configured.
    exported = api.registry.metrics.registry.describe().map(({ name, type }) => ({ name, type }));
  });
  afterAll(async () => {
    await api?.close();
  });

  test("a scrape of a registry with PostgreSQL and Redis has the request, cache, database and health families", () => {
    for (const name of [
      "schema_registry_http_request_duration_seconds",
      "schema_registry_cache_requests_total",
      "schema_registry_cache_circuit_breaker_state",
      "schema_registry_db_query_duration_seconds",
      "schema_registry_db_operations_in_flight",
      "schema_registry_db_pool_max_connections",
      "schema_registry_ready",
      "schema_registry_admission_queue_depth",
    ]) {
      expect(scraped.has(name)).toBe(true);
    }
  });

  test("every metric an alerting rule names", () => {
    const missing = alertRules().flatMap((rule) =>
      [...metricNames(rule.expr)]
        .filter((name) => !isExported(name, exported))
        .map((name) => `${rule.alert ?? rule.record}: ${name}`),
    );
    expect(missing).toEqual([]);
    const named = new Set(alertRules().flatMap((rule) => [...metricNames(rule.expr)]));
    expect(named.size).toBeGreaterThan(8);
  });

  test("every metric a dashboard query names", () => {
    const missing = dashboardQueries().flatMap((query) =>
      [...metricNames(query.expr)]
        .filter((name) => !isExported(name, exported))
        .map((name) => `${query.where}: ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

describe("the dashboard covers what the issue asks for", () => {
  test("panels for requests, errors and latency by route, cache tiers, breaker, PostgreSQL, S3, queues, registers", () => {
    const names = new Set(dashboardQueries().flatMap((query) => [...metricNames(query.expr)]));
    for (const name of [
      "schema_registry_http_request_duration_seconds_count",
      "schema_registry_http_request_duration_seconds_bucket",
      "schema_registry_cache_requests_total",
      "schema_registry_cache_circuit_breaker_state",
      "schema_registry_db_query_duration_seconds_bucket",
      "schema_registry_db_operations_in_flight",
      "schema_registry_db_pool_max_connections",
      "schema_registry_s3_uploads_total",
      "schema_registry_s3_downloads_total",
      "schema_registry_admission_queue_depth",
      "schema_registry_schemas_registered_total",
      "schema_registry_compatibility_rejections_total",
    ]) {
      expect(names.has(name)).toBe(true);
    }
    const byRoute = dashboardQueries().filter((query) => /by \(route(, le)?\)/.test(query.expr));
    expect(byRoute.length).toBeGreaterThanOrEqual(3);
  });

  test("every panel reads the data source variable, which the provisioned Prometheus satisfies", () => {
    const datasource = Bun.YAML.parse(
      readFileSync(join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yml"), "utf8"),
    ) as { datasources: { uid: string; type: string }[] };
    const variable = dashboard.templating.list.find((entry) => entry.type === "datasource") as unknown as {
      query: string;
      current: { value: string };
    };
    expect(variable.query).toBe("prometheus");
    expect(datasource.datasources.map((entry) => entry.uid)).toContain(variable.current.value);
    for (const panel of dashboardPanels().filter((entry) => entry.type !== "row")) {
      expect((panel as unknown as { datasource: { uid: string } }).datasource.uid).toBe(GRAFANA_DATASOURCE);
    }
  });
});

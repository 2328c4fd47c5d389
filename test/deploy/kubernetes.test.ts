/**
 * deploy/kubernetes, checked without a cluster: every manifest parses, the
 * kustomization lists them all, the Deployment's probes ask the server's
 * real health routes on the port the container declares (the one the
 * ConfigMap's TOML serves on), it runs non-root with resources set, the
 * Service and the PodDisruptionBudget select its pods, the ConfigMap holds
 * a TOML file the server's own loader accepts together with the
 * Deployment's environment, and the Secret holds exactly the keys the
 * Deployment reads from it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";
import { healthRoutes } from "./health-routes.ts";

const DIR = resolve(import.meta.dir, "../../deploy/kubernetes");

// Manifests are checked field by field; typing each kind would restate the Kubernetes API.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Manifest = any;

function load(file: string): Manifest {
  return Bun.YAML.parse(readFileSync(join(DIR, file), "utf8"));
}

const manifests = readdirSync(DIR)
  .filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
  .map((file) => ({ file, doc: load(file) }));
const byKind = (kind: string): Manifest => {
  const found = manifests.filter((entry) => entry.doc.kind === kind);
  expect(found.length).toBe(1);
  return found[0]!.doc;
};

const deployment = byKind("Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = byKind("ConfigMap");
const secret = byKind("Secret");
const service = byKind("Service");
const pdb = byKind("PodDisruptionBudget");

describe("deploy/kubernetes", () => {
  test("every manifest parses, has a kind, a name and an apiVersion, and the kustomization lists each one", () => {
    for (const { file, doc } of manifests) {
      expect({
        file,
        kind: typeof doc.kind,
        name: typeof doc.metadata?.name,
        api: typeof doc.apiVersion,
      }).toEqual({
        file,
        kind: "string",
        name: "string",
        api: "string",
      });
    }
    const kustomization = load("kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(manifests.map((entry) => entry.file).sort());
    for (const file of kustomization.resources) expect(existsSync(join(DIR, file))).toBe(true);
  });

  test("liveness asks /health/live and readiness /health/ready, routes the server has, on the container's port", () => {
    const routes = healthRoutes();
    expect(container.livenessProbe.httpGet.path).toBe("/health/live");
    expect(container.readinessProbe.httpGet.path).toBe("/health/ready");
    const portNames = container.ports.map((port: Manifest) => port.name);
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(routes).toContain(probe.httpGet.path);
      expect(portNames).toContain(probe.httpGet.port);
    }
  });

  test("the container's port is the one the ConfigMap's configuration serves on, and the Service targets it", async () => {
    const config = await loadConfig({ env: {}, argv: ["--config", "registry.toml"], readFile: () => toml() });
    const http = container.ports.find((port: Manifest) => port.name === "http");
    expect(http.containerPort).toBe(config.server.port);
    expect(service.spec.ports[0].targetPort).toBe("http");
    expect(deployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(
      String(config.server.port),
    );
  });

  test("the Service and the PodDisruptionBudget select the Deployment's pods", () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const selector of [
      service.spec.selector,
      pdb.spec.selector.matchLabels,
      deployment.spec.selector.matchLabels,
    ]) {
      for (const [key, value] of Object.entries(selector)) expect(labels[key]).toBe(value);
    }
    expect(pdb.spec.maxUnavailable ?? 0).toBeLessThan(deployment.spec.replicas);
  });

  test("runs non-root, without privilege escalation, with requests and a memory limit", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.capabilities.drop).toContain("ALL");
    expect(container.resources.requests.cpu).toBeDefined();
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    // Longer than the server's own drain (SHUTDOWN_GRACE_MS, 20 s).
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(20);
  });

  test("listens on every interface and reads the ConfigMap where CONFIG_FILE says", () => {
    const env = plainEnv();
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.AUTH_REQUIRED).toBe("true");
    const mount = container.volumeMounts.find(
      (entry: Manifest) =>
        pod.volumes.find((volume: Manifest) => volume.name === entry.name)?.configMap?.name ===
        configMap.metadata.name,
    );
    expect(mount).toBeDefined();
    expect(env.CONFIG_FILE).toBe(`${mount.mountPath}/registry.toml`);
    expect(Object.keys(configMap.data)).toEqual(["registry.toml"]);
  });

  test("the Secret holds exactly the keys the Deployment reads from it", () => {
    const read = container.env
      .filter((entry: Manifest) => entry.valueFrom?.secretKeyRef)
      .map((entry: Manifest) => {
        expect(entry.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
        return entry.valueFrom.secretKeyRef.key;
      });
    expect([...read].sort()).toEqual(Object.keys(secret.stringData).sort());
    for (const key of [
      "DATABASE_URL",
      "REDIS_URL",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AUTH_BOOTSTRAP_ADMIN_KEY",
    ]) {
      expect(read).toContain(key);
    }
    // Each secret reaches the variable of its own name.
    for (const entry of container.env.filter((e: Manifest) => e.valueFrom?.secretKeyRef)) {
      expect(entry.name).toBe(entry.valueFrom.secretKeyRef.key);
    }
  });

  test("the ConfigMap's TOML, with the Deployment's environment, is a configuration the server accepts", async () => {
    const env = { ...plainEnv(), ...secret.stringData };
    const config = await loadConfig({ env, readFile: () => toml() });
    expect(config.storage.databaseUrl).toBe(secret.stringData.DATABASE_URL);
    expect(config.storage.s3?.bucket).toBe("schema-registry");
    expect(config.storage.pool.maxConnections).toBe(20);
  });

  test("the loader really checks the ConfigMap: an unknown key is refused", async () => {
    const broken = `${toml()}\n[storage.cache.nonsense]\nx = 1\n`;
    await expect(
      loadConfig({ env: { CONFIG_FILE: "registry.toml" }, readFile: () => broken }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});

function toml(): string {
  return configMap.data["registry.toml"];
}

/** The Deployment's literal environment variables. */
function plainEnv(): Record<string, string> {
  return Object.fromEntries(
    container.env
      .filter((entry: Manifest) => entry.value !== undefined)
      .map((entry: Manifest) => [entry.name, String(entry.value)]),
  );
}

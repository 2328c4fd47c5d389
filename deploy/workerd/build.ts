/**
 * Bundles the Worker for workerd: `bun deploy/workerd/build.ts` writes
 * deploy/workerd/dist/ (git-ignored): the entry module worker.js, the chunks
 * it loads, modules.capnp, the list of them all that config.capnp imports,
 * and config.bin, the config encoded with the modules inside, for
 * `workerd serve -b` (WORKER_BINARY_CONFIG says why).
 *
 * Split into ES modules (`splitting`): what the registry loads by `import()`
 * (the schema engines: avsc, ajv, protobufjs, re2js; the S3 SDK; the Upstash
 * client) is a chunk of its own, which the isolate evaluates on first use, so
 * a cold isolate's first read waits for none of them. Resolved with the `workerd` and `worker` conditions (so
 * postgres.js brings its cloudflare:sockets build and the AWS SDK its fetch
 * build); `node:*` and `cloudflare:*` stay imports for the runtime. The
 * drivers an edge node never loads (ioredis over TCP, the embedded PGlite)
 * are replaced by a module that says so: Bun inlines what `await import()`
 * loads, and their Node-only code would otherwise stop the Worker at start-up.
 * zod's locales are cut to English, the one the registry speaks (its default,
 * which every validation message comes from): the other 60-odd are a fifth of
 * zod's code, which workerd would otherwise read and compile at every start.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const HERE = import.meta.dir;
const DIST = join(HERE, "dist");
export const WORKER_BUNDLE = join(DIST, "worker.js");
/** The modules of the bundle, as workerd names them: config.capnp imports `modules` from it. */
export const WORKER_MODULES = join(DIST, "modules.capnp");
/**
 * config.capnp encoded, its modules inside (`workerd compile --config-only`), which `workerd serve -b`
 * starts from: a text config is parsed, and every module it embeds read, at each start, about 13 ms of
 * CPU for this bundle on the bench's machine before workerd even listens.
 */
export const WORKER_BINARY_CONFIG = join(DIST, "config.bin");
const WORKERD = join(HERE, "../../node_modules/.bin/workerd");

const NOT_AT_THE_EDGE = `
const refuse = () => { throw new Error("not available in a Worker: use Upstash for L2 and a PostgreSQL DATABASE_URL"); };
export class Redis { constructor() { refuse(); } }
export class Cluster { constructor() { refuse(); } }
export class PGlite { constructor() { refuse(); } }
export class PGLiteSocketServer { constructor() { refuse(); } }
export const pg_trgm = {};
export default Redis;
`;

export async function buildWorker(): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  mkdirSync(DIST, { recursive: true });
  // The chunks of an earlier build (their names are hashes) would otherwise pile up in dist/.
  for (const name of readdirSync(DIST, { withFileTypes: true }).filter((entry) => entry.isFile())) {
    if (/\.(js|capnp|bin)$/.test(name.name)) rmSync(join(DIST, name.name));
  }
  const result = await Bun.build({
    entrypoints: [join(HERE, "worker.ts")],
    outdir: DIST,
    target: "browser",
    format: "esm",
    splitting: true,
    naming: { entry: "[name].[ext]", chunk: "chunk-[hash].[ext]" },
    conditions: ["workerd", "worker"],
    external: ["cloudflare:*", "node:*"],
    minify: true,
    plugins: [
      {
        name: "not-at-the-edge",
        setup(build) {
          build.onResolve({ filter: /^(ioredis|@electric-sql\/.*)$/ }, (args) => ({
            path: args.path,
            namespace: "not-at-the-edge",
          }));
          build.onLoad({ filter: /.*/, namespace: "not-at-the-edge" }, () => ({
            contents: NOT_AT_THE_EDGE,
            loader: "js",
          }));
        },
      },
      {
        name: "zod-in-english",
        setup(build) {
          build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
            /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
              ? { path: join(dirname(args.importer), args.path), namespace: "zod-in-english" }
              : undefined,
          );
          build.onLoad({ filter: /.*/, namespace: "zod-in-english" }, (args) => ({
            contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), "en.js"))};`,
            loader: "js",
          }));
        },
      },
    ],
  });
  if (!result.success) {
    throw new Error(`the Worker bundle failed:\n${result.logs.map(String).join("\n")}`);
  }
  const bytes = result.outputs.reduce((sum, output) => sum + output.size, 0);
  // workerd resolves `./chunk-….js` against the importing module's name, so each is named as its file.
  const names = result.outputs
    .map((output) => basename(output.path))
    .sort((a, b) => (a === "worker.js" ? -1 : b === "worker.js" ? 1 : a.localeCompare(b)));
  writeFileSync(
    WORKER_MODULES,
    [
      "# Written by deploy/workerd/build.ts: the Worker's ES modules, the entry module first.",
      'using Workerd = import "/workerd/workerd.capnp";',
      "const modules :List(Workerd.Worker.Module) = [",
      ...names.map((name) => `  (name = "${name}", esModule = embed "${name}"),`),
      "];",
      "",
    ].join("\n"),
  );
  const encoded = Bun.spawnSync([WORKERD, "compile", "--config-only", join(HERE, "config.capnp")], {
    stderr: "pipe",
  });
  if (!encoded.success) {
    throw new Error(`workerd could not encode config.capnp:\n${encoded.stderr.toString()}`);
  }
  writeFileSync(WORKER_BINARY_CONFIG, encoded.stdout);
  return { bytes, ms: performance.now() - started };
}

if (import.meta.main) {
  const { bytes, ms } = await buildWorker();
  console.log(
    `${WORKER_BUNDLE} and its chunks: ${(bytes / 1024 / 1024).toFixed(2)} MiB in ${Math.round(ms)} ms`,
  );
}

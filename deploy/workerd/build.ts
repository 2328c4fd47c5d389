/**
 * Bundles the Worker for workerd: `bun deploy/workerd/build.ts` writes
 * deploy/workerd/dist/worker.js (git-ignored), which config.capnp embeds.
 *
 * One ES module, resolved with the `workerd` and `worker` conditions (so
 * postgres.js brings its cloudflare:sockets build and the AWS SDK its fetch
 * build); `node:*` and `cloudflare:*` stay imports for the runtime. The
 * drivers an edge node never loads (ioredis over TCP, the embedded PGlite)
 * are replaced by a module that says so: Bun inlines what `await import()`
 * loads, and their Node-only code would otherwise stop the Worker at start-up.
 */
import { join } from "node:path";

const HERE = import.meta.dir;
export const WORKER_BUNDLE = join(HERE, "dist/worker.js");

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
  const result = await Bun.build({
    entrypoints: [join(HERE, "worker.ts")],
    outdir: join(HERE, "dist"),
    target: "browser",
    format: "esm",
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
    ],
  });
  if (!result.success) {
    throw new Error(`the Worker bundle failed:\n${result.logs.map(String).join("\n")}`);
  }
  const bytes = result.outputs.reduce((sum, output) => sum + output.size, 0);
  return { bytes, ms: performance.now() - started };
}

if (import.meta.main) {
  const { bytes, ms } = await buildWorker();
  console.log(`${WORKER_BUNDLE}: ${(bytes / 1024 / 1024).toFixed(2)} MiB in ${Math.round(ms)} ms`);
}

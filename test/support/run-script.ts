/**
 * Runs one of the repository's command-line scripts as a user does, `bun
 * scripts/<name>.ts ...` from the repository root, and collects what it
 * wrote and its exit code. Async on purpose: a server the script talks to
 * may run in the test's own process (s3rver, an in-process registry), and a
 * blocking spawn would starve it.
 */
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `script` is a path from the repository root (`scripts/keys.ts`); `env` is
 * the script's whole environment, the test process's own unless given.
 */
export async function runScript(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<ScriptRun> {
  const child = Bun.spawn([process.execPath, script, ...args], {
    cwd: ROOT,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/**
 * Reads the TOML configuration file for the entry point. A driver module: the
 * one place configuration touches a runtime's own file API (web standards
 * have none for local files, and Bun's fetch of a missing file:// URL
 * answers an empty 200 rather than failing).
 */

type BunFile = { exists(): Promise<boolean>; text(): Promise<string> };
type RuntimeGlobals = {
  Bun?: { file(path: string): BunFile };
  Deno?: { readTextFile(path: string): Promise<string> };
};

export async function readConfigFile(path: string): Promise<string> {
  const runtime = globalThis as RuntimeGlobals;
  if (runtime.Bun) {
    const file = runtime.Bun.file(path);
    if (!(await file.exists())) throw new Error("no such file");
    return file.text();
  }
  if (runtime.Deno) return runtime.Deno.readTextFile(path);
  throw new Error("reading a configuration file needs Bun or Deno");
}

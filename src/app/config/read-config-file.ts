/**
 * Reads the TOML configuration file for the entry point. A driver module: the
 * one place configuration touches a runtime's own file API (web standards
 * have none for local files, and Bun's fetch of a missing file:// URL
 * answers an empty 200 rather than failing). A host that grants no file
 * access (Deno with only --allow-net --allow-env) gets a message that says
 * what to set instead (host-permissions.ts).
 */
import { configFileRefused, isPermissionError } from "./host-permissions.ts";

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
  if (runtime.Deno) {
    try {
      return await runtime.Deno.readTextFile(path);
    } catch (error) {
      if (isPermissionError(error)) throw new Error(configFileRefused(), { cause: error });
      throw error;
    }
  }
  throw new Error("reading a configuration file needs Bun or Deno");
}

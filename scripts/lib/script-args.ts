/**
 * The command line of a script that takes `--name value` options: parsed
 * strictly, with `--help` answered by the usage line (exit 0) and a bad
 * option answered by its message and the usage line (exit 2). The script
 * gets its values, or the exit code to return at once.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

export type ScriptArgs<O extends Options> =
  | { values: ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: O }>>["values"] }
  | { exitCode: number };

export function parseScriptArgs<O extends Options>(argv: string[], options: O, usage: string): ScriptArgs<O> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: O }>>["values"];
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { ...options, help: { type: "boolean", default: false } } as O,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n${usage}`);
    return { exitCode: 2 };
  }
  if ((values as { help?: boolean }).help) {
    console.error(usage);
    return { exitCode: 0 };
  }
  return { values };
}

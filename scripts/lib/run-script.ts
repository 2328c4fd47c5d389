/**
 * How a command-line script that reads the server's configuration ends: the
 * exit code its main returns, or, when it throws, one line on stderr and
 * exit 2 for a configuration error (as the server refuses to start), 1 for
 * anything else. A script with errors of its own to explain passes
 * `explain`, which prints its message and returns the exit code, or returns
 * undefined to leave the error to these rules.
 */
import { ConfigError } from "../../src/app/config/load-config.ts";

export async function runScript(
  main: () => Promise<number>,
  explain: (error: unknown) => number | undefined = () => undefined,
): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    const explained = explain(error);
    if (explained !== undefined) {
      process.exitCode = explained;
    } else if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    }
  }
}

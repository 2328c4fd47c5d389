/**
 * A buffered destination for log lines. One write per line costs about 5 µs
 * on Bun and 20 µs on Deno (measured here, stdout to a pipe); with an access
 * line per request that is a real share of a core, so lines are gathered and
 * written together: when 256 are waiting, 100 ms after the first of them, or
 * at once for a warning or an error (so they are never lost in a crash and
 * never appear before the lines that led to them). `flush()` writes what is
 * waiting; the entry point calls it last on shutdown.
 */

import { backgroundTimeout } from "../runtime/timers.ts";
import type { LineLevel } from "./logger.ts";

export interface LogSinkOptions {
  /** Lines gathered before a write. Default 256. */
  maxLines?: number;
  /** Longest a line waits. Default 100 ms. */
  maxDelayMs?: number;
}

export interface LogSink {
  write(line: string, level: LineLevel): void;
  flush(): void;
}

export function createLogSink(
  out: (chunk: string) => void = (chunk) => console.log(chunk),
  options: LogSinkOptions = {},
): LogSink {
  const maxLines = options.maxLines ?? 256;
  const maxDelayMs = options.maxDelayMs ?? 100;
  let lines: string[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (lines.length === 0) return;
    const chunk = lines.join("\n");
    lines = [];
    out(chunk);
  };

  return {
    write(line, level) {
      lines.push(line);
      if (level === "warn" || level === "error" || lines.length >= maxLines) flush();
      else timer ??= backgroundTimeout(flush, maxDelayMs);
    },
    flush,
  };
}

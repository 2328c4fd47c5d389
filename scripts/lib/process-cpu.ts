/**
 * CPU time of processes from /proc (Linux), for the benchmarks and the load
 * test: user + system seconds so far, so that a figure counts the processes
 * it names and nothing else the machine runs.
 */
import { readFileSync } from "node:fs";

/** USER_HZ: /proc counts CPU time in ticks of 1/100 s on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) of process `pid` so far; null where /proc is not there or the process is gone. */
export function processCpuSeconds(pid: number | "self" | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** The CPU seconds of `pids` together; one that ended in between counts nothing. */
export function totalCpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += processCpuSeconds(pid) ?? 0;
  return total;
}

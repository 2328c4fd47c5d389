/**
 * Background timers that never keep the process alive on their own: Bun and
 * Node return timer objects with `unref()`, Deno timer ids go through
 * `Deno.unrefTimer`. Looked up at run time so this module stays web-standard.
 *
 * An edge isolate (a Worker) runs no timer outside a request: one set while
 * serving a request dies with it. There the entry point turns on
 * `driveBackgroundWorkByRequests()`, and the same calls only note when the
 * work is due; after each response the entry point runs what is due through
 * `runDueBackgroundWork()` inside the host's waitUntil. Work then runs no
 * earlier than asked, and late by as long as the isolate gets no request.
 */
type TimerHandle = ReturnType<typeof setTimeout>;

interface DueWork {
  /** What a background callback returns: a promise is awaited by runDueBackgroundWork. */
  run: () => unknown;
  dueAt: number;
  /** Repeats this often; null runs once. */
  everyMs: number | null;
}

/** Work waiting for a request to run it; null while real timers are used (Bun, Deno). */
let dueWork: DueWork[] | null = null;
/** Handles of request-driven work: numbers no host timer uses, so a clear of one is a no-op. */
let nextHandle = 1_000_000_000;

/** Whether any request-driven work is due (a cheap check before a request hands work to its host). */
export function backgroundWorkDue(now = performance.now()): boolean {
  if (dueWork === null) return false;
  for (const work of dueWork) if (work.dueAt <= now) return true;
  return false;
}

/** Background work runs after requests (runDueBackgroundWork), never on a timer: for edge isolates. */
export function driveBackgroundWorkByRequests(): void {
  dueWork ??= [];
}

/**
 * Runs the background work that is due, once each, and settles when what it
 * started has (a callback that returns a promise is waited for); resolves to
 * how many ran.
 */
export async function runDueBackgroundWork(now = performance.now()): Promise<number> {
  if (dueWork === null) return 0;
  const due = dueWork.filter((work) => work.dueAt <= now);
  dueWork = dueWork.filter((work) => work.dueAt > now || work.everyMs !== null);
  const started: unknown[] = [];
  for (const work of due) {
    if (work.everyMs !== null) work.dueAt = now + work.everyMs;
    try {
      started.push(work.run());
    } catch {
      // A callback that throws is its owner's to report, as with a timer's.
    }
  }
  await Promise.allSettled(started);
  return due.length;
}

function requestDriven(run: () => void, ms: number, everyMs: number | null): TimerHandle {
  dueWork?.push({ run, dueAt: performance.now() + ms, everyMs });
  return nextHandle++ as unknown as TimerHandle;
}

function unref(handle: TimerHandle): TimerHandle {
  const withUnref = handle as unknown as { unref?: () => void };
  if (typeof withUnref.unref === "function") {
    withUnref.unref();
  } else {
    const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
    if (typeof handle === "number") deno?.unrefTimer?.(handle);
  }
  return handle;
}

export function backgroundTimeout(run: () => void, ms: number): TimerHandle {
  if (dueWork !== null) return requestDriven(run, ms, null);
  return unref(setTimeout(run, ms));
}

export function backgroundInterval(run: () => void, ms: number): TimerHandle {
  if (dueWork !== null) return requestDriven(run, ms, ms);
  return unref(setInterval(run, ms));
}

/**
 * Background timers that never keep the process alive on their own: Bun and
 * Node return timer objects with `unref()`, Deno timer ids go through
 * `Deno.unrefTimer`. Looked up at run time so this module stays web-standard.
 */
type TimerHandle = ReturnType<typeof setTimeout>;

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
  return unref(setTimeout(run, ms));
}

export function backgroundInterval(run: () => void, ms: number): TimerHandle {
  return unref(setInterval(run, ms));
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for the
 * throwaway servers that scripts, tests and benchmarks start (Bun only: these
 * tools run on Bun whatever runtime the registry under test uses).
 */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

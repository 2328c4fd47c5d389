/**
 * The load generator of the HTTP benches: wrk (`/usr/bin/wrk`, or on the
 * PATH) when installed, autocannon otherwise, driving one URL with a number
 * of connections for some seconds and answering requests per second. A
 * response other than 2xx/3xx fails the run: a bench of errors measures
 * nothing. `post` sends a JSON body (wrk through a Lua script file).
 */

export const WRK = ["/usr/bin/wrk", Bun.which("wrk")].find((path) => path && Bun.file(path).size > 0) ?? null;

export async function drive(
  url: string,
  seconds: number,
  connections: number,
  post?: { body: string; luaFile: string },
): Promise<number> {
  if (WRK) {
    const args = [
      WRK,
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      ...(post ? ["-s", post.luaFile] : []),
      url,
    ];
    const out = await new Response(Bun.spawn(args, { stdout: "pipe" }).stdout).text();
    if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors under load at ${url}:\n${out}`);
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (!rate) throw new Error(`wrk printed no rate:\n${out}`);
    return Number(rate[1]);
  }
  type Autocannon = (options: Record<string, unknown>) => Promise<{
    requests: { average: number };
    non2xx: number;
    errors: number;
  }>;
  const name: string = "autocannon";
  const { default: autocannon } = (await import(name)) as { default: Autocannon };
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(post ? { method: "POST", body: post.body, headers: { "content-type": "application/json" } } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`errors under load at ${url}`);
  return result.requests.average;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, which a test can make
 * stop answering: `stall()` keeps every connection open and accepts new ones,
 * but holds whatever either side sends; `resume()` delivers what was held and
 * forwards again. A backend that hangs rather than fails (a stopped process,
 * a dropped route, a load balancer with no healthy target), which is what a
 * timeout has to catch; and, resumed after the client gave up, a backend that
 * answers late.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Link {
  upstream: Socket<unknown> | null;
  /** Sent by the client before the upstream connection opened, or while stalled. */
  toUpstream: Uint8Array[];
  /** Sent by the server while stalled. */
  toClient: Uint8Array[];
  closed: boolean;
}

export interface StallProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  stall(): void;
  resume(): void;
  stop(): void;
}

export function startStallProxy(targetPort: number): StallProxy {
  let stalled = false;
  const links = new Set<{ client: Socket<Link>; link: Link }>();

  const flush = (client: Socket<Link>, link: Link) => {
    if (stalled || link.closed) return;
    if (link.upstream) for (const chunk of link.toUpstream.splice(0)) link.upstream.write(chunk);
    for (const chunk of link.toClient.splice(0)) client.write(chunk);
  };

  const server: TCPSocketListener<Link> = Bun.listen<Link>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const link: Link = { upstream: null, toUpstream: [], toClient: [], closed: false };
        client.data = link;
        const entry = { client, link };
        links.add(entry);
        Bun.connect({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            data(_, chunk) {
              if (stalled) link.toClient.push(new Uint8Array(chunk));
              else client.write(chunk);
            },
            close() {
              link.closed = true;
              links.delete(entry);
              client.end();
            },
            error() {
              client.end();
            },
          },
        }).then(
          (upstream) => {
            link.upstream = upstream as Socket<unknown>;
            flush(client, link);
          },
          () => client.end(),
        );
      },
      data(client, chunk) {
        const link = client.data;
        if (stalled || !link.upstream) link.toUpstream.push(new Uint8Array(chunk));
        else link.upstream.write(chunk);
      },
      close(client) {
        client.data.closed = true;
        client.data.upstream?.end();
      },
    },
  });

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const { client, link } of links) flush(client, link);
    },
    stop() {
      server.stop(true);
      for (const { client, link } of links) {
        link.upstream?.end();
        client.end();
      }
    },
  };
}

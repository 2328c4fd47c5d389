/**
 * `GET /schemas/ids/{id}`, what every Confluent deserializer asks for each id
 * it meets, is answered from the tiered cache after the first read: no query
 * reaches PostgreSQL, a missing id is remembered too, and a change to a row
 * holding the id (a permanent delete of its last version) drops the entry, so
 * the id then answers 40403. Against the real registry on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { backendQueryCount, startTestRegistry, type TestRegistry, until } from "../../support/app.ts";
import { postgresAvailable } from "../../support/database.ts";

const available = await postgresAvailable();
const MEDIA = "application/vnd.schemaregistry.v1+json";

describe.skipIf(!available)("GET /schemas/ids/{id} from the cache", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  const confluent = (method: string, path: string, body?: unknown) =>
    api.request(method, path, {
      ...(body === undefined ? {} : { body }),
      headers: { "Content-Type": MEDIA },
    });
  const reads = () => backendQueryCount(api.registry, "byContentId");

  test("a repeated read is served without a query; a missing id is remembered; a permanent delete ends it", async () => {
    const schema = JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "long" }] });
    const registered = await confluent("POST", "/subjects/cache.orders-value/versions", { schema });
    expect(registered.status, registered.text).toBe(200);
    const { id } = registered.body as { id: number };

    const first = await confluent("GET", `/schemas/ids/${id}`);
    expect(first.status).toBe(200);
    // The register's own notification may come back over the bus and drop what the first read
    // cached (one extra miss, never a stale answer): wait until a read is served from the cache.
    await until(
      async () => {
        const before = await reads();
        await confluent("GET", `/schemas/ids/${id}`);
        return (await reads()) === before;
      },
      (cached) => cached,
      2_000,
    );
    const afterFirst = await reads();
    for (let i = 0; i < 5; i++) {
      const again = await confluent("GET", `/schemas/ids/${id}`);
      expect(again.text).toBe(first.text);
    }
    expect(await reads()).toBe(afterFirst);

    const missing = id + 1000;
    expect((await confluent("GET", `/schemas/ids/${missing}`)).body.error_code).toBe(40403);
    const afterMissing = await reads();
    expect((await confluent("GET", `/schemas/ids/${missing}`)).body.error_code).toBe(40403);
    expect(await reads()).toBe(afterMissing);

    expect((await confluent("DELETE", "/subjects/cache.orders-value/versions/1")).status).toBe(200);
    expect((await confluent("DELETE", "/subjects/cache.orders-value/versions/1?permanent=true")).status).toBe(
      200,
    );
    const gone = await confluent("GET", `/schemas/ids/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error_code).toBe(40403);
  });

  test("the server's fast path answers as the route does: body, media type, request id, 40403", async () => {
    const schema = JSON.stringify({
      type: "record",
      name: "Line",
      fields: [{ name: "sku", type: "string" }],
    });
    const { id } = (await confluent("POST", "/subjects/fast.lines-value/versions", { schema })).body as {
      id: number;
    };
    const viaServer = (path: string, headers: Record<string, string> = {}) =>
      api.registry.fetch(new Request(`http://localhost${path}`, { headers }));
    for (const path of [`/schemas/ids/${id}`, `/schemas/ids/${id + 1000}`]) {
      const routed = await confluent("GET", path);
      // Twice: the first may load, the second is an L1 hit answered without a promise.
      for (let i = 0; i < 2; i++) {
        const fast = await viaServer(path, { "X-Request-Id": `fast-${i}` });
        expect(fast.status).toBe(routed.status);
        expect(await fast.text()).toBe(routed.text);
        expect(fast.headers.get("Content-Type")).toBe(MEDIA);
        expect(fast.headers.get("X-Request-Id")).toBe(`fast-${i}`);
      }
    }
    // Anything else still reaches the app: a query string, an id that is not one.
    expect((await viaServer(`/schemas/ids/${id}?subject=fast.lines-value`)).status).toBe(200);
    expect((await (await viaServer("/schemas/ids/0")).json()).error_code).toBe(40403);
  });
});

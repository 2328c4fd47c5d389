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
});

/**
 * Observes the sizes of content going to and coming from the object store,
 * at the registry's ContentStore port: `place` of content the store sends to
 * the object store is an upload, `load` and `open` are downloads. The store's
 * own counters (uploads, errors, presigned URLs) are read from its store's
 * `stats()` at scrape time instead; only the per-transfer sizes need an event.
 *
 * A Proxy, so methods the store gains later pass through unchanged.
 */
import type { SchemaRecord } from "../domain/types.ts";
import type { TransferDirection } from "../observability/registry-metrics.ts";
import type { ContentStore, PlacedContent, PreparedContent } from "../registry/content-store.ts";

export type TransferObserver = (direction: TransferDirection, bytes: number) => void;

export function instrumentContentStore<T extends ContentStore>(tier: T, observe: TransferObserver): T {
  const place: ContentStore["place"] = async (content: PreparedContent): Promise<PlacedContent> => {
    const placed = await tier.place(content);
    if (placed.contentLocation === "object_store") observe("upload", content.contentSize);
    return placed;
  };
  const load: ContentStore["load"] = async (record: SchemaRecord) => {
    const value = await tier.load(record);
    observe("download", record.contentSize);
    return value;
  };
  const open: ContentStore["open"] = async (record: SchemaRecord) => {
    const body = await tier.open(record);
    observe("download", record.contentSize);
    return body;
  };
  const overrides: Partial<Record<PropertyKey, unknown>> = { place, load, open };
  return new Proxy(tier, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

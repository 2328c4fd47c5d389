/**
 * The object-store content store of an edge node, loaded on the first request
 * that needs the bucket rather than while the isolate starts. Loading it is
 * loading the AWS SDK, the largest piece of the Worker's start-up after the
 * HTTP app; and an isolate's first request is mostly a read of a schema whose
 * content is in its row or in L2, which never touches the bucket.
 *
 * What it stands in for, it does exactly: every ContentStore call waits for
 * the store and then is the store's own; the health probe loads it and pings;
 * until it is loaded there are no object-store figures (as without S3) and
 * nothing to close. A load that fails is tried again by the next call.
 */

import type { ObjectContentStore } from "../content/object-content-store.ts";
import type { HealthProbe } from "../observability/health.ts";
import type { ObjectStoreFigures } from "../observability/registry-metrics.ts";
import type { ContentStore } from "../registry/content-store.ts";
import type { SchemaRepository } from "../storage/storage.ts";

type Store = ObjectContentStore<SchemaRepository>;

export interface LazyObjectContent {
  content: ContentStore;
  healthProbe: HealthProbe;
  /** The figures of the loaded store; null until it is loaded. */
  stats(): ObjectStoreFigures | null;
  /** The store once loaded; null before. */
  loaded(): Store | null;
  close(): Promise<void>;
}

export function lazyObjectContent(load: () => Promise<Store>): LazyObjectContent {
  let store: Store | null = null;
  let loading: Promise<Store> | null = null;
  const get = (): Promise<Store> => {
    if (store) return Promise.resolve(store);
    if (!loading) {
      loading = load().then((loaded) => {
        store = loaded;
        return loaded;
      });
      loading.catch(() => {
        loading = null;
      });
    }
    return loading;
  };
  const content: ContentStore = {
    place: async (prepared) => (await get()).place(prepared),
    discard: async (placed) => (await get()).discard(placed),
    load: async (record) => (await get()).load(record),
    open: async (record) => (await get()).open(record),
    link: async (record) => (await get()).link(record),
    release: async (record) => (await get()).release(record),
    commit: async (placed, write) => (await get()).commit(placed, write),
    createUpload: async (request) => (await get()).createUpload(request),
    readUpload: async (uploadId) => (await get()).readUpload(uploadId),
    discardUpload: async (uploadId) => (await get()).discardUpload(uploadId),
  };
  return {
    content,
    healthProbe: {
      name: "object_store",
      critical: false,
      check: async () => (await get()).healthProbe.check(),
    },
    stats: () => store?.stats() ?? null,
    loaded: () => store,
    async close() {
      // A load in flight is waited for, so its connections are closed too.
      const pending = store ?? (await loading?.catch(() => null));
      await pending?.close();
    },
  };
}

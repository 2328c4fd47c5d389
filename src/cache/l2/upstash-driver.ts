/**
 * L2 over HTTP with @upstash/redis, for deployments that reach Redis through
 * Upstash's REST API (edge runtimes without TCP). Automatic deserialization is
 * off so values come back as the exact text stored (the same bytes ioredis
 * reads); responses use the client's default base64 encoding, which it decodes
 * to UTF-8 text, so any text value round-trips. Retries are off: the cache's
 * timeout budget and circuit breaker decide what to do with a slow or dead
 * server. Batch writes go in one `/pipeline` request; multi-gets are one MGET.
 */
import { Redis } from "@upstash/redis";
import {
  chunks,
  isNoScript,
  type RemoteCacheDriver,
  scriptSha1,
  type UpstashDriverConfig,
} from "./remote-driver.ts";

const BATCH = 500;

export async function createUpstashDriver(config: UpstashDriverConfig): Promise<RemoteCacheDriver> {
  const client = new Redis({
    url: config.url,
    token: config.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    readYourWrites: false,
    retry: false,
  });

  return {
    name: "upstash",
    get: (key) => client.get<string>(key),
    async getMany(keys) {
      if (keys.length === 0) return [];
      if (keys.length <= BATCH) return client.mget<(string | null)[]>(...keys);
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.mget<(string | null)[]>(...part);
      return ((await pipeline.exec()) as (string | null)[][]).flat();
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, { ex: ttl(ttlSeconds) });
    },
    async setMany(entries) {
      if (entries.length === 0) return;
      const pipeline = client.pipeline();
      for (const entry of entries) pipeline.set(entry.key, entry.value, { ex: ttl(entry.ttlSeconds) });
      await pipeline.exec();
    },
    async delete(key) {
      await client.del(key);
    },
    async deleteMany(keys) {
      if (keys.length === 0) return;
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.del(...part);
      await pipeline.exec();
    },
    async evalScript(source, keys, args) {
      const sha = await scriptSha1(source);
      try {
        return await client.evalsha(sha, [...keys], [...args]);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return client.eval(source, [...keys], [...args]);
      }
    },
    async ping() {
      const answer = await client.ping();
      if (answer !== "PONG") throw new Error(`unexpected PING answer: ${answer}`);
    },
    // HTTP keeps no connection of ours open.
    async close() {},
  };
}

function ttl(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

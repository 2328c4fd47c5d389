/**
 * The orphan sweep against s3rver: unreferenced old content and expired
 * staging uploads go; referenced, young and foreign objects stay; a dry run
 * removes nothing; an object rewritten during the sweep survives; a failing
 * reference check removes nothing.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { sweepOrphans } from "../../src/content/orphan-sweep.ts";
import { startS3, type TestS3 } from "../support/s3.ts";
import { bytesOf } from "./helpers.ts";

const HOUR = 60 * 60 * 1000;

let s3: TestS3;

beforeEach(async () => {
  s3 = await startS3();
});

afterEach(async () => {
  await s3?.stop();
});

interface Fixture {
  referencedOld: string;
  orphanOld: string;
  orphanYoung: string;
  uploadOld: string;
  uploadYoung: string;
  foreignOld: string;
  outside: string;
}

async function fixture(): Promise<Fixture> {
  const referencedOld = (await s3.content.putContent(bytesOf(100, 1), "json")).key;
  const orphanOld = (await s3.content.putContent(bytesOf(200, 2), "avro")).key;
  const orphanYoung = (await s3.content.putContent(bytesOf(300, 3), "protobuf")).key;
  const uploadOld = `schemas/uploads/${crypto.randomUUID()}`;
  const uploadYoung = `schemas/uploads/${crypto.randomUUID()}`;
  const foreignOld = "schemas/README.txt";
  const outside = `other/${"a".repeat(64)}.json`;
  for (const key of [uploadOld, uploadYoung, foreignOld, outside]) {
    await s3.store.put(key, bytesOf(50), { contentType: "text/plain" });
  }
  for (const key of [referencedOld, orphanOld, uploadOld, foreignOld, outside]) {
    await s3.backdate(key, 2 * HOUR);
  }
  return { referencedOld, orphanOld, orphanYoung, uploadOld, uploadYoung, foreignOld, outside };
}

const exists = async (key: string) => (await s3.store.head(key)) !== null;

test("removes unreferenced old content and expired uploads, keeps everything else", async () => {
  const f = await fixture();
  const asked: string[][] = [];
  const report = await sweepOrphans({
    store: s3.store,
    isReferenced: async (keys) => {
      asked.push(keys);
      return new Set(keys.filter((k) => k === f.referencedOld));
    },
  });
  expect(report).toMatchObject({
    dryRun: false,
    scanned: 6,
    contentObjects: 3,
    referenced: 1,
    keptRecent: 1,
    orphansDeleted: 1,
    orphanBytesDeleted: 200,
    uploads: 2,
    uploadsExpired: 1,
    uploadsKept: 1,
    foreign: 1,
    failed: 0,
  });
  // Only content old enough to be removable is looked up in the database.
  expect(asked.flat().sort()).toEqual([f.orphanOld, f.referencedOld].sort());
  expect(await exists(f.orphanOld)).toBe(false);
  expect(await exists(f.uploadOld)).toBe(false);
  for (const kept of [f.referencedOld, f.orphanYoung, f.uploadYoung, f.foreignOld, f.outside]) {
    expect(await exists(kept)).toBe(true);
  }
});

test("a dry run reports the same and removes nothing", async () => {
  const f = await fixture();
  const report = await sweepOrphans({
    store: s3.store,
    isReferenced: async (keys) => new Set(keys.filter((k) => k === f.referencedOld)),
    dryRun: true,
  });
  expect(report).toMatchObject({ dryRun: true, orphansDeleted: 1, uploadsExpired: 1 });
  for (const key of Object.values(f)) expect(await exists(key)).toBe(true);
});

test("the grace period and upload expiry are configurable", async () => {
  const f = await fixture();
  const report = await sweepOrphans({
    store: s3.store,
    isReferenced: async () => new Set(),
    graceMs: 3 * HOUR,
    uploadExpiryMs: 3 * HOUR,
  });
  expect(report).toMatchObject({ orphansDeleted: 0, uploadsExpired: 0, keptRecent: 3, uploadsKept: 2 });
  expect(await exists(f.orphanOld)).toBe(true);
});

test("content reused by a register while the sweep runs survives", async () => {
  const f = await fixture();
  const reused = bytesOf(200, 2);
  const report = await sweepOrphans({
    store: s3.store,
    isReferenced: async (keys) => {
      // A register stores the same content while the sweep is between its listing and its deletes.
      await s3.content.putContent(reused, "avro");
      return new Set(keys.filter((k) => k === f.referencedOld));
    },
  });
  expect(report.orphansDeleted).toBe(0);
  expect(await exists(f.orphanOld)).toBe(true);
});

test("when the reference check fails nothing is removed", async () => {
  const f = await fixture();
  await expect(
    sweepOrphans({
      store: s3.store,
      isReferenced: async () => {
        throw new Error("database down");
      },
    }),
  ).rejects.toThrow("database down");
  expect(await exists(f.orphanOld)).toBe(true);
  expect(await exists(f.referencedOld)).toBe(true);
});

test("large listings are checked in batches", async () => {
  const keys: string[] = [];
  for (let i = 0; i < 7; i++) keys.push((await s3.content.putContent(bytesOf(10 + i, 100 + i), "json")).key);
  for (const key of keys) await s3.backdate(key, 2 * HOUR);
  const batches: number[] = [];
  const report = await sweepOrphans({
    store: s3.store,
    batchSize: 3,
    isReferenced: async (batch) => {
      batches.push(batch.length);
      return new Set(batch);
    },
  });
  expect(batches).toEqual([3, 3, 1]);
  expect(report.referenced).toBe(7);
  expect(report.orphansDeleted).toBe(0);
});

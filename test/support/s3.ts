/**
 * A real S3-protocol server for tests: s3rver (npm) on 127.0.0.1, a free port
 * and a temporary directory, with one bucket and a configured ObjectStore /
 * ContentBucket pointed at it.
 *
 * s3rver 3.7.1 falls short of S3 in three ways that matter here, and the
 * server in front of it fills them in:
 * - it does not check SigV4 signatures at all (any secret, any signed header
 *   passes), so requests are verified here: header and presigned-URL
 *   signatures, presigned expiry. Without it, a presigned PUT with the wrong
 *   Content-Type or length, or a wrong secret, would pass the tests;
 * - it lacks AbortMultipartUpload and ListMultipartUploads (MethodNotAllowed /
 *   NotImplemented): both are answered here from s3rver's own multipart store,
 *   so the abort-on-failure path runs end to end over the S3 protocol.
 * It also offers fault injection (answer chosen requests with an S3 error) and
 * `backdate()`, which ages an object on disk so the sweep's grace period can be
 * tested without waiting an hour.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile, rm, utimes } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { resolveS3Config, type S3ConfigInput } from "../../src/app/config/s3-config.ts";
import type { S3Config } from "../../src/content/config.ts";
import { ContentBucket } from "../../src/content/content-bucket.ts";
import { createObjectStore, type ObjectStore } from "../../src/content/object-store.ts";
import { createS3Client } from "../../src/content/s3-object-store.ts";

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}
interface S3rverInstance {
  store: S3rverStore;
  logger: { exceptions: { unhandle(): void }; close(): void };
  configureBuckets(): Promise<unknown>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface InjectedFault {
  /** Which requests fail, e.g. `(r) => r.method === "PUT" && r.query.get("partNumber") === "2"`. */
  match(request: { method: string; path: string; query: URLSearchParams }): boolean;
  status: number;
  code: string;
  /** How many matching requests fail; Infinity for all. */
  times: number;
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Resolved configuration with s3rver's credentials, ready for `createObjectStore`. */
  config: S3Config;
  store: ObjectStore;
  content: ContentBucket;
  /** Builds another store on this server with some settings changed. */
  makeStore(overrides?: Partial<S3ConfigInput>): Promise<ObjectStore>;
  /** Incomplete multipart uploads in the bucket, listed over the S3 protocol. */
  listMultipartUploads(): Promise<{ key: string; uploadId: string }[]>;
  /** Makes the object look `ms` older than it is (its Last-Modified moves back). */
  backdate(key: string, ms: number): Promise<void>;
  injectFault(fault: InjectedFault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/**
 * What an operator sets to put the registry on this s3rver (credentials come
 * separately, as `objectStore.credentials`): the in-server sweep off, and room
 * for the 20 MiB schemas the tests register.
 */
export function s3Env(
  s3: Pick<TestS3, "bucket" | "endpoint">,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    S3_SWEEP_INTERVAL_SECONDS: "0",
    MAX_SCHEMA_BYTES: String(24 * 1024 * 1024),
    ...extra,
  };
}

export async function startS3(options: { bucket?: string; prefix?: string } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? "registry-test";
  const directory = mkdtempSync(join(tmpdir(), "registry-s3rver-"));
  const S3rver = require("s3rver") as S3rverConstructor;
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  await s3rver.configureBuckets();

  const faults: InjectedFault[] = [];
  const uploadsDir = s3rver.store.getResourcePath(bucket, undefined, "uploads");
  const s3rverHandler = s3rver.callback();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const view = { method, path: url.pathname, query: url.searchParams };
    const fault = faults.find((f) => f.times > 0 && f.match(view));
    if (fault) {
      fault.times--;
      req.resume();
      return sendError(res, fault.status, fault.code);
    }
    const denied = verifySignature(req, url);
    if (denied) {
      req.resume();
      return sendError(res, 403, denied);
    }
    const [bucketName, ...keyParts] = url.pathname.split("/").filter((part) => part !== "");
    if (bucketName === bucket && method === "DELETE" && url.searchParams.has("uploadId")) {
      return abortUpload(res, uploadsDir, url.searchParams.get("uploadId") ?? "");
    }
    if (
      bucketName === bucket &&
      keyParts.length === 0 &&
      method === "GET" &&
      url.searchParams.has("uploads")
    ) {
      return listUploads(res, uploadsDir, bucket);
    }
    s3rverHandler(req, res);
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch(() => sendError(res, 500, "InternalError"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const config = resolveS3Config({
    bucket,
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS },
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
  });
  const store = await createObjectStore(config);
  const content = new ContentBucket(store, {
    maxObjectBytes: config.maxObjectBytes,
    uploadExpirySeconds: config.uploadExpirySeconds,
    refreshAfterMs: config.refreshAfterMs,
  });
  const extraStores: ObjectStore[] = [];
  const admin = createS3Client(config);

  return {
    endpoint,
    bucket,
    config,
    store,
    content,
    async makeStore(overrides = {}) {
      const made = await createObjectStore(resolveS3Config({ ...config, ...overrides }));
      extraStores.push(made);
      return made;
    },
    async listMultipartUploads() {
      const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (out.Uploads ?? []).map((u) => ({ key: u.Key ?? "", uploadId: u.UploadId ?? "" }));
    },
    async backdate(key, ms) {
      const path = s3rver.store.getResourcePath(bucket, key, "object");
      const when = new Date(Date.now() - ms);
      await utimes(path, when, when);
    },
    injectFault(fault) {
      faults.push(fault);
    },
    clearFaults() {
      faults.length = 0;
    },
    async stop() {
      for (const made of extraStores) await made.close();
      await store.close();
      admin.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s3rver.logger.exceptions.unhandle();
      s3rver.logger.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** An endpoint where nothing listens: a port that was free a moment ago. */
export async function closedEndpoint(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function sendError(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`,
  );
}

async function abortUpload(res: ServerResponse, uploadsDir: string, uploadId: string): Promise<void> {
  if (!/^[0-9a-f]+$/.test(uploadId)) return sendError(res, 404, "NoSuchUpload");
  const dir = join(uploadsDir, uploadId);
  const exists = await readdir(dir).then(
    () => true,
    () => false,
  );
  if (!exists) return sendError(res, 404, "NoSuchUpload");
  await rm(dir, { recursive: true, force: true });
  res.writeHead(204);
  res.end();
}

async function listUploads(res: ServerResponse, uploadsDir: string, bucket: string): Promise<void> {
  const ids = await readdir(uploadsDir).catch(() => [] as string[]);
  const uploads = await Promise.all(
    ids.map(async (id) => {
      const key = await readFile(join(uploadsDir, id, "key"), "utf8").catch(() => "");
      return `<Upload><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId></Upload>`;
    }),
  );
  res.writeHead(200, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${escapeXml(bucket)}</Bucket>` +
      `<IsTruncated>false</IsTruncated>${uploads.join("")}</ListMultipartUploadsResult>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const SECRETS = new Map<string, string>([
  [S3RVER_CREDENTIALS.accessKeyId, S3RVER_CREDENTIALS.secretAccessKey],
]);

/**
 * SigV4 verification as S3 does it, for the header form (Authorization) and
 * the presigned form (X-Amz-* query). Returns the S3 error code, or null when
 * the request is properly signed. Unsigned requests are left to s3rver.
 */
function verifySignature(req: IncomingMessage, url: URL): string | null {
  const query = url.searchParams;
  const authorization = req.headers.authorization;
  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  if (query.has("X-Amz-Signature")) {
    credential = query.get("X-Amz-Credential") ?? "";
    signedHeaders = query.get("X-Amz-SignedHeaders") ?? "";
    signature = query.get("X-Amz-Signature") ?? "";
    amzDate = query.get("X-Amz-Date") ?? "";
    payloadHash = query.get("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD";
    const expires = Number(query.get("X-Amz-Expires"));
    if (Date.now() > parseAmzDate(amzDate) + expires * 1000) return "AccessDenied";
  } else if (authorization?.startsWith("AWS4-HMAC-SHA256 ")) {
    const fields = new Map(
      authorization
        .slice(17)
        .split(",")
        .map((part) => part.trim().split("=") as [string, string]),
    );
    credential = fields.get("Credential") ?? "";
    signedHeaders = fields.get("SignedHeaders") ?? "";
    signature = fields.get("Signature") ?? "";
    amzDate = String(req.headers["x-amz-date"] ?? "");
    payloadHash = String(req.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD");
  } else {
    return null;
  }
  const [accessKeyId, date, region, service] = credential.split("/");
  const secret = SECRETS.get(accessKeyId ?? "");
  if (!secret) return "InvalidAccessKeyId";
  const canonicalQuery = [...query.entries()]
    .filter(([name]) => name !== "X-Amz-Signature")
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const headerNames = signedHeaders.split(";");
  const canonicalHeaders = headerNames
    .map((name) => {
      const raw = req.headers[name];
      const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
  const canonicalRequest = [
    req.method,
    rawPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${secret}`)
    .update(date ?? "")
    .digest();
  for (const part of [region ?? "", service ?? "", "aws4_request"])
    key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  return expected === signature ? null : "SignatureDoesNotMatch";
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

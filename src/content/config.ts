/**
 * The object store's settings: the shape the S3 store, the content bucket
 * and the object content store are built from. The composition root resolves
 * it from the registry's configuration, where every default is declared;
 * this module holds only the shape and the limits S3 itself sets.
 */

/** The longest a SigV4 presigned URL may live (seven days). */
export const MAX_PRESIGN_SECONDS = 604_800;
/** S3 refuses multipart parts below 5 MiB (the last part excepted). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Config {
  bucket: string;
  region: string;
  /** Empty, or ending with `/`. */
  prefix: string;
  /** For S3-compatible servers (MinIO, s3rver, R2); absent means AWS. */
  endpoint?: string;
  /**
   * Endpoint that presigned URLs are made for, when clients reach the store by
   * another address than the server does (e.g. `minio:9000` inside compose).
   */
  publicEndpoint?: string;
  forcePathStyle: boolean;
  /** Explicit credentials (tests); absent means the SDK's default chain (AWS_* variables, profiles, roles). */
  credentials?: S3Credentials;
  /** Content of this many canonical bytes or more goes to the object store. */
  minSizeBytes: number;
  /**
   * Largest client upload the registry accepts and reads back. The upload is
   * the text as the client wrote it (pretty printed, say); its canonical form
   * is then held to the content limit like any content.
   */
  maxObjectBytes: number;
  presignExpirySeconds: number;
  /** Presigned PUT lifetime for direct uploads; unregistered uploads are swept after it. */
  uploadExpirySeconds: number;
  /** Between two sweeps of an instance; 0: no sweep inside the server. */
  sweepIntervalSeconds: number;
  /** Unreferenced objects younger than this are kept. */
  sweepGraceSeconds: number;
  /**
   * An existing content-addressed object older than this is rewritten when the
   * same content is stored again, so the sweep's grace period (which is
   * longer) protects it while its new row is being committed.
   */
  refreshAfterMs: number;
  /** One PutObject up to this size, multipart above it. */
  partSizeBytes: number;
  /** Parts in flight at once during a multipart upload. */
  partConcurrency: number;
  connectTimeoutMs: number;
  /** A socket that sends or receives nothing for this long fails the request. */
  idleTimeoutMs: number;
  /** Upper bound on a whole request, large bodies included. */
  requestTimeoutMs: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
}

/**
 * IdentityStore: the reads and deletes Confluent's identity model needs, over
 * the same `schemas` rows the SchemaRepository writes. A schema id is a
 * content id (`schema_contents`), a version is a subject's integer version,
 * and references tie a row to other subjects' versions. Registering stays
 * with SchemaRepository.register (it assigns both numbers).
 */
import type { WriteContext } from "../domain/audit.ts";
import type { SchemaRecord, SchemaReference, SchemaType } from "../domain/types.ts";

/** A row with the guid of its content. */
export interface IdentifiedRecord extends SchemaRecord {
  guid: string;
}

export interface SubjectVersionEntry {
  version: number;
  deleted: boolean;
}

export interface ContentUsage {
  subject: string;
  version: number;
  deleted: boolean;
}

export interface SubjectListing {
  prefix?: string;
  includeDeleted?: boolean;
  /** Only subjects whose every version is soft-deleted. */
  deletedOnly?: boolean;
}

export interface SchemaListing {
  prefix?: string;
  includeDeleted?: boolean;
  /** Each subject's highest version alone. */
  latestOnly?: boolean;
  offset: number;
  limit: number;
}

export interface IdentityStore {
  /**
   * A row holding the content id, with its content: the subject's row when
   * `subject` holds it, else a live row, else a soft-deleted one. null when
   * no row holds it (or `subject` is given and holds none).
   */
  byContentId(id: number, options?: { subject?: string }): Promise<IdentifiedRecord | null>;
  byGuid(guid: string): Promise<IdentifiedRecord | null>;
  /** The subject versions holding the content id, by subject then version. */
  usagesOfContent(id: number, options?: { includeDeleted?: boolean }): Promise<ContentUsage[]>;
  /** Every integer version of the subject, soft-deleted ones flagged; [] for an unknown subject. */
  subjectVersions(subject: string): Promise<SubjectVersionEntry[]>;
  bySubjectVersion(
    subject: string,
    version: number,
    options?: { includeDeleted?: boolean },
  ): Promise<IdentifiedRecord | null>;
  /** The highest version not soft-deleted (with `includeDeleted`, the highest of all). */
  latestOfSubject(subject: string, options?: { includeDeleted?: boolean }): Promise<IdentifiedRecord | null>;
  /** Subject names, sorted. Live subjects; with `includeDeleted` those with only soft-deleted versions too. */
  subjectNames(listing: SubjectListing): Promise<string[]>;
  /** Subject versions with content, by subject then version. */
  listSchemas(listing: SchemaListing): Promise<IdentifiedRecord[]>;
  /** The subject's version holding this content and these references (newest first). */
  findInSubject(
    subject: string,
    schemaType: SchemaType,
    contentHash: string,
    references: readonly SchemaReference[],
    options?: { includeDeleted?: boolean },
  ): Promise<IdentifiedRecord | null>;
  /** Content ids of the live rows referencing the subject's version. */
  referencedBy(subject: string, version: number): Promise<number[]>;
  /**
   * Soft-deletes every live version of the subject, or with `permanent`
   * removes its soft-deleted ones for good; refused (`conflict`, resource
   * "reference") while another live row references one of them. Answers the
   * rows it changed, by version; with `audit`, one audit entry per row, in the same transaction.
   */
  deleteSubject(
    subject: string,
    options: { permanent: boolean; audit?: WriteContext | undefined },
  ): Promise<SchemaRecord[]>;
}

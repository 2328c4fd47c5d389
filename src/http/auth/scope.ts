/**
 * Subject prefixes: what a caller limited to some may see and touch. The
 * middleware checks the subject of a path or a schema id itself
 * (permissions.ts says which); handlers of lists and searches use
 * `subjectFilter` / `scopedPage` to leave out what lies outside, and the
 * native register checks the subject of its body with `requireSubject`.
 */
import type { Context } from "hono";
import { RegistryError } from "../../domain/errors.ts";
import type { Principal } from "../../domain/principal.ts";
import type { Page } from "../../domain/types.ts";
import type { AppEnv } from "../app-env.ts";

export function allowsSubject(principal: Principal, subject: string): boolean {
  const prefixes = principal.subjectPrefixes;
  if (prefixes === null) return true;
  for (const prefix of prefixes) if (subject.startsWith(prefix)) return true;
  return false;
}

export function outsidePrefixes(principal: Principal, subject: string): RegistryError {
  return new RegistryError(
    "forbidden",
    `subject ${subject} is outside the subject prefixes this caller is limited to`,
    { subject, subject_prefixes: principal.subjectPrefixes },
  );
}

/** The request's caller; OPEN_ACCESS never needs asking (the middleware always sets one). */
export function principalOf(c: Context<AppEnv>): Principal {
  return c.get("principal");
}

/** Throws `forbidden` unless the caller may touch `subject`. */
export function requireSubject(c: Context<AppEnv>, subject: string): void {
  const principal = principalOf(c);
  if (!allowsSubject(principal, subject)) throw outsidePrefixes(principal, subject);
}

/** null when the caller sees every subject; else whether it sees one. */
export function subjectFilter(c: Context<AppEnv>): ((subject: string) => boolean) | null {
  const principal = principalOf(c);
  if (principal.subjectPrefixes === null) return null;
  return (subject) => allowsSubject(principal, subject);
}

/**
 * The one subject pattern (`prefix*`, as search and Confluent's
 * `subjectPrefix` take it) that covers exactly the caller's subjects, when
 * there is one: a single prefix without `*`. Narrowing the query to it keeps
 * the database's paging and totals right without reading past the page.
 */
export function singlePrefix(c: Context<AppEnv>): string | null {
  const prefixes = principalOf(c).subjectPrefixes;
  if (prefixes === null || prefixes.length !== 1 || prefixes[0]!.includes("*")) return null;
  return prefixes[0]!;
}

/**
 * Confluent's `subjectPrefix` as a caller with one prefix of its own is held
 * to: its own when the client asks for none or a broader one, the client's
 * when narrower. What the answer still holds outside is filtered after.
 */
export function narrowedPrefix(c: Context<AppEnv>, asked: string | undefined): string | undefined {
  const own = singlePrefix(c);
  if (own === null) return asked || undefined;
  if (!asked || own.startsWith(asked)) return own;
  return asked;
}

/** Pages read while a list is filtered for a caller limited to prefixes. */
const SCAN_PAGE = 1000;

/**
 * A page of a list as a caller limited to prefixes sees it: the list read
 * page by page from its start, what lies outside left out, then the page
 * asked for cut from the rest, with the total of what the caller sees. It
 * costs a read of the whole list (the query cache keeps it for a few
 * seconds); a caller without prefixes gets `fetch(request)` as it is.
 */
export async function scopedPage<T extends { subject: string }, P extends Page<T>>(
  c: Context<AppEnv>,
  request: { limit: number; offset: number },
  fetch: (page: { limit: number; offset: number }) => Promise<P>,
): Promise<P> {
  const visible = subjectFilter(c);
  if (visible === null) return fetch(request);
  const seen: T[] = [];
  let last: P | null = null;
  for (let offset = 0; ; ) {
    const page = await fetch({ limit: SCAN_PAGE, offset });
    last = page;
    for (const item of page.items) if (visible(item.subject)) seen.push(item);
    offset += page.items.length;
    if (page.items.length < SCAN_PAGE || offset >= page.total) break;
  }
  return {
    ...last,
    items: seen.slice(request.offset, request.offset + request.limit),
    limit: request.limit,
    offset: request.offset,
    total: seen.length,
  };
}

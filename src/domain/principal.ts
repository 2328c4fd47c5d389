/**
 * Who is asking: the identity the authentication middleware establishes for
 * every request (an API key, a JWT subject, or the anonymous caller of a
 * registry that runs with auth off) and what it may do. Routes authorize
 * against it; the audit log records its `id`; the rate limiter keys its
 * bucket on it.
 */

/** Each role includes the ones before it: reader ⊂ writer ⊂ admin. */
export const ROLES = ["reader", "writer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type PrincipalKind = "key" | "jwt" | "anonymous";

export interface Principal {
  /** The key id, the JWT `sub`, or `anonymous`: what the audit log names as the actor. */
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly role: Role;
  /** Subject prefixes the caller is limited to; `null` means every subject. */
  readonly subjectPrefixes: readonly string[] | null;
}

/** The caller of a registry running with auth off: anyone who reaches the port may do anything. */
export const OPEN_ACCESS: Principal = Object.freeze({
  id: "anonymous",
  kind: "anonymous",
  role: "admin",
  subjectPrefixes: null,
});

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

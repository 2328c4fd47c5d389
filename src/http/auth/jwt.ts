/**
 * JWT verification for edge deployments whose callers bring tokens from an
 * identity provider rather than API keys: `jose`'s `jwtVerify` against the
 * provider's JSON Web Key Set, fetched and cached by `createRemoteJWKSet`
 * (a key id it has not seen makes it fetch again, at most once per cooldown).
 * The signature, `exp`/`nbf`, `iss` and `aud` are checked; the role and the
 * subject prefixes are read from the configured claims by the authenticator.
 * jose uses web-standard crypto only, so this runs on Bun and Deno alike;
 * it is loaded only when a JWKS URL is configured.
 */
import { RegistryError } from "../../domain/errors.ts";
import type { TokenVerifier } from "./authenticator.ts";

export interface JwtSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  roleClaim: string;
  subjectsClaim: string;
  /** A fetch of the JWKS gives up after this long, ms. */
  timeoutMs?: number;
}

/** Leeway for clocks that disagree a little, seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;

export async function createJwtVerifier(settings: JwtSettings): Promise<TokenVerifier> {
  const { createRemoteJWKSet, jwtVerify, errors } = await import("jose");
  const keySet = createRemoteJWKSet(new URL(settings.jwksUrl), {
    timeoutDuration: settings.timeoutMs ?? 3000,
  });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      if (typeof payload.sub !== "string" || payload.sub === "") {
        throw new RegistryError("unauthorized", "the token has no subject (sub)");
      }
      return {
        subject: payload.sub,
        role: payload[settings.roleClaim],
        subjects: payload[settings.subjectsClaim],
        expiresAt: payload.exp,
      };
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      // The JWKS could not be fetched: the provider is down, not the caller wrong.
      if (error instanceof errors.JWKSTimeout || isFetchFailure(error)) {
        throw RegistryError.unavailable("the token's key set (JWKS) could not be fetched", error);
      }
      throw new RegistryError("unauthorized", `the token is not accepted: ${reasonOf(error)}`);
    }
  };
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof Error && error.name === "JOSEError");
}

/** jose's messages name the failed check (`"exp" claim timestamp check failed`, `unexpected "iss" claim value`). */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : "invalid token";
}

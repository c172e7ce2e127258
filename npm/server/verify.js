// `verifyToken`: a Hallpass session token checked as Clerk's `verifyToken` checks a Clerk one —
// RS256 only (the header's `alg` is never trusted), the key by `kid` from the local `jwtKey` or the
// JWKS cache (keys.js), the signature before any claim (so a forged token learns nothing about the
// configuration), then `exp`/`nbf`/`iat` with `clockSkewInMs` of tolerance, `iss`, `azp` against
// `authorizedParties`, and `v: 2` — a JWT template's token is signed by the same key but is no
// session token (it may live for years and be held by a third party), and templates cannot set `v`.
import { decodeProtectedHeader, jwtVerify } from "jose";

import { TokenVerificationError, TokenVerificationErrorReason as Reason } from "./errors.js";
import { JWKS_DEFAULTS, localKey, remoteKeys } from "./keys.js";
import { instanceUrls } from "./instance.js";

/** Clerk's default tolerance between the clocks of the Hallpass server and this one. */
export const DEFAULT_CLOCK_SKEW_MS = 5_000;
/** A session token is well under 2 KiB; anything much larger is refused before any work. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** The session token's version claim (Clerk's v2 shape). */
const SESSION_TOKEN_VERSION = 2;

const refuse = (reason, message, action) => new TokenVerificationError({ reason, message, action });

/** jose's errors as our reasons. */
function fromJose(error) {
  if (error instanceof TokenVerificationError) return error;
  switch (error?.code) {
    case "ERR_JWT_EXPIRED":
      return refuse(Reason.TokenExpired, "The session token has expired.", "Refresh the session token and try again.");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (error.claim === "nbf") return refuse(Reason.TokenNotActiveYet, "The session token is not valid yet.", "Make sure your system clock is in sync.");
      if (error.claim === "iss") return refuse(Reason.TokenInvalidIssuer, "The session token was issued by another server.", "Check the issuer (frontendApi) this backend expects.");
      return refuse(Reason.TokenInvalid, `The session token's claims are not valid: ${error.message}.`);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return refuse(Reason.TokenInvalidSignature, "The session token's signature is not valid.");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return refuse(Reason.TokenInvalidAlgorithm, "The session token is not signed with RS256.");
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return refuse(Reason.JWKKidMismatch, "No key of jwtKey matches the token's kid.");
    default:
      return refuse(Reason.TokenInvalid, `The session token is malformed: ${error?.message ?? error}.`);
  }
}

/**
 * Verifies a session token and returns its claims; throws a `TokenVerificationError` otherwise.
 * Networkless with `jwtKey`; otherwise the keys come from `jwksUrl` (default: the instance's
 * `/.well-known/jwks.json`), cached.
 */
export async function verifyToken(token, options = {}) {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw refuse(Reason.TokenInvalid, "The session token is missing or not a JWT.");
  }
  const { jwksUrl, issuer } = instanceUrls(options);
  const skewMs = typeof options.clockSkewInMs === "number" && Number.isFinite(options.clockSkewInMs)
    ? Math.max(0, options.clockSkewInMs)
    : DEFAULT_CLOCK_SKEW_MS;
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw refuse(Reason.TokenInvalid, "The session token is malformed: its header is not a JWS header.");
  }
  if (header.alg !== "RS256") throw refuse(Reason.TokenInvalidAlgorithm, "The session token is not signed with RS256.");
  let key;
  if (typeof options.jwtKey === "string" && options.jwtKey.trim() !== "") {
    key = await localKey(options.jwtKey);
  } else if (jwksUrl !== undefined) {
    if (typeof header.kid !== "string" || header.kid === "") throw refuse(Reason.TokenInvalid, "The session token's header has no kid.");
    const cacheOptions = {
      maxAgeMs: options.jwksCacheMaxAgeMs ?? JWKS_DEFAULTS.maxAgeMs,
      cooldownMs: options.jwksCooldownMs ?? JWKS_DEFAULTS.cooldownMs,
      timeoutMs: options.jwksTimeoutMs ?? JWKS_DEFAULTS.timeoutMs,
      fetch: options.fetch ?? globalThis.fetch,
    };
    key = await remoteKeys(jwksUrl).keySetFor(header.kid, cacheOptions);
  } else {
    throw refuse(
      Reason.JWKFailedToResolve,
      "verifyToken needs jwtKey, jwksUrl, frontendApi or publishableKey to find the signing keys.",
      "Set HALLPASS_PUBLISHABLE_KEY (or HALLPASS_JWT_KEY for networkless verification).",
    );
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["RS256"],
      issuer,
      clockTolerance: skewMs / 1000,
      requiredClaims: ["exp", "nbf", "iat", "sub"],
    }));
  } catch (error) {
    throw fromJose(error);
  }
  if (payload.iat * 1000 > Date.now() + skewMs) {
    throw refuse(Reason.TokenIatInTheFuture, "The session token was issued in the future.", "Make sure your system clock is in sync.");
  }
  if (payload.v !== SESSION_TOKEN_VERSION) {
    throw refuse(Reason.TokenTypeMismatch, "Not a session token (no `v: 2`): a JWT template's token is never accepted as one.");
  }
  if (typeof payload.sub !== "string" || typeof payload.sid !== "string") {
    throw refuse(Reason.TokenInvalid, "The session token has no sub or sid.");
  }
  const parties = options.authorizedParties;
  if (typeof payload.azp === "string" && Array.isArray(parties) && parties.length > 0 && !parties.includes(payload.azp)) {
    throw refuse(Reason.TokenInvalidAuthorizedParties, `The session token was made for ${payload.azp}, which is not an authorized party.`,
      "Add the origin to authorizedParties (HALLPASS_AUTHORIZED_PARTIES).");
  }
  return payload;
}

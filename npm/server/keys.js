// The keys `verifyToken` checks signatures with: a local key given as configuration (`jwtKey`:
// networkless), or the server's JWKS document behind a cache with these rules:
// - keys are reused for `maxAgeMs` (5 min) after a successful fetch, then fetched again;
// - a `kid` the cache does not know fetches again at once (a key rotated in), but such fetches
//   happen at most once per `cooldownMs` (5 s): tokens naming made-up `kid`s cannot make the app
//   hammer the server;
// - concurrent verifications share one fetch;
// - a fetch that fails (server down, timeout, bad answer) keeps the keys already cached: they go on
//   verifying (stale-if-error) until a fetch succeeds;
// - each fetch has a deadline (`timeoutMs`, 5 s) and a size limit.
// One cache per JWKS URL (one per Hallpass instance), for the life of the process.
import { createLocalJWKSet, importSPKI } from "jose";

import { readLimited } from "./body.js";
import { TokenVerificationError, TokenVerificationErrorReason as Reason } from "./errors.js";

export const JWKS_DEFAULTS = Object.freeze({ maxAgeMs: 5 * 60_000, cooldownMs: 5_000, timeoutMs: 5_000 });
/** A JWKS document larger than this is refused (ours is about 500 bytes a key). */
const MAX_JWKS_BYTES = 256 * 1024;
/** Distinct local keys kept imported; configuration has one or two. */
const MAX_LOCAL_KEYS = 16;

/** `kid`s as the keys of a JWKS document, each key an object with a string `kid`. */
function jwksKids(jwks) {
  if (jwks === null || typeof jwks !== "object" || !Array.isArray(jwks.keys)) return null;
  const kids = new Set();
  for (const key of jwks.keys) {
    if (key === null || typeof key !== "object") return null;
    if (typeof key.kid === "string") kids.add(key.kid);
  }
  return kids;
}

class RemoteKeys {
  constructor(url) {
    this.url = url;
    this.keySet = null;
    this.kids = new Set();
    this.fetchedAt = -Infinity;
    this.attemptedAt = -Infinity;
    /** When a kid the cache did not know last made it fetch. */
    this.missedAt = -Infinity;
    this.inflight = null;
    /** Why the last fetch failed (`null` after a success). */
    this.failure = null;
  }

  /** The key set to verify a token whose header names `kid` with. */
  async keySetFor(kid, options) {
    const known = this.kids.has(kid);
    if (known && Date.now() - this.fetchedAt < options.maxAgeMs) return this.keySet;
    // Stale keys are fetched again at most once per cooldown (the server may be down); an unknown
    // kid fetches at once, but kids missing from the cache fetch at most once per cooldown.
    const last = known ? this.attemptedAt : this.missedAt;
    if (this.inflight !== null) {
      await this.inflight;
    } else if (Date.now() - last >= options.cooldownMs) {
      // The first fetch of an empty cache is not a miss.
      if (!known && this.keySet !== null) this.missedAt = Date.now();
      this.inflight = this.reload(options).finally(() => {
        this.inflight = null;
      });
      await this.inflight;
    }
    if (this.kids.has(kid)) return this.keySet;
    if (this.failure !== null) {
      throw new TokenVerificationError({
        reason: Reason.RemoteJWKFailedToLoad,
        message: `Could not load the JWKS from ${this.url}: ${this.failure}`,
        action: "Check that the Hallpass server is reachable from this backend.",
      });
    }
    throw new TokenVerificationError({
      reason: Reason.JWKKidMismatch,
      message: `No key in the JWKS matches the kid='${kid}' of the token.`,
      action: "Make sure the token comes from this Hallpass instance.",
    });
  }

  /** Fetches the document; never throws (a failure is kept in `failure`, the old keys stay). */
  async reload(options) {
    this.attemptedAt = Date.now();
    try {
      const response = await options.fetch(this.url, {
        headers: { accept: "application/json" },
        redirect: "error",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      const text = await readLimited(response, MAX_JWKS_BYTES);
      if (text === null) throw new Error(`the document is larger than ${MAX_JWKS_BYTES} bytes`);
      let jwks;
      try {
        jwks = JSON.parse(text);
      } catch {
        throw new Error("the document is not JSON");
      }
      const kids = jwksKids(jwks);
      if (kids === null || kids.size === 0) throw new Error("the document has no keys");
      this.keySet = createLocalJWKSet(jwks);
      this.kids = kids;
      this.fetchedAt = Date.now();
      this.failure = null;
    } catch (error) {
      const timedOut = error?.name === "TimeoutError" || error?.name === "AbortError";
      this.failure = timedOut ? `no answer within ${options.timeoutMs} ms` : String(error?.message ?? error);
    }
  }
}

const remoteCaches = new Map();

/** The cached JWKS of `url` (made on first use). */
export function remoteKeys(url) {
  let cache = remoteCaches.get(url);
  if (cache === undefined) {
    cache = new RemoteKeys(url);
    remoteCaches.set(url, cache);
  }
  return cache;
}

const localKeys = new Map();

/**
 * A `jwtKey` as something jose verifies with: a PEM public key (`-----BEGIN PUBLIC KEY-----`, any
 * `kid`), or the JWKS document (or one JWK of it) as JSON (the key matching the token's `kid`).
 */
export async function localKey(jwtKey) {
  let key = localKeys.get(jwtKey);
  if (key !== undefined) return key;
  const invalid = (why) =>
    new TokenVerificationError({
      reason: Reason.LocalJWKInvalid,
      message: `jwtKey is not a usable public key: ${why}`,
      action: "Set jwtKey (HALLPASS_JWT_KEY) to the PEM public key or the JWKS document of your instance.",
    });
  const text = jwtKey.trim();
  if (text.startsWith("-----BEGIN PUBLIC KEY-----")) {
    try {
      key = await importSPKI(text, "RS256");
    } catch (error) {
      throw invalid(error?.message ?? "not an RSA public key");
    }
  } else {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid("neither PEM nor JSON");
    }
    const jwks = parsed !== null && typeof parsed === "object" && "kty" in parsed ? { keys: [parsed] } : parsed;
    if (jwksKids(jwks) === null) throw invalid("not a JWKS document");
    try {
      key = createLocalJWKSet(jwks);
    } catch (error) {
      throw invalid(error?.message ?? "not a JWKS document");
    }
  }
  if (localKeys.size >= MAX_LOCAL_KEYS) localKeys.clear();
  localKeys.set(jwtKey, key);
  return key;
}

// Where a Hallpass instance is: its Frontend API URL (given, or decoded from the publishable key,
// `pk_test_…`/`pk_live_…` + base64 of the URL and a `$`, as protocol/src/keys.rs encodes it), and
// from it the JWKS URL, the issuer of its tokens and its Backend API URL (the same server).

/** The Frontend API URL a publishable key encodes, or `null` for anything that is not one. */
export function decodePublishableKey(key) {
  if (typeof key !== "string") return null;
  const body = key.startsWith("pk_test_") || key.startsWith("pk_live_") ? key.slice(8) : null;
  if (body === null || body.length === 0 || body.length > 4096 || !/^[A-Za-z0-9+/]+=*$/.test(body)) return null;
  let decoded;
  try {
    // atob's forgiving decoder takes the key's base64 with or without its padding.
    decoded = atob(body.replace(/=+$/, ""));
  } catch {
    return null;
  }
  if (!decoded.endsWith("$")) return null;
  const url = decoded.slice(0, -1);
  return /^https?:\/\/[\x21-\x7e]+$/.test(url) ? url : null;
}

/** A URL without its trailing slashes. */
const trimmed = (url) => url.replace(/\/+$/, "");

/**
 * `{ frontendApi, jwksUrl, issuer, apiUrl }` from options that name the instance: `frontendApi` or
 * `publishableKey`, and optionally `jwksUrl`, `issuer` and `apiUrl` overriding what they imply.
 * Each is `undefined` when nothing names it. Throws a `TypeError` for a malformed key or URL.
 */
export function instanceUrls(options) {
  let frontendApi;
  if (typeof options.frontendApi === "string" && options.frontendApi !== "") {
    if (!/^https?:\/\//.test(options.frontendApi)) throw new TypeError("frontendApi must be an http(s) URL");
    frontendApi = trimmed(options.frontendApi);
  } else if (typeof options.publishableKey === "string" && options.publishableKey !== "") {
    const decoded = decodePublishableKey(options.publishableKey);
    if (decoded === null) throw new TypeError("publishableKey is not a Hallpass publishable key (pk_test_… / pk_live_…)");
    frontendApi = trimmed(decoded);
  }
  const given = (name) => (typeof options[name] === "string" && options[name] !== "" ? options[name] : undefined);
  return {
    frontendApi,
    jwksUrl: given("jwksUrl") ?? (frontendApi === undefined ? undefined : `${frontendApi}/.well-known/jwks.json`),
    issuer: given("issuer") ?? frontendApi,
    apiUrl: trimmed(given("apiUrl") ?? frontendApi ?? "") || undefined,
  };
}

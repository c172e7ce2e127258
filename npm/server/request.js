// `authenticateRequest`: the auth state of an incoming Web `Request`, as Clerk's (tokens/request.ts,
// authStatus.ts, authObjects.ts) — `signed-in`, `signed-out` or `handshake`, with `toAuth()`.
//
// Where the token comes from: `Authorization: Bearer …` (API calls from the app's own code, which
// sends `hp.fetch`'s token) wins; otherwise the `__session` cookie that the browser SDK keeps when
// loaded with `sessionCookie: true` (page navigations), next to `__client_uat`, which says whether
// that browser is signed in (seconds since the epoch of its last sign-in, `0` when signed out) and
// outlives the short-lived session cookie.
//
// The handshake: a page request (a GET whose `Sec-Fetch-Dest` is `document`/`iframe`, or that
// accepts `text/html`) from a browser that is signed in but whose session cookie has expired or is
// gone — the tab slept, the laptop was closed — must not be served as signed out. It is answered
// with a minimal page (handshake.js) that loads the SDK, which refreshes the token from the session
// it keeps in the browser, writes the cookie, and reloads. `__hallpass_handshake` counts the
// page's reloads for a few seconds: past `MAX_HANDSHAKES`, the request is signed out instead (a loop
// guard, for a browser that cannot refresh or a cookie this server keeps refusing). Other requests
// (fetches, form posts) with an expired cookie are signed out, with the reason.
import { request as apiRequest } from "./api.js";
import { claimsToAuthProperties, createHas } from "./claims.js";
import { TokenVerificationError, TokenVerificationErrorReason } from "./errors.js";
import { instanceUrls } from "./instance.js";
import { verifyToken } from "./verify.js";

export const AuthStatus = Object.freeze({ SignedIn: "signed-in", SignedOut: "signed-out", Handshake: "handshake" });

/** Why a request is signed out (besides `TokenVerificationErrorReason`) or needs a handshake. */
export const AuthErrorReason = Object.freeze({
  SessionTokenAndUATMissing: "session-token-and-uat-missing",
  ClientUATWithoutSessionToken: "client-uat-but-no-session-token",
  SessionTokenExpired: "session-token-expired",
  SessionTokenNBF: "session-token-nbf",
  SessionTokenIatInTheFuture: "session-token-iat-in-the-future",
  HandshakeLoop: "handshake-redirect-loop",
});

export const SESSION_COOKIE = "__session";
export const CLIENT_UAT_COOKIE = "__client_uat";
export const HANDSHAKE_COOKIE = "__hallpass_handshake";
/** Reloads of the handshake page within its cookie's life (10 s) before the request is signed out. */
export const MAX_HANDSHAKES = 3;

/** The request's cookies by name (the first of each name wins, as browsers send the most specific first). */
export function parseCookies(header) {
  const cookies = new Map();
  if (typeof header !== "string" || header.length > 64 * 1024) return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name !== "" && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** The Bearer token of an `Authorization` header, if any. */
function bearerToken(headers) {
  const value = headers.get("authorization");
  if (value === null) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match === null ? null : match[1];
}

/** True for a request a browser makes to show a page, which a handshake page can answer. */
function isPageRequest(request) {
  if (request.method !== "GET") return false;
  const dest = request.headers.get("sec-fetch-dest");
  if (dest === "document" || dest === "iframe") return true;
  return dest === null && (request.headers.get("accept") ?? "").startsWith("text/html");
}

/** Clerk's `debug()` data, without any credential. */
const debugOf = (data) => () => ({ ...data });

/**
 * The auth object of a signed-in request: Clerk's `SignedInAuthObject` (`userId`, `sessionId`,
 * `sessionClaims`, the active organization, `has()`, `getToken()`).
 */
export function signedInAuthObject(claims, token, context) {
  const props = claimsToAuthProperties(claims);
  const has = createHas({ ...props, features: claims.fea, plans: claims.pla });
  const getToken = async (options = {}) => {
    const template = options?.template;
    if (template === undefined || template === null) return token;
    return templateToken(context, props.sessionId, token, template);
  };
  return {
    isAuthenticated: true,
    tokenType: "session_token",
    sessionClaims: claims,
    sessionStatus: null,
    actor: null,
    factorVerificationAge: null,
    ...props,
    getToken,
    has,
    debug: debugOf({ status: AuthStatus.SignedIn, frontendApi: context.frontendApi, tokenCarrier: context.tokenCarrier }),
  };
}

/** The auth object of a signed-out request: `null`s, `has()` false, `getToken()` null. */
export function signedOutAuthObject(debugData = {}) {
  return {
    isAuthenticated: false,
    tokenType: "session_token",
    sessionClaims: null,
    sessionId: null,
    sessionStatus: null,
    actor: null,
    userId: null,
    orgId: null,
    orgRole: null,
    orgSlug: null,
    orgPermissions: null,
    factorVerificationAge: null,
    getToken: () => Promise.resolve(null),
    has: () => false,
    debug: debugOf({ status: AuthStatus.SignedOut, ...debugData }),
  };
}

/** A JWT template's token for the request's session, from the Frontend API (as the SDK gets one). */
async function templateToken(context, sessionId, sessionToken, template) {
  if (typeof template !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(template)) {
    throw new TypeError("getToken: template must be a template name (1-64 of A-Z a-z 0-9 _ -)");
  }
  if (context.frontendApi === undefined) throw new TypeError("getToken({ template }) needs frontendApi or publishableKey");
  const path = `/v1/client/sessions/${encodeURIComponent(sessionId)}/tokens/${template}`;
  const body = await apiRequest(context.frontendApi, sessionToken, "POST", path, undefined, context.fetch, context.timeoutMs);
  return body.jwt;
}

function withDebugHeaders(state) {
  state.headers.set("x-hallpass-auth-status", state.status);
  if (state.reason) state.headers.set("x-hallpass-auth-reason", state.reason);
  return state;
}

function base(context) {
  return {
    publishableKey: context.publishableKey ?? "",
    frontendApi: context.frontendApi ?? "",
    signInUrl: context.signInUrl ?? "",
    signUpUrl: context.signUpUrl ?? "",
    tokenType: "session_token",
  };
}

function signedIn(context, claims, token) {
  return withDebugHeaders({
    ...base(context),
    status: AuthStatus.SignedIn,
    reason: null,
    message: null,
    isAuthenticated: true,
    isSignedIn: true,
    token,
    headers: new Headers(),
    toAuth: () => signedInAuthObject(claims, token, context),
  });
}

function signedOut(context, reason, message = "") {
  return withDebugHeaders({
    ...base(context),
    status: AuthStatus.SignedOut,
    reason,
    message,
    isAuthenticated: false,
    isSignedIn: false,
    token: null,
    headers: new Headers(),
    toAuth: () => signedOutAuthObject({ reason, message, frontendApi: context.frontendApi, tokenCarrier: context.tokenCarrier }),
  });
}

function handshake(context, reason, message) {
  const headers = new Headers({ "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  return withDebugHeaders({
    ...base(context),
    status: AuthStatus.Handshake,
    reason,
    message,
    isAuthenticated: false,
    isSignedIn: false,
    token: null,
    headers,
    toAuth: () => null,
  });
}

/** The handshake for a signed-in browser without a usable cookie, when the request allows one. */
function maybeHandshake(request, context, cookies, reason, message) {
  if (!isPageRequest(request) || context.frontendApi === undefined) return signedOut(context, reason, message);
  const count = Number.parseInt(cookies.get(HANDSHAKE_COOKIE) ?? "0", 10);
  if (Number.isFinite(count) && count >= MAX_HANDSHAKES) {
    return signedOut(context, AuthErrorReason.HandshakeLoop,
      `The handshake page reloaded ${count} times without a valid session cookie (last reason: ${reason}).`);
  }
  return handshake(context, reason, message);
}

const AFTER_HANDSHAKE = new Map([
  [TokenVerificationErrorReason.TokenExpired, AuthErrorReason.SessionTokenExpired],
  [TokenVerificationErrorReason.TokenNotActiveYet, AuthErrorReason.SessionTokenNBF],
  [TokenVerificationErrorReason.TokenIatInTheFuture, AuthErrorReason.SessionTokenIatInTheFuture],
]);

/**
 * The auth state of `request`. Options: those of `verifyToken` (`publishableKey` or `frontendApi`,
 * `jwtKey`, `authorizedParties`, `clockSkewInMs`, …) plus `signInUrl` / `signUpUrl`, passed through.
 */
export async function authenticateRequest(request, options = {}) {
  const urls = instanceUrls(options);
  const context = {
    ...urls,
    publishableKey: options.publishableKey,
    signInUrl: options.signInUrl,
    signUpUrl: options.signUpUrl,
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.apiTimeoutMs,
    tokenCarrier: undefined,
  };
  const verify = async (token) => {
    try {
      return { claims: await verifyToken(token, options) };
    } catch (error) {
      if (error instanceof TokenVerificationError) {
        error.tokenCarrier = context.tokenCarrier;
        return { error };
      }
      throw error;
    }
  };

  const headerToken = bearerToken(request.headers);
  if (headerToken !== null) {
    context.tokenCarrier = "header";
    const { claims, error } = await verify(headerToken);
    return error ? signedOut(context, error.reason, error.message) : signedIn(context, claims, headerToken);
  }

  const cookies = parseCookies(request.headers.get("cookie"));
  const cookieToken = cookies.get(SESSION_COOKIE) || null;
  const uat = Number.parseInt(cookies.get(CLIENT_UAT_COOKIE) ?? "0", 10);
  const browserSignedIn = Number.isFinite(uat) && uat > 0;
  context.tokenCarrier = "cookie";
  if (cookieToken === null) {
    return browserSignedIn
      ? maybeHandshake(request, context, cookies, AuthErrorReason.ClientUATWithoutSessionToken, "The session cookie is gone, but the browser is signed in.")
      : signedOut(context, AuthErrorReason.SessionTokenAndUATMissing);
  }
  const { claims, error } = await verify(cookieToken);
  if (!error) return signedIn(context, claims, cookieToken);
  const reason = AFTER_HANDSHAKE.get(error.reason);
  return reason === undefined ? signedOut(context, error.reason, error.message) : maybeHandshake(request, context, cookies, reason, error.message);
}

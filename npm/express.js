// `hallpass/express`: Hallpass for Express apps, shaped after `@clerk/express`.
//
// - `hallpassMiddleware()` authenticates every request (Bearer token, else the `__session` cookie)
//   and puts its auth object on `req.auth` — callable too, `req.auth()`, as Clerk's current
//   `@clerk/express` has it — and serves the session-cookie handshake: a page request from a
//   signed-in browser whose cookie expired gets the handshake page, and `/__hallpass/…` its files.
// - `getAuth(req)`: the auth object.
// - `requireAuth()`: signed-out page requests are redirected to the sign-in URL (when there is one),
//   other signed-out requests get 401.
// - `protect({ role, permission, feature })`: signed out as `requireAuth`; signed in without what is
//   asked, 404 (or a redirect to `unauthorizedUrl`) — as Clerk's `auth.protect()`.
// - `hallpassClient`: the Backend API client configured from the environment.
// Configuration comes from `HALLPASS_*` variables unless given in code (server/env.js).
import { createHallpassClient } from "./server/api.js";
import { withEnv } from "./server/env.js";
import { createHandshakeResponse, handshakeAssetResponse } from "./server/handshake.js";
import { authenticateRequest } from "./server/request.js";

export * from "./server.js";

const AUTH = Symbol("hallpass.auth");

/** A Web `Request` with the headers of an Express (node:http) request, never its body. */
function toWebRequest(req) {
  const protocol = req.protocol ?? (req.socket?.encrypted ? "https" : "http");
  const host = req.headers.host ?? "localhost";
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // Only whether it is a GET matters here (page requests); a body is never read.
  const method = req.method === "GET" || req.method === "HEAD" ? req.method : "POST";
  return new Request(`${protocol}://${host}${req.originalUrl ?? req.url}`, { method, headers });
}

/** Sends a Web `Response` through an Express (node:http) response. */
async function send(res, response) {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** `req.auth`: the auth object, also callable (`req.auth()`), as Clerk's Express SDK has it. */
function attach(req, auth) {
  const callable = Object.assign(() => auth, auth);
  req[AUTH] = auth;
  req.auth = callable;
}

/** The auth object of a request that went through `hallpassMiddleware()`. */
export function getAuth(req) {
  const auth = req?.[AUTH];
  if (auth === undefined) throw new Error("getAuth: the request did not go through hallpassMiddleware()");
  return auth;
}

/** True for a request a browser makes to show a page (to redirect rather than answer 401). */
const wantsPage = (req) => req.method === "GET" && (req.headers["sec-fetch-dest"] === "document" ||
  (req.headers["sec-fetch-dest"] === undefined && String(req.headers.accept ?? "").startsWith("text/html")));

/**
 * Authenticates every request and sets `req.auth`. Options: those of `authenticateRequest`
 * (`publishableKey`, `secretKey`, `jwtKey`, `authorizedParties`, `signInUrl`, …) over the
 * environment's `HALLPASS_*`, plus `storage` (the browser SDK's, for the handshake page).
 */
export function hallpassMiddleware(options = {}) {
  const config = withEnv(options);
  return (req, res, next) => {
    (async () => {
      const request = toWebRequest(req);
      const asset = await handshakeAssetResponse(request);
      if (asset !== null) return send(res, asset);
      const state = await authenticateRequest(request, config);
      if (state.status === "handshake") return send(res, createHandshakeResponse(state, { storage: config.storage }));
      req.hallpassConfig = config;
      attach(req, state.toAuth());
      next();
    })().catch(next);
  };
}

function redirect(res, location) {
  res.statusCode = 307;
  res.setHeader("location", location);
  res.end();
}

function refuseSignedOut(req, res, signInUrl) {
  if (signInUrl && wantsPage(req)) {
    // Back to this page after signing in, as Clerk's redirect_url.
    const target = new URL(signInUrl, "http://relative.invalid");
    target.searchParams.set("redirect_url", req.originalUrl ?? req.url);
    redirect(res, target.origin === "http://relative.invalid" ? `${target.pathname}${target.search}` : target.href);
    return;
  }
  res.statusCode = 401;
  res.setHeader("content-type", "application/json");
  res.setHeader("www-authenticate", "Bearer");
  res.end(JSON.stringify({ errors: [{ code: "authentication_invalid", message: "Sign in to continue.", long_message: "", meta: {} }] }));
}

function notFound(res, unauthorizedUrl) {
  if (unauthorizedUrl) {
    redirect(res, unauthorizedUrl);
    return;
  }
  res.statusCode = 404;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ errors: [{ code: "resource_not_found", message: "Not found.", long_message: "", meta: {} }] }));
}

/** Lets signed-in requests through; see the module doc for signed-out ones. */
export function requireAuth(options = {}) {
  return protect(options);
}

/**
 * Lets through signed-in requests that pass every check given (`role`, `permission`, `feature`,
 * or a `condition(has)` function). Needs `hallpassMiddleware()` in front.
 */
export function protect(options = {}) {
  const { signInUrl, unauthorizedUrl, condition, ...checks } = options;
  const asked = Object.values(checks).some((v) => v !== undefined);
  return (req, res, next) => {
    let auth;
    try {
      auth = getAuth(req);
    } catch (error) {
      next(error);
      return;
    }
    if (!auth.isAuthenticated) {
      refuseSignedOut(req, res, signInUrl ?? req.hallpassConfig?.signInUrl);
      return;
    }
    const allowed = (!asked || auth.has(checks)) && (condition === undefined || condition(auth.has) === true);
    if (!allowed) {
      notFound(res, unauthorizedUrl);
      return;
    }
    next();
  };
}

let defaultClient = null;

/** The Backend API client configured from the environment (`HALLPASS_SECRET_KEY`, …), made on first use. */
export const hallpassClient = new Proxy({}, {
  get(_, name) {
    defaultClient ??= createHallpassClient(withEnv({}));
    return defaultClient[name];
  },
});

// `hallpass/nextjs/server`: Hallpass on the server side of a Next.js App Router app, shaped after
// `@clerk/nextjs/server`. Configured by `HALLPASS_*` environment variables (server/env.js).
//
// - `hallpassMiddleware((auth, req) => …)` for `proxy.ts` (Next.js 16; `middleware.ts` before):
//   authenticates every request it matches, answers the session-cookie handshake and serves its
//   files under `/__hallpass/` (the matcher must let `/__hallpass/(.*)` through), and runs the
//   handler, whose `auth.protect()` redirects signed-out page requests to the sign-in URL and
//   answers other refused requests 404, as Clerk's does.
// - `auth()` / `auth.protect()` in Server Components, Route Handlers and Server Actions: the request's
//   auth object, verified from the request's own `Authorization` header or `__session` cookie (never
//   from a header another layer set, which a client could forge); protect() redirects to the sign-in
//   URL on pages and calls `notFound()` elsewhere.
// - `currentUser()`: the signed-in user from the Backend API, once per request.
// - `hallpassClient()`: the Backend API client.
import { cache } from "react";
import { headers as nextHeaders } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { NextResponse } from "next/server";

import { createHallpassClient } from "../server/api.js";
import { withEnv } from "../server/env.js";
import { createHandshakeResponse, handshakeAssetResponse } from "../server/handshake.js";
import { authenticateRequest, signedOutAuthObject } from "../server/request.js";

export * from "../server.js";
export { createRouteMatcher } from "../server/routes.js";

/** The request header through which the middleware passes the page's URL on (for `redirect_url`). */
const URL_HEADER = "x-hallpass-url";
/** Request headers of ours, stripped from what clients send before the middleware sets its own. */
const OWN_HEADERS = [URL_HEADER, "x-hallpass-auth-status"];

const config = () => withEnv({});

/** True for a request that shows a page (a document, or an App Router navigation), not an API call. */
function isPageRequest(headers) {
  const dest = headers.get("sec-fetch-dest");
  if (dest === "document" || dest === "iframe") return true;
  if (headers.get("next-action") !== null) return false;
  return (headers.get("accept") ?? "").includes("text/html") || headers.get("rsc") !== null || headers.get("next-url") !== null;
}

/** The sign-in URL with `redirect_url` (as Clerk's), relative when the sign-in page is on this origin. */
function signInUrlFor(signInUrl, returnBackUrl) {
  const base = "http://relative.invalid";
  const target = new URL(signInUrl || "/sign-in", base);
  if (returnBackUrl) target.searchParams.set("redirect_url", returnBackUrl);
  return target.origin === base ? `${target.pathname}${target.search}` : target.href;
}

/** `returnBackUrl` as a path when it is on this origin, so the sign-in page can follow it safely. */
function relative(url, origin) {
  try {
    const u = new URL(url);
    return u.origin === origin ? `${u.pathname}${u.search}` : u.href;
  } catch {
    return url;
  }
}

/** The checks of protect()'s first argument, without its options. */
function checksOf(params) {
  if (params === undefined || params === null || typeof params === "function") return params ?? undefined;
  const checks = {};
  for (const key of ["role", "permission", "feature", "plan", "reverification"]) if (params[key] !== undefined) checks[key] = params[key];
  return Object.keys(checks).length > 0 ? checks : undefined;
}

/** Decides protect(): the auth object, or what to do about a refusal. */
function judge(authObject, args, pageRequest) {
  const checks = checksOf(args[0]);
  const options = { ...(typeof args[0] === "object" ? args[0] : {}), ...(args[1] ?? {}) };
  if (!authObject.userId) {
    if (options.unauthenticatedUrl) return { redirect: options.unauthenticatedUrl };
    return pageRequest ? { signIn: true } : { notFound: true };
  }
  const allowed = checks === undefined || (typeof checks === "function" ? checks(authObject.has) === true : authObject.has(checks));
  if (allowed) return { authObject };
  return options.unauthorizedUrl ? { redirect: options.unauthorizedUrl } : { notFound: true };
}

// ---------------------------------------------------------------------------------------------
// The middleware

/** A protect() or redirectToSignIn() decision inside the middleware's handler, caught around it. */
class ControlFlow {
  constructor(response) {
    this.response = response;
  }
}

/**
 * `proxy.ts`'s default export: `hallpassMiddleware()`, `hallpassMiddleware(handler)`,
 * `hallpassMiddleware(handler, options)` or `hallpassMiddleware(options)`; options (or a function of
 * the request returning them) over the environment.
 */
export function hallpassMiddleware(...args) {
  const handler = typeof args[0] === "function" ? args[0] : undefined;
  const optionsArg = handler ? args[1] : args[0];
  return async (request, event) => {
    const options = withEnv(typeof optionsArg === "function" ? await optionsArg(request) : (optionsArg ?? {}));
    const asset = await handshakeAssetResponse(request);
    if (asset !== null) return asset;
    const forwarded = new Headers(request.headers);
    for (const name of OWN_HEADERS) forwarded.delete(name);
    // Only whether it is a GET matters to authenticateRequest (page requests); the body stays unread.
    const method = request.method === "GET" || request.method === "HEAD" ? request.method : "POST";
    const clean = new Request(request.url, { method, headers: forwarded });
    const state = await authenticateRequest(clean, options);
    if (state.status === "handshake") return createHandshakeResponse(state, { storage: options.storage });
    const authObject = state.toAuth();
    const pageRequest = isPageRequest(request.headers);
    const returnBack = relative(request.url, new URL(request.url).origin);
    const toSignIn = (returnBackUrl = returnBack) =>
      new ControlFlow(NextResponse.redirect(new URL(signInUrlFor(options.signInUrl, returnBackUrl), request.url), 307));
    const redirectToSignIn = (opts = {}) => {
      throw toSignIn(opts.returnBackUrl === null ? "" : (opts.returnBackUrl ?? returnBack));
    };
    const auth = async () => Object.assign(authObject, { redirectToSignIn });
    auth.protect = async (...protectArgs) => {
      const verdict = judge(authObject, protectArgs, pageRequest);
      if (verdict.authObject) return verdict.authObject;
      if (verdict.signIn) throw toSignIn();
      if (verdict.redirect) throw new ControlFlow(NextResponse.redirect(new URL(verdict.redirect, request.url), 307));
      // Clerk's way to a 404 from a middleware: rewrite to a path no app has, which Next.js renders
      // with its not-found page and status.
      throw new ControlFlow(NextResponse.rewrite(new URL(`/__hallpass/not-found-${Date.now()}`, request.url)));
    };
    let result;
    try {
      result = handler ? await handler(auth, request, event) : undefined;
    } catch (error) {
      if (error instanceof ControlFlow) return error.response;
      throw error;
    }
    if (result instanceof Response) return result;
    forwarded.set(URL_HEADER, request.url);
    forwarded.set("x-hallpass-auth-status", state.status);
    return NextResponse.next({ request: { headers: forwarded } });
  };
}

// ---------------------------------------------------------------------------------------------
// Server Components, Route Handlers, Server Actions

/** The request as `next/headers` gives it. */
async function currentRequest() {
  const headers = await nextHeaders();
  const url = headers.get(URL_HEADER) ?? `http://${headers.get("host") ?? "localhost"}/`;
  return { headers, request: new Request(url, { headers }) };
}

/** The request's auth object, verified once per request (React's `cache`). */
const authObjectOfRequest = cache(async () => {
  const { headers, request } = await currentRequest();
  const options = config();
  const state = await authenticateRequest(request, options);
  // A handshake is the middleware's to answer; without one, an expired cookie is signed out here.
  const authObject = state.status === "handshake" ? signedOutAuthObject({ reason: state.reason }) : state.toAuth();
  return { authObject, headers, request, options };
});

/** The request's auth object, with `redirectToSignIn()`, as Clerk's `auth()`. */
export async function auth() {
  const { authObject, request, options } = await authObjectOfRequest();
  const returnBack = relative(request.url, new URL(request.url).origin);
  const redirectToSignIn = (opts = {}) =>
    redirect(signInUrlFor(options.signInUrl, opts.returnBackUrl === null ? "" : (opts.returnBackUrl ?? returnBack)));
  return Object.assign({}, authObject, { redirectToSignIn });
}

/**
 * The auth object when the user is signed in and passes the checks given (`{ role, permission,
 * feature }` or `has => boolean`); otherwise a redirect to the sign-in URL (signed-out page
 * requests), `notFound()` (other requests and failed checks), or `unauthenticatedUrl` /
 * `unauthorizedUrl` when given.
 */
auth.protect = async (...args) => {
  const { authObject, headers, request, options } = await authObjectOfRequest();
  const verdict = judge(authObject, args, isPageRequest(headers));
  if (verdict.authObject) return verdict.authObject;
  if (verdict.signIn) redirect(signInUrlFor(options.signInUrl, relative(request.url, new URL(request.url).origin)));
  if (verdict.redirect) redirect(verdict.redirect);
  notFound();
};

let client = null;

/** The Backend API client (from `HALLPASS_SECRET_KEY` and the instance's URL), as Clerk's `clerkClient()`. */
export async function hallpassClient() {
  client ??= createHallpassClient(config());
  return client;
}

/** The signed-in user from the Backend API (`null` when signed out), fetched once per request. */
export const currentUser = cache(async () => {
  const { authObject } = await authObjectOfRequest();
  if (!authObject.userId) return null;
  return (await hallpassClient()).users.getUser(authObject.userId);
});

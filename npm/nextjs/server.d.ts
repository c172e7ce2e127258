// `hallpass/nextjs/server`: the server side of a Next.js App Router app.
import type { NextFetchEvent, NextRequest } from "next/server";
import type {
  AuthObject,
  AuthenticateRequestOptions,
  CheckAuthorization,
  CheckAuthorizationParams,
  HallpassClient,
  SignedInAuthObject,
  User,
} from "../server.js";

export * from "../server.js";

/** A request predicate: true when its path matches one of the routes. */
export type RouteMatcher = (request: Request | NextRequest | string) => boolean;

/**
 * Clerk's `createRouteMatcher`: `/pricing` (that path), `/sign-in(.*)` (`(.*)` matches anything),
 * `/users/:id` (one segment), a `RegExp`, or a function of the request.
 */
export function createRouteMatcher(routes: string | RegExp | Array<string | RegExp> | ((request: Request) => boolean)): RouteMatcher;

export interface RedirectOptions {
  /** Where to come back after signing in (default: this page); `null` for nowhere. */
  returnBackUrl?: string | null;
}

export interface ProtectOptions {
  /** Where refused signed-in users are sent (default: 404). */
  unauthorizedUrl?: string;
  /** Where signed-out users are sent (default: the sign-in URL for pages, 404 otherwise). */
  unauthenticatedUrl?: string;
}

export interface AuthProtect {
  (params?: CheckAuthorizationParams & ProtectOptions, options?: ProtectOptions): Promise<SignedInAuthObject>;
  (condition: (has: CheckAuthorization) => boolean, options?: ProtectOptions): Promise<SignedInAuthObject>;
}

export type AuthWithRedirect = AuthObject & {
  /** Redirects to the sign-in URL (with `redirect_url`); never returns. */
  redirectToSignIn(options?: RedirectOptions): never;
};

/** The middleware handler's `auth`: call it for the auth object; `auth.protect()` guards the route. */
export type MiddlewareAuth = (() => Promise<AuthWithRedirect>) & { protect: AuthProtect };

export type HallpassMiddlewareHandler = (
  auth: MiddlewareAuth,
  request: NextRequest,
  event: NextFetchEvent,
) => void | Response | Promise<void | Response>;

export interface HallpassMiddlewareOptions extends AuthenticateRequestOptions {
  /** The storage the browser SDK uses, for the handshake page (default `"local"`). */
  storage?: "local" | "session" | "memory";
}

type OptionsOrFn = HallpassMiddlewareOptions | ((request: NextRequest) => HallpassMiddlewareOptions | Promise<HallpassMiddlewareOptions>);

export type NextMiddleware = (request: NextRequest, event: NextFetchEvent) => Promise<Response>;

/** The default export of `proxy.ts` (or `middleware.ts`). */
export function hallpassMiddleware(handler?: HallpassMiddlewareHandler, options?: OptionsOrFn): NextMiddleware;
export function hallpassMiddleware(options?: OptionsOrFn): NextMiddleware;

/** The request's auth object in Server Components, Route Handlers and Server Actions. */
export declare const auth: (() => Promise<AuthWithRedirect>) & {
  /** The auth object, or a redirect to sign in (pages) / `notFound()` (otherwise, and failed checks). */
  protect: AuthProtect;
};

/** The signed-in user from the Backend API (`null` when signed out), fetched once per request. */
export function currentUser(): Promise<User | null>;

/** The Backend API client, as Clerk's `clerkClient()`. */
export function hallpassClient(): Promise<HallpassClient>;

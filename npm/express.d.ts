// `hallpass/express`: Hallpass for Express apps (and any node:http middleware stack).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthObject, AuthenticateRequestOptions, CheckAuthorizationParams, HallpassClient } from "./server.js";

export * from "./server.js";

/** `req.auth`: the auth object, also callable (`req.auth()`), as Clerk's Express SDK has it. */
export type RequestAuth = AuthObject & (() => AuthObject);

declare global {
  namespace Express {
    interface Request {
      /** Set by `hallpassMiddleware()`. */
      auth: RequestAuth;
    }
  }
}

/** A node:http middleware, which Express's `app.use` and routes take. */
export type HallpassMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface HallpassMiddlewareOptions extends AuthenticateRequestOptions {
  /** `sk_…` (default: `HALLPASS_SECRET_KEY`). */
  secretKey?: string;
  /** The storage the browser SDK uses, for the handshake page (default `"local"`). */
  storage?: "local" | "session" | "memory";
}

/**
 * Authenticates every request and sets `req.auth`; answers the session-cookie handshake and serves
 * its files under `/__hallpass/`. Options over the environment's `HALLPASS_*` variables.
 */
export function hallpassMiddleware(options?: HallpassMiddlewareOptions): HallpassMiddleware;

/** The auth object of a request that went through `hallpassMiddleware()` (throws otherwise). */
export function getAuth(req: IncomingMessage): AuthObject;

export interface ProtectOptions extends CheckAuthorizationParams {
  /** Where signed-out page requests are sent (default: the middleware's `signInUrl`); others get 401. */
  signInUrl?: string;
  /** Where signed-in requests that fail the checks are sent; without it they get 404. */
  unauthorizedUrl?: string;
  /** A check of your own, given `has`. */
  condition?: (has: (params: CheckAuthorizationParams) => boolean) => boolean;
}

/** Lets signed-in requests through: signed-out page requests go to the sign-in URL, others get 401. */
export function requireAuth(options?: Pick<ProtectOptions, "signInUrl">): HallpassMiddleware;

/** Lets through signed-in requests that pass every check given; the others get 401 / 404 (see options). */
export function protect(options?: ProtectOptions): HallpassMiddleware;

/** The Backend API client configured from the environment (`HALLPASS_SECRET_KEY`, `HALLPASS_PUBLISHABLE_KEY`, …). */
export declare const hallpassClient: HallpassClient;

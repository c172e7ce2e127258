// The errors of `hallpass/server`: why a token was refused (`TokenVerificationError` and its stable
// `reason`s, named as Clerk names them where Clerk has the same reason), why a Backend API call
// failed (`HallpassAPIResponseError`, with the server's error codes), and why a webhook was refused.

/** Why `verifyToken` refused a token. Stable: apps and logs match on them. */
export const TokenVerificationErrorReason = Object.freeze({
  TokenExpired: "token-expired",
  TokenNotActiveYet: "token-not-active-yet",
  TokenIatInTheFuture: "token-iat-in-the-future",
  TokenInvalid: "token-invalid",
  TokenInvalidAlgorithm: "token-invalid-algorithm",
  TokenInvalidSignature: "token-invalid-signature",
  TokenInvalidIssuer: "token-invalid-issuer",
  TokenInvalidAuthorizedParties: "token-invalid-authorized-parties",
  TokenTypeMismatch: "token-type-mismatch",
  JWKKidMismatch: "jwk-kid-mismatch",
  JWKFailedToResolve: "jwk-failed-to-resolve",
  LocalJWKInvalid: "jwk-local-invalid",
  RemoteJWKFailedToLoad: "jwk-remote-failed-to-load",
  RemoteJWKInvalid: "jwk-remote-invalid",
});

/** A token `verifyToken` refused; `reason` says why (`TokenVerificationErrorReason`). */
export class TokenVerificationError extends Error {
  constructor({ reason, message, action }) {
    super(message);
    this.name = "TokenVerificationError";
    this.reason = reason;
    this.action = action;
    /** Where the token came from (`authenticateRequest` sets it): `"header"` or `"cookie"`. */
    this.tokenCarrier = undefined;
  }

  getFullMessage() {
    return `${[this.message, this.action].filter(Boolean).join(" ")} (reason=${this.reason}, token-carrier=${this.tokenCarrier})`;
  }
}

/**
 * A Backend API call that failed: the HTTP `status`, the server's `errors` (`code`, `message`,
 * `longMessage`, `meta`; codes as in the server's README), and `retryAfter` (seconds) on 429/503.
 * A failure to reach the server at all has `status` 0 and one error with code `network_error` or
 * `request_timeout`.
 */
export class HallpassAPIResponseError extends Error {
  constructor(message, { status, errors, retryAfter }) {
    super(message);
    this.name = "HallpassAPIResponseError";
    this.status = status;
    this.errors = errors;
    this.retryAfter = retryAfter;
  }
}

/** True when `value` is a `HallpassAPIResponseError`. */
export function isHallpassAPIResponseError(value) {
  return value instanceof HallpassAPIResponseError;
}

/** A webhook `verifyWebhook` refused (bad or missing signature, stale timestamp, bad body). */
export class WebhookVerificationError extends Error {
  constructor(message) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

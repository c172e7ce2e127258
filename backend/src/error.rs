//! The crate's one error type. Every variant has a stable [`Error::code`]; the token refusals use the
//! same words as `hallpass/server`'s `TokenVerificationError.reason` (Clerk's), so logs of a Rust and
//! a JavaScript backend read alike.

use hallpass_protocol::ApiError;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token's `exp` (plus the allowed skew) has passed.
    #[error("the session token has expired")]
    TokenExpired,
    /// The token's `nbf` (minus the allowed skew) is still ahead.
    #[error("the session token is not valid yet")]
    TokenNotActiveYet,
    /// The token's `iat` is ahead of this clock by more than the allowed skew.
    #[error("the session token was issued in the future")]
    TokenIatInTheFuture,
    /// Not a JWT, or claims missing or of the wrong type.
    #[error("the session token is malformed: {0}")]
    TokenInvalid(String),
    /// Not RS256 (the header's `alg` is never trusted).
    #[error("the session token is not signed with RS256")]
    TokenInvalidAlgorithm,
    /// The signature does not match the key of its `kid`.
    #[error("the session token's signature is not valid")]
    TokenInvalidSignature,
    /// Issued by another server.
    #[error("the session token was issued by {0}, not by this instance")]
    TokenInvalidIssuer(String),
    /// Made for an origin that is not an authorized party.
    #[error("the session token was made for {0}, which is not an authorized party")]
    TokenInvalidAuthorizedParty(String),
    /// Signed by the instance key but not a session token (a JWT template's token has no `v: 2`).
    #[error("not a session token (no `v: 2`): a JWT template's token is never accepted as one")]
    TokenTypeMismatch,
    /// No key of the JWKS has the token's `kid`.
    #[error("no key in the JWKS matches the token's kid `{0}`")]
    KidMismatch(String),
    /// The JWKS could not be fetched (and no cached key could stand in).
    #[error("could not load the JWKS: {0}")]
    JwksUnavailable(String),
    /// A key given as configuration, or an option, that cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The Backend API answered with an error.
    #[error("the Backend API answered {status}: {}", .errors.first().map(|e| e.message.as_str()).unwrap_or(""))]
    Api {
        status: u16,
        /// The server's errors, with their codes (`resource_not_found`, …).
        errors: Vec<ApiError>,
        /// Seconds, from `Retry-After`.
        retry_after: Option<u64>,
    },
    /// The server could not be reached, or its answer could not be read.
    #[error("network error: {0}")]
    Network(String),
    /// No answer within the deadline.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// A webhook delivery that does not verify.
    #[error("webhook refused: {0}")]
    WebhookInvalid(String),
}

impl Error {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TokenExpired => "token-expired",
            Error::TokenNotActiveYet => "token-not-active-yet",
            Error::TokenIatInTheFuture => "token-iat-in-the-future",
            Error::TokenInvalid(_) => "token-invalid",
            Error::TokenInvalidAlgorithm => "token-invalid-algorithm",
            Error::TokenInvalidSignature => "token-invalid-signature",
            Error::TokenInvalidIssuer(_) => "token-invalid-issuer",
            Error::TokenInvalidAuthorizedParty(_) => "token-invalid-authorized-parties",
            Error::TokenTypeMismatch => "token-type-mismatch",
            Error::KidMismatch(_) => "jwk-kid-mismatch",
            Error::JwksUnavailable(_) => "jwk-remote-failed-to-load",
            Error::Config(_) => "invalid-configuration",
            Error::Api { .. } => "api-error",
            Error::Network(_) => "network-error",
            Error::Timeout(_) => "request-timeout",
            Error::WebhookInvalid(_) => "webhook-invalid",
        }
    }

    /// True for the refusals of a token (as opposed to failures to check one).
    pub fn is_token_refusal(&self) -> bool {
        !matches!(
            self,
            Error::JwksUnavailable(_)
                | Error::Config(_)
                | Error::Api { .. }
                | Error::Network(_)
                | Error::Timeout(_)
                | Error::WebhookInvalid(_)
        )
    }

    /// The server's first error code, for an [`Error::Api`].
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { errors, .. } => errors.first().map(|e| e.code.as_str()),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

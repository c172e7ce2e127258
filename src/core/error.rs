//! The SDK's one error type, [`Error`], and the classifier that turns an HTTP answer into one.
//!
//! Every failure the SDK reports is an `Error { code, message, status, retry_after }` with a stable
//! machine-readable [`ErrorCode`] from `hallpass-protocol`, so JavaScript and Rust callers can match on
//! it. Messages are `&'static str` wherever possible: formatting machinery costs kilobytes in the wasm,
//! and no message ever contains a token, password or key.
//!
//! # Which answers sign the user out
//!
//! Signing out is irreversible (the refresh token is thrown away), while keeping a session that is in
//! fact over costs at most one more failed request. So [`classify`] only produces an error for which
//! [`Error::ends_session`] is true when the server said so explicitly: a 4xx status *and* one of the
//! authoritative codes of [`ErrorCode::ends_session`] (`session_revoked`, `session_ended`,
//! `session_expired`, `refresh_token_invalid`, `refresh_token_reused`). In particular:
//!
//! - network errors, 5xx and 429 keep the session (they are retried with backoff);
//! - a 401 with an absent or unknown code — on the refresh endpoint as anywhere else — becomes
//!   `authentication_invalid` and keeps the session. Our server always names the code when a refresh
//!   token is bad; a bare 401 comes from a proxy, a captive portal or a misconfiguration, and the
//!   circuit breaker (see `backoff`) stops the retries;
//! - a 5xx whose body carries an authoritative code still keeps the session: a server that is failing
//!   is not trusted to be authoritative.

use std::borrow::Cow;

use hallpass_protocol::{ErrorBody, ErrorCode};

/// A failed SDK operation.
///
/// ```
/// use hallpass::core::error::Error;
/// use hallpass_protocol::ErrorCode;
///
/// let e = Error::network();
/// assert!(e.is_network() && e.is_retryable() && !e.ends_session());
/// assert_eq!(e.code, ErrorCode::NetworkError);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The stable, machine-readable code.
    pub code: ErrorCode,
    /// A short message for people. Never contains a secret.
    pub message: Cow<'static, str>,
    /// The HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The server's `Retry-After`, in seconds: no retry happens before it has passed.
    pub retry_after: Option<u32>,
}

impl Error {
    /// An error with a static message.
    pub const fn new(code: ErrorCode, message: &'static str) -> Self {
        Error { code, message: Cow::Borrowed(message), status: None, retry_after: None }
    }

    /// An error with a message that came from elsewhere (e.g. the server's error body).
    pub fn with_message(code: ErrorCode, message: String) -> Self {
        Error { code, message: Cow::Owned(message), status: None, retry_after: None }
    }

    /// Sets the HTTP status.
    pub const fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets `Retry-After` (seconds).
    pub const fn with_retry_after(mut self, seconds: Option<u32>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// The request did not reach the server or no answer came back.
    pub const fn network() -> Self {
        Error::new(ErrorCode::NetworkError, "the request did not reach the server")
    }

    /// No answer within the request timeout.
    pub const fn timeout() -> Self {
        Error::new(ErrorCode::RequestTimeout, "the server did not answer in time")
    }

    /// The browser is offline; the SDK fails fast and resumes on `online`.
    pub const fn offline() -> Self {
        Error::new(ErrorCode::Offline, "the browser is offline")
    }

    /// The server's answer could not be understood.
    pub const fn invalid_response() -> Self {
        Error::new(ErrorCode::InvalidResponse, "the server's answer could not be understood")
    }

    /// The operation needs a signed-in session.
    pub const fn not_signed_in() -> Self {
        Error::new(ErrorCode::NotSignedIn, "no user is signed in")
    }

    /// The user signed out while the request was in flight; its result was dropped.
    pub const fn signed_out_during_request() -> Self {
        Error::new(ErrorCode::SignedOutDuringRequest, "signed out while the request was in flight")
    }

    /// The options passed to the SDK are invalid.
    pub const fn invalid_options(message: &'static str) -> Self {
        Error::new(ErrorCode::InvalidOptions, message)
    }

    /// Network failure, timeout or offline: the server never answered.
    pub fn is_network(&self) -> bool {
        matches!(self.code, ErrorCode::NetworkError | ErrorCode::RequestTimeout | ErrorCode::Offline)
    }

    /// The browser is offline.
    pub fn is_offline(&self) -> bool {
        self.code == ErrorCode::Offline
    }

    /// The server has said, authoritatively, that the session is over: the SDK signs the user out.
    pub fn ends_session(&self) -> bool {
        self.code.ends_session()
    }

    /// 429 / `rate_limited`.
    pub fn is_rate_limited(&self) -> bool {
        self.code == ErrorCode::RateLimited
    }

    /// The server failed (5xx).
    pub fn is_server(&self) -> bool {
        matches!(self.status, Some(500..=599))
    }

    /// The result was dropped because the user signed out meanwhile.
    pub fn is_signed_out_during_request(&self) -> bool {
        self.code == ErrorCode::SignedOutDuringRequest
    }

    /// Worth an automatic retry with backoff: the server never answered (but the browser is not known
    /// to be offline — then the SDK waits for `online` instead), failed, throttled us, answered
    /// something unreadable, or gave a 401 that is not authoritative.
    pub fn is_retryable(&self) -> bool {
        match self.code {
            ErrorCode::NetworkError
            | ErrorCode::RequestTimeout
            | ErrorCode::RateLimited
            | ErrorCode::InternalError
            | ErrorCode::InvalidResponse
            | ErrorCode::AuthenticationInvalid => true,
            _ => self.is_server() || self.status == Some(408),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `write_str` only: no argument formatting machinery on this path.
        f.write_str(self.code.as_str())?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Turns an HTTP error answer into an [`Error`].
///
/// `status` is the HTTP status (callers pass non-2xx answers), `body` the parsed error body if the
/// answer had one that parsed, `retry_after` the raw `Retry-After` header. See the module doc for the
/// rules; in short, only a 4xx with an authoritative code ends the session.
pub fn classify(status: u16, body: Option<&ErrorBody>, retry_after: Option<&str>) -> Error {
    let first = body.and_then(|b| b.errors.first());
    let parsed = first.and_then(|e| ErrorCode::parse(&e.code));
    let code = match (status, parsed) {
        (429, _) => ErrorCode::RateLimited,
        (500..=599, Some(code)) if !code.ends_session() => code,
        (500..=599, _) => ErrorCode::InternalError,
        (400..=499, Some(code)) => code,
        (401, None) => ErrorCode::AuthenticationInvalid,
        // Origin problems and bad keys come as 403 with a code; a bare 403 is like a bare 401.
        (403, None) => ErrorCode::AuthenticationInvalid,
        (404, None) => ErrorCode::ResourceNotFound,
        (405, None) => ErrorCode::MethodNotAllowed,
        (413, None) => ErrorCode::RequestBodyTooLarge,
        (415, None) => ErrorCode::UnsupportedMediaType,
        (400..=499, None) => ErrorCode::RequestBodyInvalid,
        // 1xx/2xx/3xx passed as an error: the answer is not one we understand.
        _ => ErrorCode::InvalidResponse,
    };
    let message = match first {
        Some(e) if !e.message.is_empty() && parsed == Some(code) => Cow::Owned(e.message.clone()),
        _ => Cow::Borrowed(default_message(code)),
    };
    Error { code, message, status: Some(status), retry_after: retry_after.and_then(parse_retry_after) }
}

/// A message for an answer whose body did not explain itself.
fn default_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::RateLimited => "too many requests; try again later",
        ErrorCode::InternalError => "the server failed to answer",
        ErrorCode::AuthenticationInvalid => "the server did not accept the credentials",
        ErrorCode::ResourceNotFound => "not found",
        ErrorCode::MethodNotAllowed => "method not allowed",
        ErrorCode::RequestBodyTooLarge => "the request is too large",
        ErrorCode::UnsupportedMediaType => "unsupported media type",
        ErrorCode::RequestBodyInvalid => "the server rejected the request",
        ErrorCode::SessionRevoked => "the session was revoked",
        ErrorCode::SessionEnded => "the session has ended",
        ErrorCode::SessionExpired => "the session has expired",
        ErrorCode::RefreshTokenInvalid => "the refresh token is invalid",
        ErrorCode::RefreshTokenReused => "the refresh token was reused; the session was revoked",
        _ => "the server's answer could not be understood",
    }
}

/// Parses `Retry-After` in its delta-seconds form (`"30"`), saturating at `u32::MAX`.
///
/// The HTTP-date form is not understood (`None`): our server sends seconds, and the regular backoff
/// still spaces retries out when a proxy sends a date.
pub fn parse_retry_after(value: &str) -> Option<u32> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u32 = 0;
    for b in digits.bytes() {
        n = n.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use hallpass_protocol::ApiError;

    use super::*;

    fn body(code: &str, message: &str) -> ErrorBody {
        ErrorBody {
            errors: vec![ApiError { code: code.into(), message: message.into(), ..Default::default() }],
        }
    }

    #[test]
    fn authoritative_codes_on_4xx_end_the_session() {
        for code in ErrorCode::ALL.iter().filter(|c| c.ends_session()) {
            for status in [400, 401, 403] {
                let e = classify(status, Some(&body(code.as_str(), "server says")), None);
                assert_eq!(e.code, *code);
                assert!(e.ends_session(), "{code} on {status}");
                assert_eq!(e.status, Some(status));
                assert_eq!(e.message, "server says");
            }
        }
    }

    #[test]
    fn bare_or_unknown_401_keeps_the_session() {
        for b in [None, Some(body("some_future_code", "x")), Some(ErrorBody::default())] {
            let e = classify(401, b.as_ref(), None);
            assert_eq!(e.code, ErrorCode::AuthenticationInvalid);
            assert!(!e.ends_session());
            assert!(e.is_retryable());
        }
        let e = classify(401, Some(&body("authentication_invalid", "expired")), None);
        assert!(!e.ends_session());
    }

    #[test]
    fn server_errors_and_throttling_keep_the_session() {
        let e = classify(503, Some(&body("session_revoked", "lies")), Some("7"));
        assert_eq!(e.code, ErrorCode::InternalError);
        assert!(!e.ends_session() && e.is_server() && e.is_retryable());
        assert_eq!(e.retry_after, Some(7));
        assert_eq!(e.message, "the server failed to answer");

        let e = classify(502, None, None);
        assert_eq!((e.code, e.status), (ErrorCode::InternalError, Some(502)));

        let e = classify(429, None, Some(" 30 "));
        assert!(e.is_rate_limited() && !e.ends_session() && e.is_retryable());
        assert_eq!(e.retry_after, Some(30));
        // A 429 is rate limiting whatever its body says.
        let e = classify(429, Some(&body("session_ended", "x")), None);
        assert!(e.is_rate_limited() && !e.ends_session());
    }

    #[test]
    fn status_fallbacks_for_codeless_answers() {
        let cases = [
            (404, ErrorCode::ResourceNotFound),
            (405, ErrorCode::MethodNotAllowed),
            (413, ErrorCode::RequestBodyTooLarge),
            (415, ErrorCode::UnsupportedMediaType),
            (422, ErrorCode::RequestBodyInvalid),
            (403, ErrorCode::AuthenticationInvalid),
            (302, ErrorCode::InvalidResponse),
            (200, ErrorCode::InvalidResponse),
        ];
        for (status, code) in cases {
            assert_eq!(classify(status, None, None).code, code, "{status}");
        }
        assert_eq!(
            classify(422, Some(&body("form_password_incorrect", "")), None).code,
            ErrorCode::FormPasswordIncorrect
        );
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after("0"), Some(0));
        assert_eq!(parse_retry_after("120"), Some(120));
        assert_eq!(parse_retry_after("99999999999999999999"), Some(u32::MAX));
        for bad in ["", " ", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "1e3", "+5"] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn checks_and_display() {
        assert!(Error::offline().is_network() && Error::offline().is_offline());
        let timeout = Error::timeout();
        assert!(timeout.is_network() && timeout.is_retryable() && !timeout.ends_session());
        assert!(!Error::offline().is_retryable(), "offline waits for `online` instead");
        assert!(Error::signed_out_during_request().is_signed_out_during_request());
        assert!(!Error::not_signed_in().is_retryable());
        assert!(Error::new(ErrorCode::FormParamMissing, "x").with_status(408).is_retryable());
        assert_eq!(Error::not_signed_in().to_string(), "not_signed_in: no user is signed in");
        let boxed: Box<dyn std::error::Error> = Box::new(Error::network());
        assert!(boxed.to_string().starts_with("network_error"));
    }
}

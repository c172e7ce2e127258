//! The SDK's one error type, [`Error`], and the classifier that turns an HTTP answer into one.
//!
//! Every failure the SDK reports is an `Error { code, message, status, retry_after }` with a stable
//! machine-readable [`Code`]: one of the protocol's [`ErrorCode`]s, or the server's own code as it
//! came, so JavaScript and Rust callers can match on it. Messages are `&'static str` wherever
//! possible: formatting machinery costs kilobytes in the wasm, and no message ever contains a token,
//! password or key.
//!
//! # Codes as strings
//!
//! The SDK hands the server's code on as the string it came as, and names only the codes it acts on
//! itself (the five that end a session, the fallbacks below, its own): the protocol's table of every
//! code, which the server needs, is never linked into the wasm (~40 server-only codes' texts and
//! the table that maps them). A code this SDK is older than reaches the app unchanged.
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
//! - a bare 401 (or 403) becomes `authentication_invalid`, and a 401 with any other code keeps its
//!   code; both keep the session and are retried — on the refresh endpoint as anywhere else. Our
//!   server always names the code when a refresh token is bad; a bare 401 comes from a proxy, a
//!   captive portal or a misconfiguration, and the circuit breaker (see `backoff`) stops the
//!   retries;
//! - a 5xx whose body carries an authoritative code still keeps the session: a server that is failing
//!   is not trusted to be authoritative.

use std::borrow::Cow;

use hallpass_protocol::{ApiError, ErrorBody, ErrorCode};

/// An error's code: one of [`ErrorCode`]'s, or a code of the server's this SDK does not name (see
/// the module doc). Compares with an [`ErrorCode`] (`error.code == ErrorCode::RateLimited`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code(Cow<'static, str>);

impl Code {
    /// The code as it is on the wire and in JavaScript (`e.code`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as an [`ErrorCode`], if it is one this version knows. (Scans the protocol's table
    /// of every code, so the npm build never calls it.)
    pub fn known(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.0)
    }

    /// The code's text, owned or not.
    pub fn into_inner(self) -> Cow<'static, str> {
        self.0
    }
}

impl From<ErrorCode> for Code {
    #[inline(always)]
    fn from(code: ErrorCode) -> Self {
        Code(Cow::Borrowed(code.as_str()))
    }
}

/// A code as it came from outside (a `HallpassError` thrown by hallpass/flows), kept as it is.
impl From<String> for Code {
    fn from(code: String) -> Self {
        Code(Cow::Owned(code))
    }
}

impl PartialEq<ErrorCode> for Code {
    #[inline(always)]
    fn eq(&self, other: &ErrorCode) -> bool {
        *self.0 == *other.as_str()
    }
}

impl PartialEq<Code> for ErrorCode {
    #[inline(always)]
    fn eq(&self, other: &Code) -> bool {
        other == self
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A failed SDK operation.
///
/// ```
/// use hallpass::core::error::Error;
/// use hallpass_protocol::ErrorCode;
///
/// let e = Error::network();
/// assert!(e.is_network() && e.is_retryable() && !e.ends_session());
/// assert_eq!(e.code, ErrorCode::NetworkError);
/// assert_eq!(e.code.as_str(), "network_error");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The stable, machine-readable code.
    pub code: Code,
    /// A short message for people. Never contains a secret.
    pub message: Cow<'static, str>,
    /// The HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The server's `Retry-After`, in seconds: no retry happens before it has passed.
    pub retry_after: Option<u32>,
}

impl Error {
    /// An error with a static message. Always inlined, as every constructor that takes an
    /// [`ErrorCode`]: a call with a constant code is that code's text alone (see the module doc).
    #[inline(always)]
    pub const fn new(code: ErrorCode, message: &'static str) -> Self {
        let code = Code(Cow::Borrowed(code.as_str()));
        Error { code, message: Cow::Borrowed(message), status: None, retry_after: None }
    }

    /// An error with a message that came from elsewhere (e.g. the server's error body).
    #[inline(always)]
    pub fn with_message(code: impl Into<Code>, message: String) -> Self {
        Error { code: code.into(), message: Cow::Owned(message), status: None, retry_after: None }
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
        self.code == ErrorCode::NetworkError || self.code == ErrorCode::RequestTimeout || self.is_offline()
    }

    /// The browser is offline.
    pub fn is_offline(&self) -> bool {
        self.code == ErrorCode::Offline
    }

    /// The server has said, authoritatively, that the session is over: the SDK signs the user out.
    pub fn ends_session(&self) -> bool {
        self.ending().is_some()
    }

    /// The code, when it is one that ends the session.
    pub fn ending(&self) -> Option<ErrorCode> {
        ErrorCode::ending(self.code.as_str())
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
    /// something unreadable, or gave a 401 (or a bare 403) that is not authoritative.
    pub fn is_retryable(&self) -> bool {
        let code = &self.code;
        *code == ErrorCode::NetworkError
            || *code == ErrorCode::RequestTimeout
            || *code == ErrorCode::RateLimited
            || *code == ErrorCode::InternalError
            || *code == ErrorCode::InvalidResponse
            || *code == ErrorCode::AuthenticationInvalid
            || self.is_server()
            || self.status == Some(408)
            || (self.status == Some(401) && !self.ends_session())
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
/// rules; in short, only a 4xx with an authoritative code ends the session, and a code the server
/// names is kept as it came (a 5xx's unless it would end the session).
pub fn classify(status: u16, body: Option<&ErrorBody>, retry_after: Option<&str>) -> Error {
    let first = body.and_then(|b| b.errors.first()).filter(|e| !e.code.is_empty());
    let ends = first.is_some_and(|e| ErrorCode::ending(&e.code).is_some());
    let mut error = match (status, first) {
        (429, _) => Error::new(ErrorCode::RateLimited, "too many requests; try again later"),
        (500..=599, Some(e)) if !ends => server_error(e),
        (500..=599, _) => Error::new(ErrorCode::InternalError, "the server failed to answer"),
        (400..=499, Some(e)) => server_error(e),
        // Origin problems and bad keys come as 403 with a code; a bare 403 is like a bare 401.
        (401 | 403, None) => {
            Error::new(ErrorCode::AuthenticationInvalid, "the server did not accept the credentials")
        }
        (404, None) => Error::new(ErrorCode::ResourceNotFound, "not found"),
        (405, None) => Error::new(ErrorCode::MethodNotAllowed, "method not allowed"),
        (413, None) => Error::new(ErrorCode::RequestBodyTooLarge, "the request is too large"),
        (415, None) => Error::new(ErrorCode::UnsupportedMediaType, "unsupported media type"),
        (400..=499, None) => Error::new(ErrorCode::RequestBodyInvalid, "the server rejected the request"),
        // 1xx/2xx/3xx passed as an error: the answer is not one we understand.
        _ => Error::invalid_response(),
    };
    error.status = Some(status);
    error.retry_after = retry_after.and_then(parse_retry_after);
    error
}

/// The server's error as it said it: its code, and its message (or, without one, a short one).
fn server_error(e: &ApiError) -> Error {
    let message = if e.message.is_empty() {
        Cow::Borrowed(match ErrorCode::ending(&e.code) {
            Some(_) => "the session has ended",
            None => "the server rejected the request",
        })
    } else {
        Cow::Owned(e.message.clone())
    };
    Error { code: Code(Cow::Owned(e.code.clone())), message, status: None, retry_after: None }
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
        for b in [None, Some(body("", "x")), Some(ErrorBody::default())] {
            let e = classify(401, b.as_ref(), None);
            assert_eq!(e.code, ErrorCode::AuthenticationInvalid);
            assert!(!e.ends_session());
            assert!(e.is_retryable());
        }
        // A code newer than this SDK: kept as it came, the session too, and retried like any 401.
        let e = classify(401, Some(&body("some_future_code", "x")), None);
        assert_eq!((e.code.as_str(), e.code.known()), ("some_future_code", None));
        assert!(!e.ends_session() && e.is_retryable());
        let e = classify(401, Some(&body("authentication_invalid", "expired")), None);
        assert!(!e.ends_session());
        assert_eq!(e.code.known(), Some(ErrorCode::AuthenticationInvalid));
    }

    #[test]
    fn the_servers_codes_pass_as_they_came() {
        let e = classify(422, Some(&body("form_password_incorrect", "wrong")), None);
        assert_eq!(e.code, ErrorCode::FormPasswordIncorrect);
        assert_eq!((e.message.as_ref(), e.status), ("wrong", Some(422)));
        assert!(!e.is_retryable() && !e.ends_session());
        let e = classify(403, Some(&body("organization_permission_missing", "")), None);
        assert_eq!(e.code.as_str(), "organization_permission_missing");
        assert_eq!(e.message, "the server rejected the request");
        assert!(!e.is_retryable(), "a 403 with a code is the server's answer");
        let e = classify(401, Some(&body("session_expired", "")), None);
        assert_eq!(
            (e.ending(), e.message.as_ref()),
            (Some(ErrorCode::SessionExpired), "the session has ended")
        );
        let e = classify(503, Some(&body("server_busy", "busy")), Some("2"));
        assert_eq!((e.code.known(), e.retry_after), (Some(ErrorCode::ServerBusy), Some(2)));
        assert!(e.is_retryable() && !e.ends_session());
    }

    #[test]
    fn server_errors_and_throttling_keep_the_session() {
        let e = classify(503, Some(&body("session_revoked", "lies")), Some("7"));
        assert_eq!(e.code, ErrorCode::InternalError);
        assert!(!e.ends_session() && e.is_server() && e.is_retryable());
        assert_eq!(e.retry_after, Some(7));
        assert_eq!(e.message, "the server failed to answer");

        let e = classify(502, None, None);
        assert_eq!((e.code, e.status), (ErrorCode::InternalError.into(), Some(502)));

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

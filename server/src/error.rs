//! The one error type of the HTTP layer: an HTTP status plus a stable [`ErrorCode`], rendered as
//! `{"errors":[{"code","message","long_message","meta"}]}`.
//!
//! Internal failures (database, RNG, crypto) are logged with their cause and reach the client only as
//! `internal_error` with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallpass_protocol::{ApiError as WireError, ErrorBody, ErrorCode, Metadata};
use serde_json::Value;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub long_message: String,
    pub meta: Metadata,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status,
            code,
            long_message: message.clone(),
            message,
            meta: Metadata::new(),
            retry_after: None,
        }
    }

    pub fn with_long_message(mut self, long: impl Into<String>) -> Self {
        self.long_message = long.into();
        self
    }

    pub fn with_meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.meta.insert(key.to_owned(), value.into());
        self
    }

    /// `param_name` in `meta`, as Clerk reports which form field is wrong.
    pub fn param(self, name: &str) -> Self {
        self.with_meta("param_name", name)
    }

    /// Logs `cause` and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError, "Something went wrong")
            .with_long_message("The server hit an unexpected error; details are in its log.")
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let secs = retry_after_secs.max(1);
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, "Too many requests")
            .with_long_message(format!("Too many requests. Try again in {secs} seconds."))
            .with_meta("retry_after", secs);
        e.retry_after = Some(secs);
        e
    }

    /// 503 `server_busy`: a bounded resource (password hashing) is full; nothing was done.
    pub fn busy(retry_after_secs: u64) -> Self {
        let secs = retry_after_secs.max(1);
        let mut e =
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServerBusy, "The server is busy")
                .with_long_message(format!("The server is at capacity. Try again in {secs} seconds."))
                .with_meta("retry_after", secs);
        e.retry_after = Some(secs);
        e
    }

    /// 408 `request_timeout`.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::AuthenticationInvalid, message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::ResourceNotFound, format!("{what} not found"))
    }

    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            errors: vec![WireError {
                code: self.code.as_str().to_owned(),
                message: self.message.clone(),
                long_message: self.long_message.clone(),
                meta: self.meta.clone(),
            }],
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

/// A profile update's `primary_email_address_id` (Frontend and Backend API alike).
impl From<crate::store::PrimaryRefused> for ApiError {
    fn from(e: crate::store::PrimaryRefused) -> Self {
        let error = match e {
            crate::store::PrimaryRefused::NotFound => ApiError::not_found("Email address"),
            crate::store::PrimaryRefused::NotVerified => ApiError::unprocessable(
                ErrorCode::EmailAddressNotVerified,
                "Only a verified email address can be made primary: verify it first",
            ),
        };
        error.param("primary_email_address_id")
    }
}

impl From<getrandom::Error> for ApiError {
    fn from(e: getrandom::Error) -> Self {
        ApiError::internal(format!("OS random number generator failed: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

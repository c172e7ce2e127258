//! Request extractors that fail with our error shape: JSON and raw bodies, the client address, Bearer
//! tokens.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use hallpass_protocol::ErrorCode;
use serde::de::DeserializeOwned;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;
use crate::user_agent::Device;

/// `Json<T>` whose rejections are [`ApiError`]s with precise codes.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A raw body (an uploaded image), read whole within the route's `DefaultBodyLimit` and the body-read
/// deadline: 413 `request_body_too_large` past the limit, 408 `request_timeout` when it trickles.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) if caused_by_timeout(&e) => {
                Err(ApiError::request_timeout("The request body did not arrive in time"))
            }
            Err(e) => Err(ApiError::bad_request(
                ErrorCode::RequestBodyInvalid,
                format!("Unreadable request body ({})", e.status()),
            )),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Expected `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request(ErrorCode::RequestBodyInvalid, "The request body is not valid JSON")
        }
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            if let Some(field) = backticked_after(&text, "unknown field `") {
                ApiError::unprocessable(
                    ErrorCode::FormParamUnknown,
                    format!("`{field}` is not a valid parameter"),
                )
                .param(&field)
            } else if let Some(field) = backticked_after(&text, "missing field `") {
                ApiError::unprocessable(ErrorCode::FormParamMissing, format!("`{field}` is missing"))
                    .param(&field)
            } else if let Some(field) = error_path(&text)
                && text.contains("unknown variant `")
            {
                // The right type (a string) but not one of the accepted values, e.g. an algorithm.
                ApiError::unprocessable(
                    ErrorCode::FormParamValueInvalid,
                    format!("`{field}` is not one of the accepted values"),
                )
                .param(&field)
            } else {
                let e = ApiError::bad_request(
                    ErrorCode::RequestBodyInvalid,
                    "The request body does not have the expected shape",
                );
                match error_path(&text) {
                    Some(field) => {
                        e.with_long_message(format!("`{field}` has the wrong type.")).param(&field)
                    }
                    None => e,
                }
            }
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        JsonRejection::BytesRejection(e) if caused_by_timeout(&e) => {
            ApiError::request_timeout("The request body did not arrive in time")
        }
        other => ApiError::bad_request(
            ErrorCode::RequestBodyInvalid,
            format!("Unreadable request body ({})", other.status()),
        ),
    }
}

/// True when reading the body failed because its deadline passed (`--body-read-timeout-secs`).
fn caused_by_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    for _ in 0..16 {
        let Some(c) = cause else { return false };
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// 413 `request_body_too_large`.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestBodyTooLarge,
        "The request body is too large",
    )
}

/// The name in `` `name` `` following `marker` in serde's message. Field names are ours or short
/// client strings; cap them so an attacker cannot echo a huge key back.
fn backticked_after(text: &str, marker: &str) -> Option<String> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let name = &rest[..rest.find('`')?];
    Some(name.chars().take(64).collect())
}

/// The field path (`signing_algorithm`, `a.b[0]`) that axum's data error names after
/// "target type: ", when it names one; `None` for an error about the body as a whole (`.`).
fn error_path(text: &str) -> Option<String> {
    const MARKER: &str = "target type: ";
    let rest = &text[text.find(MARKER)? + MARKER.len()..];
    let path = &rest[..rest.find(": ")?];
    let plausible = !path.is_empty()
        && path != "."
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c));
    plausible.then(|| path.chars().take(64).collect())
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::of(&parts.extensions, &parts.headers, &state.trusted_proxies))
    }
}

impl FromRequestParts<AppState> for Device {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let addr = ClientAddr::of(&parts.extensions, &parts.headers, &state.trusted_proxies);
        Ok(Device::from_request(&parts.headers, addr))
    }
}

/// The `Origin` header, if any.
#[derive(Clone, Debug)]
pub struct Origin(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin(parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

/// The credential of `Authorization: Bearer <credential>`, if present and well-formed.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let credential = credential.trim();
    if credential.is_empty() { None } else { Some(credential) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn error_paths_are_extracted_only_when_plausible() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        let text = format!("{prefix}signing_algorithm: unknown variant `ES256`, expected one of `RS256`");
        assert_eq!(error_path(&text).as_deref(), Some("signing_algorithm"));
        let text = format!("{prefix}a.b[0]: invalid type: string \"x\", expected u32 at line 1 column 9");
        assert_eq!(error_path(&text).as_deref(), Some("a.b[0]"));
        assert_eq!(error_path(&format!("{prefix}.: invalid type: sequence, expected a map")), None);
        assert_eq!(error_path(&format!("{prefix}we ird: invalid type")), None);
        assert_eq!(error_path("no marker: here"), None);
    }

    #[test]
    fn field_names_are_extracted_and_capped() {
        assert_eq!(
            backticked_after("missing field `password` at line 1", "missing field `").as_deref(),
            Some("password")
        );
        let long = format!("unknown field `{}`, expected", "x".repeat(500));
        assert_eq!(backticked_after(&long, "unknown field `").map(|s| s.len()), Some(64));
        assert_eq!(backticked_after("nothing here", "missing field `"), None);
    }
}

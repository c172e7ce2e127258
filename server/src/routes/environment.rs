//! `GET /v1/environment` (Frontend API, no session needed): the instance's sign-up and sign-in
//! settings in force (`crate::instance_settings`), which the SDK and the drop-in UI render from.
//!
//! The Backend API changes them while the server runs, so a browser may keep the answer but must
//! ask again before using it (`no-cache`); the `ETag` (a digest of the body) lets it ask with
//! `If-None-Match` and be answered `304` with no body while nothing changed.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiResult;
use crate::secret::b64url;
use crate::state::AppState;

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let environment = state.auth().await?.environment();
    let body = serde_json::to_vec(&environment).map_err(crate::error::ApiError::internal)?;
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", b64url(&digest[..12]));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    Ok(res)
}

//! `GET /v1/environment` (Frontend API, no session needed): the instance's sign-up and sign-in
//! settings (`crate::auth_settings`), which the SDK and the drop-in UI render from.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn get(State(state): State<AppState>) -> Response {
    let mut res = Json(state.auth.environment()).into_response();
    // Settings change only with a restart: a minute of caching saves every page load a request.
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    res
}

//! The demo app's side of the server (`--demo-dir`, used by `cargo xtask demo`): the static files
//! of `www/` under `/demo/`, the npm package under `/demo/hallpass/`, and `GET /demo/api/whoami`, a
//! protected endpoint standing in for an app's own backend (whose webhook receiver is
//! [`super::demo_webhooks`]; its view of the development mailbox is [`super::demo_mailbox`]). Static
//! files never include dotfiles, and
//! never anything a symlink leads to outside the served folder.
//!
//! `whoami` checks the Bearer session token the way an app backend does — with `hallpass-backend`'s
//! verifier, networkless on the keys of the JWKS document (the one served at
//! `/.well-known/jwks.json`), on this server's clock: RS256 only, the key picked by `kid`, then `iss`,
//! `exp`/`nbf`/`iat` and `v: 2` — and reports the active organization and role the token carries. It
//! answers 401 without a token or with a bad one.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hallpass_protocol::SessionClaims;
use serde::Serialize;
use tower_http::services::ServeDir;

use crate::error::ApiError;
use crate::state::AppState;

/// Where the protected endpoint lives.
pub const WHOAMI: &str = "/demo/api/whoami";

/// The demo's routes: the app's files from `www`, the package from `package` (when given).
pub fn router(www: &Path, package: Option<&Path>) -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .route(WHOAMI, get(whoami))
        .route(super::demo_mailbox::MAILBOX, get(super::demo_mailbox::list))
        .merge(super::demo_webhooks::routes())
        .nest_service("/demo", static_files(www));
    if let Some(package) = package {
        router = router.nest_service("/demo/hallpass", static_files(package));
    }
    // A dev server: every load revalidates, so a rebuilt package is never served stale.
    router.layer(middleware::map_response(|mut res: Response| async move {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    }))
}

/// The files of `root`, except dotfiles (`.env`, `.git/…`: a path with any segment starting with
/// `.` is not found) and anything reached through a symlink that leads out of `root`.
fn static_files(root: &Path) -> axum::routing::MethodRouter {
    let canonical_root = Arc::new(std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()));
    let files = ServeDir::new(root);
    axum::routing::get_service(files).layer(middleware::from_fn(move |req: Request, next: Next| {
        let root = canonical_root.clone();
        async move {
            if inside(&root, req.uri().path()).await {
                next.run(req).await
            } else {
                ApiError::not_found("File").into_response()
            }
        }
    }))
}

/// Whether the request path (relative to the served folder) names something that may be served.
async fn inside(root: &Path, path: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let segments: Vec<&str> = decoded.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| s.starts_with('.')) {
        return false;
    }
    let target = segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    let Ok(real) = tokio::fs::canonicalize(&target).await else {
        // Missing: ServeDir answers its own 404.
        return true;
    };
    if !real.starts_with(root) {
        return false;
    }
    // A folder is served as its index.html, which may itself be a link out.
    match tokio::fs::canonicalize(real.join("index.html")).await {
        Ok(index) if real.is_dir() => index.starts_with(root),
        _ => true,
    }
}

/// What `whoami` answers for a valid token.
#[derive(Debug, Serialize)]
struct WhoAmI {
    object: &'static str,
    user_id: String,
    session_id: String,
    /// The `kid` of the JWKS key that verified the signature.
    key_id: String,
    issuer: String,
    /// Milliseconds since the epoch.
    expires_at: i64,
    issued_at: i64,
    /// The active organization as the verified token says (its `o` and `fea` claims, decoded as
    /// Clerk's backend does): what an app backend authorises with. All `null` for the personal account.
    org_id: Option<String>,
    org_slug: Option<String>,
    org_role: Option<String>,
    org_permissions: Option<Vec<String>>,
}

async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (claims, kid) = session_claims(&state, &headers).await?;
    let org = claims.organization();
    let body = WhoAmI {
        object: "whoami",
        user_id: claims.sub,
        session_id: claims.sid,
        key_id: kid,
        issuer: claims.iss,
        expires_at: claims.exp.saturating_mul(1000),
        issued_at: claims.iat.saturating_mul(1000),
        org_id: org.as_ref().map(|o| o.id.clone()),
        org_slug: org.as_ref().map(|o| o.slg.clone()),
        org_role: org.as_ref().map(|o| o.rol.clone()),
        org_permissions: org.map(|o| o.per),
    };
    Ok(axum::Json(body).into_response())
}

/// The claims of the request's Bearer session token, checked as a third-party backend would, and the
/// `kid` that verified it.
async fn session_claims(state: &AppState, headers: &HeaderMap) -> Result<(SessionClaims, String), ApiError> {
    let token = crate::extract::bearer(headers)
        .ok_or_else(|| ApiError::unauthenticated("A session token is required (Authorization: Bearer)"))?;
    let jwks = serde_json::to_string(&state.keys.jwks()).map_err(ApiError::internal)?;
    let verifier = hallpass_backend::Verifier::jwt_key(&jwks)
        .map_err(ApiError::internal)?
        .issuer(state.public_url())
        .clock_skew(Duration::from_secs(crate::jwt::LEEWAY_SECS.unsigned_abs()))
        .build();
    // The server's clock (tests move it), not the system's.
    let now = UNIX_EPOCH + Duration::from_millis(u64::try_from(state.now_ms()).unwrap_or(0));
    let verified = verifier.verify_at(token, now).await.map_err(|e| match e {
        hallpass_backend::Error::TokenExpired => ApiError::unauthenticated("The session token has expired")
            .with_long_message("Refresh the session token and try again."),
        other => ApiError::unauthenticated(format!("Invalid session token: {other}")),
    })?;
    Ok((verified.claims, verified.key_id.unwrap_or_default()))
}

/// The user of the request's session token (the demo backend's other protected endpoints).
pub(super) async fn session_user(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    session_claims(state, headers).await.map(|(claims, _)| claims.sub)
}

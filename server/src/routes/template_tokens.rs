//! Frontend API: `POST /v1/client/sessions/{session_id}/tokens/{template_name}` mints a token from a
//! JWT template for the caller's own session — what the SDK's `getToken({ template })` calls.
//!
//! The Bearer session token is checked exactly as for `/v1/client/me` (signature, expiry, an active
//! session: a revoked or ended one answers the same `session_*` codes, so the SDK signs out), and
//! it must belong to the session in the path.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hallpass_protocol::{ErrorCode, TemplateTokenResponse};

use super::session_auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::extract::Origin;
use crate::jwt_template::{self, Standard, rules};
use crate::secret::random_base62;
use crate::state::AppState;

/// `POST /v1/client/sessions/{session_id}/tokens/{template_name}`
pub async fn mint(
    State(state): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    Path((session_id, template_name)): Path<(String, String)>,
) -> ApiResult<Json<TemplateTokenResponse>> {
    let session = authenticate(&state, &headers).await?;
    if session.id != session_id {
        return Err(ApiError::unauthenticated("The session token belongs to another session")
            .with_long_message("Mint template tokens with the session token of the session in the path."));
    }
    // A name that could never have been created is not looked up.
    let template = if rules::is_name(&template_name) {
        state.store.jwt_template_by_name(&template_name).await?
    } else {
        None
    };
    let template = template.ok_or_else(|| ApiError::not_found("JWT template"))?;
    let user = state.store.user(&session.user_id).await?.ok_or_else(|| ApiError::not_found("User"))?;
    let now = state.now_ms();
    let standard = Standard {
        issuer: state.public_url(),
        // Only allow-listed origins reach here (the guard refuses the rest).
        azp: origin.0,
        now_ms: now,
        jti: random_base62(20)?,
    };
    // The instance key signs unless the template has its own: leased past this token's `exp` first
    // (see `crate::keyring`). An RS256 signature is milliseconds of CPU (36 ms with an 8192-bit
    // custom key): on a signing slot off the async workers, so a burst of mints cannot stall every
    // other request.
    let exp_ms = (now.div_euclid(1000) + i64::from(template.lifetime)).saturating_mul(1000);
    let instance_key = match template.signing_key {
        None => state.keys.lease(now, exp_ms).await.map_err(ApiError::internal)?,
        Some(_) => state.keys.signing_key(now),
    };
    let custom_keys = state.clone();
    let minted = state
        .keys
        .blocking(move || {
            jwt_template::mint(
                &template,
                &user,
                &session,
                &standard,
                &instance_key,
                &custom_keys.template_keys,
            )
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            // The template and this user's metadata together are too large: a client-visible, stable
            // 4xx (nothing is wrong with the server), not a 500.
            jwt_template::MintError::TooLarge { .. } => ApiError::unprocessable(
                ErrorCode::JwtTemplateTooLarge,
                "This JWT template renders too many claims for this user",
            )
            .with_long_message(format!("{e}. Shorten the template or the metadata its shortcodes insert.")),
            other => ApiError::internal(other),
        })?;
    // Whole seconds left from the server time, rounded down, as for session tokens.
    let expires_in = u32::try_from((minted.exp * 1000 - now).div_euclid(1000)).unwrap_or(0);
    Ok(Json(TemplateTokenResponse { object: "token".into(), jwt: minted.jwt.into(), expires_in }))
}

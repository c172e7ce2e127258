//! Frontend API handlers (`/v1/client/…`): refresh, sign-out, the user's profile and sessions — and the
//! pieces every sign-up and sign-in step shares (`sign_ups`, `sign_ins`): the per-address attempt
//! budget, starting a session, answering with tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hallpass_protocol::{
    AuthResponse, ErrorCode, ListResponse, MeResponse, RefreshRequest, Session, SessionStatus,
    SessionWithActivities, UpdateProfileRequest, id_prefix,
};

use super::session_auth::{authenticate, session_over};
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Origin};
use crate::password::HashError;
use crate::ratelimit::retry_after_secs;
use crate::refresh;
use crate::secret::{RefreshToken, new_id};
use crate::security_log;
use crate::session_token;
use crate::state::AppState;
use crate::store::{
    NewSession, REUSE_DETECTION_MS, RefreshOutcome, RefreshPolicy, Rotation, SessionRecord, UserRecord,
};
use crate::user_agent::Device;
use crate::validate;

/// `POST /v1/client/refresh`
pub async fn refresh(
    State(state): State<AppState>,
    addr: ClientAddr,
    origin: Origin,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<AuthResponse>> {
    if !refresh::well_formed(req.refresh_token.expose()) {
        return Err(refresh_invalid());
    }
    let presented = req.refresh_token;
    let successor = state.successor_key.successor(&presented);
    let policy = RefreshPolicy {
        grace_ms: i64::from(state.config.refresh_grace_secs) * 1000,
        idle_ms: secs_to_ms(state.config.session_idle_timeout_secs),
    };
    let rotation = Rotation {
        presented: refresh::hash(&presented),
        successor: refresh::hash(&successor),
        now: state.now_ms(),
        policy,
    };
    let outcome = state.store.rotate_refresh_token(rotation).await?;
    match outcome {
        RefreshOutcome::Rotated(session, user) | RefreshOutcome::GraceReplay(session, user) => {
            issue(&state, &user, &session, successor, origin.0).await.map(Json)
        }
        RefreshOutcome::Invalid => Err(refresh_invalid()),
        RefreshOutcome::Reused(session) => {
            security_log::refresh_token_reused(addr, &session.id, &session.user_id, "refresh");
            Err(refresh_reused())
        }
        RefreshOutcome::SessionOver(status) => Err(session_over(status)),
    }
}

/// `POST /v1/client/sign_out`: ends the session of the presented refresh token — the live one, or
/// a rotated one within the grace window (a client whose refresh answer was lost holds that one).
/// Works with an expired session token, and signing out an ended session is fine.
///
/// A token rotated longer ago than the grace window is what `/refresh` treats as reuse — someone
/// kept a copy — and so is it here: the session is revoked and the answer is `refresh_token_reused`.
pub async fn sign_out(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<Session>> {
    if !refresh::well_formed(req.refresh_token.expose()) {
        return Err(refresh_invalid());
    }
    let hash = refresh::hash(&req.refresh_token);
    let (session, rotated_at) = state.store.session_by_token(&hash).await?.ok_or_else(refresh_invalid)?;
    let now = state.now_ms();
    if rotated_at.is_some_and(|at| at < now - REUSE_DETECTION_MS) {
        // Forgotten, as on /refresh (housekeeping deletes it): unknown, not reuse.
        return Err(refresh_invalid());
    }
    let grace_ms = i64::from(state.config.refresh_grace_secs) * 1000;
    if rotated_at.is_some_and(|at| now - at > grace_ms) {
        if state.store.set_status(&session.id, SessionStatus::Active, SessionStatus::Revoked, now).await? {
            security_log::refresh_token_reused(addr, &session.id, &session.user_id, "sign_out");
        }
        return Err(refresh_reused());
    }
    state.store.set_status(&session.id, SessionStatus::Active, SessionStatus::Ended, now).await?;
    let session = state.store.session(&session.id).await?.ok_or_else(refresh_invalid)?;
    Ok(Json(session.to_wire()))
}

/// `GET /v1/client/me`
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<MeResponse>> {
    let session = authenticate(&state, &headers).await?;
    let user = state.store.user(&session.user_id).await?.ok_or_else(|| ApiError::not_found("User"))?;
    Ok(Json(MeResponse { user: user.to_frontend(), session: session.to_wire() }))
}

/// `PATCH /v1/client/me`: first/last name, `unsafe_metadata` (never `public_metadata`) and which of
/// the user's verified addresses is primary.
pub async fn update_me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<UpdateProfileRequest>,
) -> ApiResult<Json<MeResponse>> {
    let session = authenticate(&state, &headers).await?;
    let first_name = req.first_name.map(|v| validate::name(v, "first_name")).transpose()?;
    let last_name = req.last_name.map(|v| validate::name(v, "last_name")).transpose()?;
    if let Some(m) = &req.unsafe_metadata {
        validate::metadata(m, "unsafe_metadata")?;
    }
    let user = state
        .store
        .update_user(&session.user_id, req.primary_email_address_id.as_deref(), state.now_ms(), |u| {
            if let Some(v) = first_name {
                u.first_name = v;
            }
            if let Some(v) = last_name {
                u.last_name = v;
            }
            if let Some(m) = req.unsafe_metadata {
                u.unsafe_metadata = m;
            }
            Ok::<(), ApiError>(())
        })
        .await??
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(Json(MeResponse { user: user.to_frontend(), session: session.to_wire() }))
}

/// `GET /v1/client/sessions`: the caller's active sessions, each with the device it was started on.
pub async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<ListResponse<SessionWithActivities>>> {
    let session = authenticate(&state, &headers).await?;
    let sessions = state.store.sessions_of(&session.user_id, true, state.now_ms()).await?;
    let data: Vec<SessionWithActivities> =
        sessions.iter().map(SessionRecord::to_wire_with_activity).collect();
    Ok(Json(ListResponse { total_count: data.len() as i64, data }))
}

/// `POST /v1/client/sessions/{id}/revoke`: one of the caller's own sessions (this one included),
/// answered as the list shows it.
pub async fn revoke_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionWithActivities>> {
    let me = authenticate(&state, &headers).await?;
    let now = state.now_ms();
    let target = state.store.session(&id).await?.filter(|s| s.user_id == me.user_id);
    let Some(target) = target else { return Err(ApiError::not_found("Session")) };
    state.store.set_status(&target.id, SessionStatus::Active, SessionStatus::Revoked, now).await?;
    let target = state.store.session(&target.id).await?.ok_or_else(|| ApiError::not_found("Session"))?;
    Ok(Json(target.to_wire_with_activity()))
}

/// One sign-up or sign-in attempt against the client address's budget (flood control).
pub(super) async fn auth_attempt(state: &AppState, addr: ClientAddr, path: &str) -> ApiResult<()> {
    let decision =
        state.limits.auth_attempt(&addr.limit_key(), state.now_ms()).await.map_err(ApiError::internal)?;
    decision.map_err(|ms| {
        let secs = retry_after_secs(ms);
        security_log::rate_limited(addr, "auth_per_ip", path, secs);
        ApiError::rate_limited(secs)
    })
}

pub(super) fn hash_error(addr: ClientAddr, path: &str, e: HashError) -> ApiError {
    match e {
        HashError::Busy { retry_after_secs } => {
            security_log::hashing_busy(addr, path);
            ApiError::busy(retry_after_secs)
        }
        HashError::Failed(cause) => ApiError::internal(cause),
    }
}

fn refresh_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::RefreshTokenReused,
        "This refresh token was already used; the session has been revoked",
    )
}

pub(super) fn identifier_exists() -> ApiError {
    ApiError::unprocessable(
        ErrorCode::FormIdentifierExists,
        "That email address is taken. Please try another.",
    )
    .param("email_address")
}

fn refresh_invalid() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::RefreshTokenInvalid, "The refresh token is invalid")
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2)
}

/// The session a sign-up or sign-in step starts for `user_id` — every path starts its session here —
/// on `device` (the step's request: the device that will hold the session).
pub(super) fn new_session(
    state: &AppState,
    user_id: &str,
    now: i64,
    device: &Device,
) -> ApiResult<NewSession> {
    let abandon_at = now.saturating_add(secs_to_ms(state.config.session_lifetime_secs));
    let expire_at = now.saturating_add(secs_to_ms(state.config.session_idle_timeout_secs)).min(abandon_at);
    Ok(NewSession {
        id: new_id(id_prefix::SESSION)?,
        user_id: user_id.to_owned(),
        now,
        expire_at,
        abandon_at,
        device: device.clone(),
    })
}

/// The session a completed sign-in or sign-up created, handed again to the client polling it
/// (`GET …/sign_ins/{id}`, `GET …/sign_ups/{id}`) while the attempt lives (`abandon_at`): its answer
/// carrying the session may have been lost, and the attempt's id is the client's alone. The session
/// gets a fresh refresh token and the one handed before is retired (`Store::reissue_refresh_token`).
/// `None` once the attempt's lifetime or the session is over.
pub(super) async fn hand_again(
    state: &AppState,
    session_id: Option<&str>,
    abandon_at: i64,
    origin: Option<String>,
) -> ApiResult<Option<AuthResponse>> {
    let now = state.now_ms();
    let Some(session_id) = session_id.filter(|_| now < abandon_at) else { return Ok(None) };
    let token = refresh::generate()?;
    let Some(session) = state.store.reissue_refresh_token(session_id, &refresh::hash(&token), now).await?
    else {
        return Ok(None);
    };
    let Some(user) = state.store.user(&session.user_id).await? else { return Ok(None) };
    tracing::info!(user_id = %user.id, session_id = %session.id, "session handed again to a polling client");
    issue(state, &user, &session, token, origin).await.map(Some)
}

/// Mints a session token for `session` — with its active organization, read now, on a signing slot,
/// with the key that signs now (see `crate::keyring`) — and builds the response carrying
/// `refresh_token`.
pub(super) async fn issue(
    state: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
    refresh_token: RefreshToken,
    origin: Option<String>,
) -> ApiResult<AuthResponse> {
    let org = session_token::active_grant(state, session.active_organization_id.as_deref(), &user.id).await?;
    let minted = session_token::mint(state, &user.id, &session.id, org.as_ref(), origin).await?;
    Ok(AuthResponse {
        user: user.to_frontend(),
        session: session.to_wire(),
        jwt: minted.jwt.into(),
        expires_in: minted.expires_in,
        refresh_token,
        server_time: minted.now,
        organization: minted.organization,
    })
}

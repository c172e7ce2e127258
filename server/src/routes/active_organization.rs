//! The session's active organization (Clerk's `setActive({ organization })`) and session tokens for
//! another organization of the user (`getToken({ organizationId })`): both answer a freshly minted
//! session token at once, so the SDK swaps tokens without a refresh round trip.
//!
//! Both need the session token of the path's session (as a template token does), and a membership
//! of the organization named — by id or slug — at that moment ([`super::org_access`]: outsiders get
//! 404).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hallpass_protocol::{
    SessionTokenRequest, SessionTokenResponse, TemplateTokenResponse, TouchSessionRequest,
};

use super::org_access;
use super::session_auth::{authenticate, session_over};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Origin};
use crate::session_token;
use crate::state::AppState;
use crate::store::{MemberGrant, SessionRecord};

/// The session of the path, authenticated by its own session token.
async fn own_session(state: &AppState, headers: &HeaderMap, session_id: &str) -> ApiResult<SessionRecord> {
    let session = authenticate(state, headers).await?;
    if session.id != session_id {
        return Err(ApiError::unauthenticated("The session token belongs to another session")
            .with_long_message("Use the session token of the session in the path."));
    }
    Ok(session)
}

/// The caller's grant in `organization` (an id or slug; `None` for no organization), under `rule`.
async fn grant_for(
    state: &AppState,
    session: &SessionRecord,
    organization: Option<&str>,
    rule: &org_access::Rule,
) -> ApiResult<Option<MemberGrant>> {
    match organization {
        Some(org) => Ok(Some(org_access::membership(state, session, org, rule).await?)),
        None => Ok(None),
    }
}

/// `POST /v1/client/sessions/{session_id}/touch`: sets the active organization (an id or slug of
/// one the user belongs to, or `null` for the personal account; absent keeps it) and answers the
/// session with a session token carrying it.
pub async fn touch(
    State(state): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    Path(session_id): Path<String>,
    ApiJson(req): ApiJson<TouchSessionRequest>,
) -> ApiResult<Json<SessionTokenResponse>> {
    let session = own_session(&state, &headers, &session_id).await?;
    let (session, grant) = match req.active_organization_id {
        // Absent: the active one stays; the answer is a fresh token for it.
        None => {
            let grant = session_token::active_grant(
                &state,
                session.active_organization_id.as_deref(),
                &session.user_id,
            )
            .await?;
            (session, grant)
        }
        Some(target) => {
            // Resolves a slug and refuses outsiders (404) before anything is written.
            let asked = grant_for(&state, &session, target.as_deref(), &org_access::SET_ACTIVE).await?;
            let organization_id = asked.as_ref().map(|g| g.organization_id.as_str());
            let now = state.now_ms();
            // The session and the grant as this write left them (one transaction): the token below
            // carries exactly the organization this touch wrote, even when another touch of the same
            // session writes another one at the same moment.
            match state.store.set_active_organization(&session.id, organization_id, now).await? {
                Some(written) => written,
                None => {
                    // The membership went between the check and the write, or the session ended.
                    let current = state.store.session_checked(&session.id, now).await?;
                    return Err(match current {
                        Some(s) if s.status != hallpass_protocol::SessionStatus::Active => {
                            session_over(s.status)
                        }
                        _ => ApiError::not_found("Organization"),
                    });
                }
            }
        }
    };
    let minted = session_token::mint(&state, &session.user_id, &session.id, grant.as_ref(), origin.0).await?;
    tracing::info!(session_id = %session.id, organization_id = ?session.active_organization_id, "active organization set");
    Ok(Json(SessionTokenResponse {
        session: session.to_wire(),
        jwt: minted.jwt.into(),
        expires_in: minted.expires_in,
        server_time: minted.now,
        organization: minted.organization,
    }))
}

/// `POST /v1/client/sessions/{session_id}/tokens`: a session token for `organization_id` (an id or
/// slug of one the user belongs to; `null` for none; absent for the active one), leaving the
/// session's active organization as it is.
pub async fn token_for_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    Path(session_id): Path<String>,
    ApiJson(req): ApiJson<SessionTokenRequest>,
) -> ApiResult<Json<TemplateTokenResponse>> {
    let session = own_session(&state, &headers, &session_id).await?;
    let grant = match req.organization_id {
        None => {
            session_token::active_grant(&state, session.active_organization_id.as_deref(), &session.user_id)
                .await?
        }
        Some(target) => grant_for(&state, &session, target.as_deref(), &org_access::TOKEN_FOR).await?,
    };
    let minted = session_token::mint(&state, &session.user_id, &session.id, grant.as_ref(), origin.0).await?;
    Ok(Json(TemplateTokenResponse {
        object: "token".into(),
        jwt: minted.jwt.into(),
        expires_in: minted.expires_in,
    }))
}

//! Sign-up (`/v1/client/sign_ups…`), Clerk-shaped: `POST` creates it — complete at once, with the
//! session, when a password is given and the instance does not require a verified address (the path
//! every existing client takes, unchanged and as fast), otherwise `missing_requirements` with
//! `unverified_fields: ["email_address"]` — then `prepare_verification` sends a code or link and
//! `attempt_verification` (a code) or the first poll after the link was opened (`GET`) completes it.

use axum::Json;
use axum::extract::{Path, State};
use hallpass_protocol::{
    AttemptVerificationRequest, ErrorCode, PrepareVerificationRequest, SignUpAttempt, SignUpRequest,
    SignUpResponse, SignUpStatus, SignUpVerifications, Strategy, id_prefix, paths,
};

use super::email_steps::{self, Purpose};
use super::frontend::{auth_attempt, hand_again, hash_error, identifier_exists, issue, new_session};
use crate::client_addr::ClientAddr;
use crate::email::outgoing::Recipient;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Origin};
use crate::refresh;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::sign_up_attempts::{Completion, Creation};
use crate::store::{CheckOutcome, CreateUserError, NewSignUpAttempt, NewUser, SignUpAttemptRecord};
use crate::user_agent::Device;
use crate::validate;

/// `POST /v1/client/sign_ups`
pub async fn create(
    State(state): State<AppState>,
    addr: ClientAddr,
    device: Device,
    origin: Origin,
    ApiJson(req): ApiJson<SignUpRequest>,
) -> ApiResult<Json<SignUpResponse>> {
    auth_attempt(&state, addr, paths::SIGN_UPS).await?;
    let email = validate::email(&req.email_address, "email_address")?;
    let has_password = !req.password.expose().is_empty();
    let settings = state.auth().await?;
    if !has_password && settings.password_required() {
        return Err(
            ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter a password").param("password")
        );
    }
    if has_password {
        validate::new_password(req.password.expose(), &email)?;
    }
    let first_name = validate::name(req.first_name, "first_name")?;
    let last_name = validate::name(req.last_name, "last_name")?;
    let unsafe_metadata = req.unsafe_metadata.unwrap_or_default();
    validate::metadata(&unsafe_metadata, "unsafe_metadata")?;
    if state.store.email_exists(&email).await? {
        return Err(identifier_exists());
    }
    let password_hash = match has_password {
        true => {
            Some(state.hasher.hash(req.password).await.map_err(|e| hash_error(addr, paths::SIGN_UPS, e))?)
        }
        false => None,
    };
    let now = state.now_ms();
    let needs_verification = settings.requires_verified_email || password_hash.is_none();
    if needs_verification {
        let attempt = state
            .store
            .create_sign_up_attempt(&NewSignUpAttempt {
                id: new_id(id_prefix::SIGN_UP_ATTEMPT)?,
                email_address: email,
                password_hash,
                first_name,
                last_name,
                unsafe_metadata,
                now,
            })
            .await?;
        return Ok(Json(SignUpResponse { sign_up: attempt.to_wire(None, now), auth: None }));
    }
    let user = NewUser {
        id: new_id(id_prefix::USER)?,
        email_id: new_id(id_prefix::EMAIL_ADDRESS)?,
        email,
        password_hash,
        email_verified_by: None,
        first_name,
        last_name,
        unsafe_metadata,
        now,
    };
    let session = new_session(&state, &user.id, now, &device)?;
    let token = refresh::generate()?;
    let (user, session) =
        match state.store.create_user_with_session(&user, &session, &refresh::hash(&token)).await {
            Ok(v) => v,
            Err(CreateUserError::EmailTaken) => return Err(identifier_exists()),
            Err(CreateUserError::Store(e)) => return Err(e.into()),
        };
    tracing::info!(user_id = %user.id, session_id = %session.id, "signed up");
    // Completed in this request: the attempt was never stored, its id only names it.
    let sign_up = SignUpAttempt {
        object: "sign_up_attempt".into(),
        id: new_id(id_prefix::SIGN_UP_ATTEMPT)?,
        status: SignUpStatus::Complete,
        email_address: user.email.clone().unwrap_or_default(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        unsafe_metadata: user.unsafe_metadata.clone(),
        password_enabled: true,
        required_fields: vec!["email_address".into(), "password".into()],
        missing_fields: Vec::new(),
        unverified_fields: Vec::new(),
        verifications: SignUpVerifications::default(),
        created_user_id: Some(user.id.clone()),
        created_session_id: Some(session.id.clone()),
        abandon_at: now,
    };
    let auth = issue(&state, &user, &session, token, origin.0).await?;
    Ok(Json(SignUpResponse { sign_up, auth: Some(auth) }))
}

/// `GET /v1/client/sign_ups/{id}`: the attempt. Once its email link was opened, the first call
/// completes it and answers the session (the tab that asked polls this); every later call, while the
/// attempt lives, answers that session again with a fresh refresh token (`hand_again`: the first answer
/// may have been lost); a read otherwise.
pub async fn get(
    State(state): State<AppState>,
    device: Device,
    origin: Origin,
    Path(id): Path<String>,
) -> ApiResult<Json<SignUpResponse>> {
    let now = state.now_ms();
    let (attempt, verification) = state.store.sign_up_attempt(&id).await?.ok_or_else(not_found)?;
    let link_used =
        verification.as_ref().is_some_and(|v| v.strategy == Strategy::EmailLink && v.verified_at.is_some());
    if attempt.status == SignUpStatus::MissingRequirements && !attempt.abandoned(now) && link_used {
        return complete(&state, &id, None, origin, &device).await;
    }
    let auth = match attempt.status {
        SignUpStatus::Complete => {
            hand_again(&state, attempt.created_session_id.as_deref(), attempt.abandon_at, origin.0).await?
        }
        _ => None,
    };
    Ok(Json(SignUpResponse { sign_up: attempt.to_wire(verification.as_ref(), now), auth }))
}

/// `POST /v1/client/sign_ups/{id}/prepare_verification`
pub async fn prepare_verification(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PrepareVerificationRequest>,
) -> ApiResult<Json<SignUpResponse>> {
    let settings = state.auth().await?;
    if !settings.verification_strategies().contains(&req.strategy) {
        return Err(email_steps::strategy_invalid("verify an address with email_code or email_link"));
    }
    let redirect_url = email_steps::redirect_url(&state, req.redirect_url)?;
    let now = state.now_ms();
    let (attempt, _) = state.store.sign_up_attempt(&id).await?.ok_or_else(not_found)?;
    pending(&attempt, now)?;
    email_steps::send_allowed(&state, addr, &attempt.email_address, paths::SIGN_UP_PREPARE_VERIFICATION)
        .await?;
    let to =
        Recipient { email_address: attempt.email_address.clone(), has_account: true, ..Default::default() };
    let (verification, email) =
        email_steps::prepare(&state, &settings, &id, req.strategy, Purpose::Verify, &to, redirect_url)?;
    let (attempt, stored) =
        state.store.prepare_sign_up_verification(&verification, &email).await?.ok_or_else(not_found)?;
    Ok(Json(SignUpResponse { sign_up: attempt.to_wire(Some(&stored), now), auth: None }))
}

/// `POST /v1/client/sign_ups/{id}/attempt_verification`
pub async fn attempt_verification(
    State(state): State<AppState>,
    device: Device,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttemptVerificationRequest>,
) -> ApiResult<Json<SignUpResponse>> {
    if !matches!(req.strategy, None | Some(Strategy::EmailCode)) {
        return Err(email_steps::strategy_invalid("a sign-up attempts email_code; links are opened"));
    }
    if req.password.is_some() {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamUnknown,
            "`password` is not a valid parameter",
        )
        .param("password"));
    }
    let code = email_steps::code_param(req.code)?;
    complete(&state, &id, Some(&code), origin, &device).await
}

/// Completes the sign-up `id` by `code` (or by its opened link), answering the session.
async fn complete(
    state: &AppState,
    id: &str,
    code: Option<&str>,
    origin: Origin,
    device: &Device,
) -> ApiResult<Json<SignUpResponse>> {
    let now = state.now_ms();
    let user_id = new_id(id_prefix::USER)?;
    let token = refresh::generate()?;
    let creation = Creation {
        email_id: new_id(id_prefix::EMAIL_ADDRESS)?,
        session: new_session(state, &user_id, now, device)?,
        user_id,
        token_hash: refresh::hash(&token),
    };
    let key = state.code_key.clone();
    let matches = move |stored: &str| code.is_some_and(|c| key.matches(id, c, stored));
    let check: Option<&(dyn Fn(&str) -> bool + Sync)> = if code.is_some() { Some(&matches) } else { None };
    let (attempt, completion) =
        state.store.complete_sign_up(id, check, &creation, now).await?.ok_or_else(not_found)?;
    match completion {
        Completion::Created(created) => {
            let (user, session) = *created;
            tracing::info!(user_id = %user.id, session_id = %session.id, "signed up (email verified)");
            let auth = issue(state, &user, &session, token, origin.0).await?;
            let verification = state.store.verification(id).await?;
            Ok(Json(SignUpResponse {
                sign_up: attempt.to_wire(verification.as_ref(), now),
                auth: Some(auth),
            }))
        }
        Completion::EmailTaken => Err(identifier_exists()),
        Completion::NotVerified(outcome) => {
            pending(&attempt, now)?;
            Err(email_steps::not_verified(outcome))
        }
    }
}

/// Refuses a step on an attempt that is not pending: complete (`verification_already_verified`) or
/// abandoned (404).
fn pending(attempt: &SignUpAttemptRecord, now: i64) -> ApiResult<()> {
    if attempt.abandoned(now) {
        return Err(not_found());
    }
    if attempt.status == SignUpStatus::Complete {
        return Err(email_steps::not_verified(CheckOutcome::AlreadyVerified));
    }
    Ok(())
}

fn not_found() -> ApiError {
    email_steps::attempt_not_found("Sign-up")
}

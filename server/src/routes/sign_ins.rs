//! Sign-in (`/v1/client/sign_ins…`), Clerk-shaped: `POST` with a password completes at once (the path
//! every existing client takes, unchanged); with an identifier alone it answers `needs_first_factor`
//! and the factors the instance has — one of which `prepare_first_factor` sends — then `attempt_first_factor` (a code or the password), the first poll after an email link was
//! opened (`GET`), or, for a reset, the right code and then `reset_password`.
//!
//! **No enumeration.** An address without an account gets an attempt, a "sent" verification and the
//! same answers as one with an account, after the same work (the lookup, a code hashed, the attempt,
//! the verification and an email row written — `suppressed`, never sent); its codes are never right.
//! Send budgets count both the same. The password path answers `form_password_incorrect` for both,
//! after verifying against a dummy hash (`AppState::dummy_hash`).

use axum::Json;
use axum::extract::{Path, State};
use hallpass_protocol::{
    AttemptVerificationRequest, ErrorCode, PrepareVerificationRequest, ResetPasswordRequest, SignInAttempt,
    SignInFactor, SignInRequest, SignInResponse, SignInStatus, Strategy, id_prefix, paths,
};

use super::email_steps::{self, Purpose};
use super::frontend::{auth_attempt, hand_again, hash_error, issue, new_session};
use super::password_check::{check_password, password_incorrect};
use crate::auth_settings::AuthSettings;
use crate::client_addr::ClientAddr;
use crate::email::outgoing::Recipient;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Origin};
use crate::refresh;
use crate::secret::{RefreshToken, new_id};
use crate::state::AppState;
use crate::store::sign_in_attempts::{SessionStart, Step};
use crate::store::{SignInAttemptRecord, UserRecord, VerificationRecord};
use crate::user_agent::Device;
use crate::validate;
use crate::verification::mask_email;

/// `POST /v1/client/sign_ins`
pub async fn create(
    State(state): State<AppState>,
    addr: ClientAddr,
    device: Device,
    origin: Origin,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<Json<SignInResponse>> {
    auth_attempt(&state, addr, paths::SIGN_INS).await?;
    let email = validate::email(&req.identifier, "identifier")?;
    let settings = state.auth().await?;
    if !req.password.expose().is_empty() {
        if !settings.allows(Strategy::Password) {
            return Err(email_steps::strategy_invalid("passwords are off on this instance"));
        }
        let user = check_password(&state, addr, &email, req.password, paths::SIGN_INS).await?;
        let now = state.now_ms();
        let (session, token) = new_session_and_token(&state, &user.id, now, &device)?;
        // `None`: the user was deleted since the password check; the account is unknown now.
        let session = state
            .store
            .create_session(&session, &refresh::hash(&token))
            .await?
            .ok_or_else(|| password_incorrect("password"))?;
        let user = state
            .store
            .user(&user.id)
            .await?
            .ok_or_else(|| ApiError::internal("user vanished at sign-in"))?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "signed in");
        // Completed in this request: the attempt was never stored, its id only names it.
        let sign_in = SignInAttempt {
            object: "sign_in_attempt".into(),
            id: new_id(id_prefix::SIGN_IN_ATTEMPT)?,
            status: SignInStatus::Complete,
            identifier: email.clone(),
            supported_first_factors: factors(&settings, &email),
            first_factor_verification: None,
            created_session_id: Some(session.id.clone()),
            abandon_at: now,
        };
        let auth = issue(&state, &user, &session, token, origin.0).await?;
        return Ok(Json(SignInResponse { sign_in, auth: Some(auth) }));
    }
    // The same lookup for an address with or without an account.
    let user = state.store.user_by_email(&email).await?;
    let id = new_id(id_prefix::SIGN_IN_ATTEMPT)?;
    let now = state.now_ms();
    let attempt =
        state.store.create_sign_in_attempt(&id, &email, user.as_ref().map(|u| u.id.as_str()), now).await?;
    Ok(Json(answer(&settings, &attempt, None, now)))
}

/// `GET /v1/client/sign_ins/{id}`: the attempt. Once its email link was opened, the first call signs
/// in and answers the session (the tab that asked polls this); every later call, while the attempt
/// lives, answers that session again with a fresh refresh token (`hand_again`: the first answer may
/// have been lost); a read otherwise.
pub async fn get(
    State(state): State<AppState>,
    device: Device,
    origin: Origin,
    Path(id): Path<String>,
) -> ApiResult<Json<SignInResponse>> {
    let now = state.now_ms();
    let settings = state.auth().await?;
    let (attempt, verification) = read(&state, &id, now).await?;
    let link_used =
        verification.as_ref().is_some_and(|v| v.strategy == Strategy::EmailLink && v.verified_at.is_some());
    if attempt.status == SignInStatus::NeedsFirstFactor && link_used && attempt.user_id.is_some() {
        let (start, token) = start_for(&state, &attempt, now, &device)?;
        if let Some((attempt, Step::SignedIn(session))) =
            state.store.complete_sign_in_by_link(&id, &start, now).await?
        {
            return signed_in(&state, attempt, &session, token, origin, now).await;
        }
        let (attempt, verification) = read(&state, &id, now).await?;
        return Ok(Json(answer(&settings, &attempt, verification.as_ref(), now)));
    }
    let mut res = answer(&settings, &attempt, verification.as_ref(), now);
    if attempt.status == SignInStatus::Complete {
        res.auth =
            hand_again(&state, attempt.created_session_id.as_deref(), attempt.abandon_at, origin.0).await?;
    }
    Ok(Json(res))
}

/// `POST /v1/client/sign_ins/{id}/prepare_first_factor`
pub async fn prepare_first_factor(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PrepareVerificationRequest>,
) -> ApiResult<Json<SignInResponse>> {
    let settings = state.auth().await?;
    first_factor_sendable(&settings, req.strategy)?;
    let redirect_url = email_steps::redirect_url(&state, req.redirect_url)?;
    let now = state.now_ms();
    let (attempt, _) = read(&state, &id, now).await?;
    if attempt.status != SignInStatus::NeedsFirstFactor {
        return Err(email_steps::missing());
    }
    email_steps::send_allowed(&state, addr, &attempt.identifier, paths::SIGN_IN_PREPARE_FIRST_FACTOR).await?;
    // The same lookup for an address with or without an account.
    let user = state
        .store
        .user_by_email(&attempt.identifier)
        .await?
        .filter(|u| Some(&u.id) == attempt.user_id.as_ref());
    let to = recipient(&attempt.identifier, user.as_ref());
    let (verification, email) =
        email_steps::prepare(&state, &settings, &id, req.strategy, purpose(req.strategy), &to, redirect_url)?;
    let (attempt, stored) =
        state.store.prepare_first_factor(&verification, &email).await?.ok_or_else(email_steps::missing)?;
    Ok(Json(answer(&settings, &attempt, Some(&stored), now)))
}

/// `POST /v1/client/sign_ins/{id}/attempt_first_factor`
pub async fn attempt_first_factor(
    State(state): State<AppState>,
    addr: ClientAddr,
    device: Device,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttemptVerificationRequest>,
) -> ApiResult<Json<SignInResponse>> {
    let now = state.now_ms();
    let (attempt, verification) = read(&state, &id, now).await?;
    let strategy = match (req.strategy, &verification) {
        (Some(s), _) => s,
        (None, Some(v)) => v.strategy,
        (None, None) => return Err(email_steps::missing()),
    };
    let settings = state.auth().await?;
    if !settings.allows(strategy) {
        return Err(email_steps::strategy_invalid("it is off on this instance"));
    }
    match strategy {
        Strategy::Password => {
            let password = req.password.unwrap_or_default();
            if password.expose().is_empty() {
                return Err(ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter your password")
                    .param("password"));
            }
            if attempt.status != SignInStatus::NeedsFirstFactor {
                return Err(email_steps::missing());
            }
            let user = check_password(
                &state,
                addr,
                &attempt.identifier,
                password,
                paths::SIGN_IN_ATTEMPT_FIRST_FACTOR,
            )
            .await?;
            let now = state.now_ms();
            let (start, token) = start_for_user(&state, &user.id, now, &device)?;
            match state.store.complete_sign_in_by_password(&id, &start, now).await? {
                Some((attempt, Step::SignedIn(session))) => {
                    signed_in(&state, attempt, &session, token, origin, now).await
                }
                _ => Err(email_steps::missing()),
            }
        }
        Strategy::EmailCode | Strategy::ResetPasswordEmailCode => {
            let code = email_steps::code_param(req.code)?;
            let (start, token) = start_for(&state, &attempt, now, &device)?;
            let key = state.code_key.clone();
            let matches = |stored: &str| key.matches(&id, &code, stored);
            let (attempt, step) = state
                .store
                .attempt_first_factor_code(&id, strategy, &matches, &start, now)
                .await?
                .ok_or_else(not_found)?;
            match step {
                Step::SignedIn(session) => signed_in(&state, attempt, &session, token, origin, now).await,
                Step::NeedsNewPassword => {
                    let verification = state.store.verification(&id).await?;
                    Ok(Json(answer(&settings, &attempt, verification.as_ref(), now)))
                }
                Step::NotVerified(outcome) => Err(email_steps::not_verified(outcome)),
                Step::WrongState => Err(email_steps::missing()),
            }
        }
        Strategy::EmailLink => Err(email_steps::strategy_invalid("a link is used by opening it")),
    }
}

/// `POST /v1/client/sign_ins/{id}/reset_password`: after the reset code, the new password; every
/// other session of the user is revoked.
pub async fn reset_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    device: Device,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Json<SignInResponse>> {
    let now = state.now_ms();
    let (attempt, _) = read(&state, &id, now).await?;
    if attempt.status != SignInStatus::NeedsNewPassword {
        return Err(email_steps::missing());
    }
    validate::new_password(req.password.expose(), &attempt.identifier)?;
    let hash = state
        .hasher
        .hash(req.password)
        .await
        .map_err(|e| hash_error(addr, paths::SIGN_IN_RESET_PASSWORD, e))?;
    let now = state.now_ms();
    let (start, token) = start_for(&state, &attempt, now, &device)?;
    match state.store.reset_password(&id, &hash, &start, now).await? {
        Some((attempt, Step::SignedIn(session), revoked)) => {
            tracing::info!(user_id = %session.user_id, revoked_sessions = revoked, "password reset");
            signed_in(&state, attempt, &session, token, origin, now).await
        }
        _ => Err(email_steps::missing()),
    }
}

/// The first factors the instance offers, for `email` (the same for every address).
fn factors(settings: &AuthSettings, email: &str) -> Vec<SignInFactor> {
    let masked = mask_email(email);
    settings
        .first_factors
        .iter()
        .map(|&strategy| SignInFactor {
            strategy,
            safe_identifier: (strategy != Strategy::Password).then(|| masked.clone()),
        })
        .collect()
}

fn answer(
    settings: &AuthSettings,
    attempt: &SignInAttemptRecord,
    verification: Option<&VerificationRecord>,
    now: i64,
) -> SignInResponse {
    SignInResponse {
        sign_in: attempt.to_wire(&factors(settings, &attempt.identifier), verification, now),
        auth: None,
    }
}

async fn signed_in(
    state: &AppState,
    attempt: SignInAttemptRecord,
    session: &crate::store::SessionRecord,
    token: RefreshToken,
    origin: Origin,
    now: i64,
) -> ApiResult<Json<SignInResponse>> {
    let user = state
        .store
        .user(&session.user_id)
        .await?
        .ok_or_else(|| ApiError::internal("user vanished at sign-in"))?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "signed in");
    let auth = issue(state, &user, session, token, origin.0).await?;
    let settings = state.auth().await?;
    // What completed it (kept, used up, by the step's transaction).
    let verification = state.store.verification(&attempt.id).await?;
    let sign_in = attempt.to_wire(&factors(&settings, &attempt.identifier), verification.as_ref(), now);
    Ok(Json(SignInResponse { sign_in, auth: Some(auth) }))
}

/// The attempt and its verification; 404 when absent or abandoned.
async fn read(
    state: &AppState,
    id: &str,
    now: i64,
) -> ApiResult<(SignInAttemptRecord, Option<VerificationRecord>)> {
    let (attempt, verification) = state.store.sign_in_attempt(id).await?.ok_or_else(not_found)?;
    if attempt.abandoned(now) {
        return Err(not_found());
    }
    Ok((attempt, verification))
}

/// A session to start for the attempt's user should the step complete (an address without an account
/// never completes one; its session is never written).
fn start_for(
    state: &AppState,
    attempt: &SignInAttemptRecord,
    now: i64,
    device: &Device,
) -> ApiResult<(SessionStart, RefreshToken)> {
    start_for_user(state, attempt.user_id.as_deref().unwrap_or_default(), now, device)
}

fn start_for_user(
    state: &AppState,
    user_id: &str,
    now: i64,
    device: &Device,
) -> ApiResult<(SessionStart, RefreshToken)> {
    let (session, token) = new_session_and_token(state, user_id, now, device)?;
    Ok((SessionStart { session, token_hash: refresh::hash(&token) }, token))
}

fn new_session_and_token(
    state: &AppState,
    user_id: &str,
    now: i64,
    device: &Device,
) -> ApiResult<(crate::store::NewSession, RefreshToken)> {
    Ok((new_session(state, user_id, now, device)?, refresh::generate()?))
}

/// A first factor that is sent by email and on.
fn first_factor_sendable(settings: &AuthSettings, strategy: Strategy) -> ApiResult<()> {
    if strategy == Strategy::Password {
        return Err(email_steps::strategy_invalid("a password is attempted, not prepared"));
    }
    if !settings.allows(strategy) {
        return Err(email_steps::strategy_invalid("it is off on this instance"));
    }
    Ok(())
}

fn purpose(strategy: Strategy) -> Purpose {
    match strategy {
        Strategy::ResetPasswordEmailCode => Purpose::Reset,
        _ => Purpose::SignIn,
    }
}

fn recipient(email: &str, user: Option<&UserRecord>) -> Recipient {
    Recipient {
        email_address: email.to_owned(),
        email_address_id: user.and_then(|u| {
            let primary = u.email.as_deref() == Some(email);
            if primary {
                u.email_id.clone()
            } else {
                u.other_emails.iter().find(|e| e.email_address == email).map(|e| e.id.clone())
            }
        }),
        user_id: user.map(|u| u.id.clone()),
        has_account: user.is_some(),
    }
}

fn not_found() -> ApiError {
    email_steps::attempt_not_found("Sign-in")
}

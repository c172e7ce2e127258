//! A signed-in user's further email addresses (`/v1/client/me/email_addresses…`), as Clerk's
//! `user.createEmailAddress()`, `emailAddress.prepareVerification()` / `attemptVerification()` and
//! `destroy()`: added unverified, verified by a code or a link, then one of the user's addresses (see
//! `crate::store::email_addresses`). The primary address, if the sign-up did not verify it, is verified
//! the same way.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hallpass_protocol::{
    AttemptVerificationRequest, CreateEmailAddressRequest, DeletedObject, EmailAddress, ErrorCode,
    PrepareVerificationRequest, Strategy, id_prefix, paths,
};

use super::email_steps::{self, Purpose};
use super::session_auth::authenticate;
use crate::client_addr::ClientAddr;
use crate::email::outgoing::Recipient;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::CheckOutcome;
use crate::store::email_addresses::AddressOutcome;
use crate::validate;

/// `POST /v1/client/me/email_addresses`
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateEmailAddressRequest>,
) -> ApiResult<Json<EmailAddress>> {
    let session = authenticate(&state, &headers).await?;
    let email = validate::email(&req.email_address, "email_address")?;
    let id = new_id(id_prefix::EMAIL_ADDRESS)?;
    let now = state.now_ms();
    match state.store.add_pending_address(&session.user_id, &id, &email, now).await? {
        Ok(address) => Ok(Json(address.to_wire(None, now))),
        Err(_) => {
            Err(ApiError::unprocessable(ErrorCode::FormIdentifierExists, "You have this address already")
                .param("email_address"))
        }
    }
}

/// `GET /v1/client/me/email_addresses/{id}`
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailAddress>> {
    let session = authenticate(&state, &headers).await?;
    let (address, verification) = state
        .store
        .user_address(&session.user_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Email address"))?;
    Ok(Json(address.to_wire(verification.as_ref(), state.now_ms())))
}

/// `POST /v1/client/me/email_addresses/{id}/prepare_verification`
pub async fn prepare_verification(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PrepareVerificationRequest>,
) -> ApiResult<Json<EmailAddress>> {
    let session = authenticate(&state, &headers).await?;
    let settings = state.auth().await?;
    if !settings.verification_strategies().contains(&req.strategy) {
        return Err(email_steps::strategy_invalid("verify an address with email_code or email_link"));
    }
    let redirect_url = email_steps::redirect_url(&state, req.redirect_url)?;
    let (address, _) = state
        .store
        .user_address(&session.user_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Email address"))?;
    if address.verified_at.is_some() {
        return Err(email_steps::not_verified(CheckOutcome::AlreadyVerified));
    }
    email_steps::send_allowed(
        &state,
        addr,
        &address.email_address,
        paths::MY_EMAIL_ADDRESS_PREPARE_VERIFICATION,
    )
    .await?;
    let to = Recipient {
        email_address: address.email_address.clone(),
        email_address_id: Some(id.clone()),
        user_id: Some(session.user_id.clone()),
        has_account: true,
    };
    let (verification, email) =
        email_steps::prepare(&state, &settings, &id, req.strategy, Purpose::Verify, &to, redirect_url)?;
    let (address, stored) = state
        .store
        .prepare_address_verification(&session.user_id, &verification, &email)
        .await?
        .ok_or_else(|| email_steps::not_verified(CheckOutcome::AlreadyVerified))?;
    Ok(Json(address.to_wire(Some(&stored), state.now_ms())))
}

/// `POST /v1/client/me/email_addresses/{id}/attempt_verification`
pub async fn attempt_verification(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttemptVerificationRequest>,
) -> ApiResult<Json<EmailAddress>> {
    let session = authenticate(&state, &headers).await?;
    if !matches!(req.strategy, None | Some(Strategy::EmailCode)) {
        return Err(email_steps::strategy_invalid("an address attempts email_code; links are opened"));
    }
    let code = email_steps::code_param(req.code)?;
    let key = state.code_key.clone();
    let matches = |stored: &str| key.matches(&id, &code, stored);
    let now = state.now_ms();
    match state.store.verify_address_by_code(&session.user_id, &id, &matches, now).await? {
        None => Err(ApiError::not_found("Email address")),
        Some(AddressOutcome::Done(address)) => Ok(Json(address.to_wire(None, now))),
        Some(AddressOutcome::NotVerified(outcome)) => Err(email_steps::not_verified(outcome)),
        Some(AddressOutcome::Taken) => Err(ApiError::unprocessable(
            ErrorCode::FormIdentifierExists,
            "That email address is taken. Please try another.",
        )
        .param("email_address")),
        Some(AddressOutcome::Primary) => Err(ApiError::internal("primary address in a verification")),
    }
}

/// `DELETE /v1/client/me/email_addresses/{id}`: any address but the primary one.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    let session = authenticate(&state, &headers).await?;
    match state.store.remove_address(&session.user_id, &id, state.now_ms()).await? {
        None => Err(ApiError::not_found("Email address")),
        Some(AddressOutcome::Primary) => Err(ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "The primary email address cannot be removed",
        )),
        Some(_) => Ok(Json(DeletedObject { object: "email_address".into(), id, deleted: true })),
    }
}

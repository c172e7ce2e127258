//! What every step that sends a code or link shares (sign-up verification, sign-in first factors,
//! password reset, a new address): the send budgets, making the code or link and its email, where a
//! link may send the browser afterwards, and the error each verification outcome answers.

use axum::http::StatusCode;
use hallpass_protocol::{ErrorCode, Strategy, Verification, paths};

use crate::auth_settings::AuthSettings;
use crate::client_addr::ClientAddr;
use crate::email::outgoing::{Recipient, compose};
use crate::email::templates::Template;
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::retry_after_secs;
use crate::security_log;
use crate::state::AppState;
use crate::store::{CheckOutcome, NewEmail, NewVerification};
use crate::verification::{new_code, new_link_token};

/// Why a code or link is being sent (which template it gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Proving an address (a sign-up, an added address).
    Verify,
    /// Signing in.
    SignIn,
    /// Resetting the password.
    Reset,
}

/// One code or link to `email` requested from `addr`, against both send budgets (see
/// `crate::ratelimit`). Counts the same whether or not the address has an account.
pub async fn send_allowed(state: &AppState, addr: ClientAddr, email: &str, path: &str) -> ApiResult<()> {
    let decision = state
        .limits
        .email_send(email, &addr.limit_key(), state.now_ms())
        .await
        .map_err(ApiError::internal)?;
    decision.map_err(|(limit, ms)| {
        let secs = retry_after_secs(ms);
        security_log::rate_limited(addr, limit, path, secs);
        ApiError::rate_limited(secs)
    })
}

/// The code or link for `owner_id` by `strategy` and the email carrying it to `to`: what the store
/// writes on one transaction. A link's page sends the browser to `redirect_url` afterwards.
pub fn prepare(
    state: &AppState,
    auth: &AuthSettings,
    owner_id: &str,
    strategy: Strategy,
    purpose: Purpose,
    to: &Recipient,
    redirect_url: Option<String>,
) -> ApiResult<(NewVerification, NewEmail)> {
    let now = state.now_ms();
    let mut verification = NewVerification {
        owner_id: owner_id.to_owned(),
        strategy,
        code_hash: None,
        link_hash: None,
        redirect_url: None,
        email_address: to.email_address.clone(),
        now,
    };
    let email = match strategy {
        Strategy::EmailCode | Strategy::ResetPasswordEmailCode => {
            let code = new_code()?;
            verification.code_hash = Some(state.code_key.hash(owner_id, code.expose()));
            let template = match purpose {
                Purpose::Verify => Template::VerificationCode { code: code.expose() },
                Purpose::SignIn => Template::SignInCode { code: code.expose() },
                Purpose::Reset => Template::ResetPasswordCode { code: code.expose() },
            };
            compose(state, auth, &template, to)?
        }
        Strategy::EmailLink => {
            let (token, hash) = new_link_token()?;
            verification.link_hash = Some(hash);
            verification.redirect_url = redirect_url;
            let link = format!("{}?token={}", state.url_of(paths::VERIFY), token.expose());
            let template = match purpose {
                Purpose::SignIn => Template::SignInLink { link: &link },
                _ => Template::VerificationLink { link: &link },
            };
            compose(state, auth, &template, to)?
        }
        Strategy::Password => return Err(strategy_invalid("password is not sent by email")),
    };
    Ok((verification, email))
}

/// A link's `redirect_url`: absolute `http(s)`, on an allowed origin (so a link cannot send anyone
/// elsewhere), at most 2048 characters.
pub fn redirect_url(state: &AppState, url: Option<String>) -> ApiResult<Option<String>> {
    let Some(url) = url else { return Ok(None) };
    let invalid = || {
        ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "redirect_url must be an http(s) URL on an allowed origin",
        )
        .param("redirect_url")
    };
    if url.len() > 2048 {
        return Err(invalid());
    }
    let parsed = url::Url::parse(&url).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || !state.origins.allows(&parsed.origin().ascii_serialization())
    {
        return Err(invalid());
    }
    Ok(Some(parsed.to_string()))
}

/// 422 `form_param_value_invalid` on `strategy`.
pub fn strategy_invalid(why: &str) -> ApiError {
    ApiError::unprocessable(
        ErrorCode::FormParamValueInvalid,
        format!("This strategy cannot be used here: {why}"),
    )
    .param("strategy")
}

/// A code that is required and well-formed enough to try (anything is tried; only its presence is
/// checked here).
pub fn code_param(code: Option<String>) -> ApiResult<String> {
    match code {
        Some(c) if !c.trim().is_empty() => Ok(c.trim().to_owned()),
        _ => Err(ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter the code").param("code")),
    }
}

/// The answer to a verification that did not verify.
pub fn not_verified(outcome: CheckOutcome) -> ApiError {
    match outcome {
        CheckOutcome::Incorrect { attempts_left } => {
            ApiError::unprocessable(ErrorCode::FormCodeIncorrect, "Incorrect code")
                .with_long_message(format!(
                    "The code is incorrect. {attempts_left} more tries before a new code is needed."
                ))
                .param("code")
                .with_meta("attempts_left", attempts_left)
        }
        CheckOutcome::Expired => {
            ApiError::unprocessable(ErrorCode::VerificationExpired, "This code has expired")
                .with_long_message(format!(
                    "Codes and links work for {} minutes. Ask for a new one.",
                    Verification::LIFETIME_MS / 60_000
                ))
        }
        CheckOutcome::Failed => {
            ApiError::unprocessable(ErrorCode::VerificationFailed, "Too many failed attempts")
                .with_long_message("Too many incorrect codes. Ask for a new one.")
        }
        CheckOutcome::AlreadyVerified => {
            ApiError::unprocessable(ErrorCode::VerificationAlreadyVerified, "This code was used already")
        }
        CheckOutcome::Missing | CheckOutcome::Verified => missing(),
    }
}

/// 422 `verification_missing`.
pub fn missing() -> ApiError {
    ApiError::unprocessable(ErrorCode::VerificationMissing, "Nothing to verify yet")
        .with_long_message("Ask for a code (or link) first, with the strategy you are attempting.")
}

/// 404 for an attempt that is absent or given up.
pub fn attempt_not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::ResourceNotFound, format!("{what} not found"))
        .with_long_message("It does not exist, or was not completed in time: start again.")
}

//! Multi-step sign-up and sign-in, Clerk-shaped: the sign-up attempt (`sua_…`) that waits for its
//! email address to be verified, the sign-in attempt (`sia_…`) that waits for a first factor (an email
//! code, an email link, a password, or a password-reset code and then a new password), the
//! verification each step reports, and the requests that move them on.
//!
//! Every step answers the attempt as it now is ([`SignUpResponse`], [`SignInResponse`]); the step
//! that completes it also carries the new session — the fields of [`AuthResponse`] beside the attempt,
//! so a client that reads an `AuthResponse` from a completed answer reads it unchanged. A sign-up or
//! sign-in that needs no further step (a password, no verification required) completes in its first
//! request, as it always has.
//!
//! Codes are 6 digits, links carry a one-time token; both are valid for 10 minutes and used once, a
//! code for at most 5 tries. Neither is ever in an answer: they travel by email only.

use serde::{Deserialize, Serialize};

use crate::{AuthResponse, Metadata, Secret, Wire};

/// How a user proves who they are, or proves an email address is theirs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The account's password.
    #[default]
    Password,
    /// A 6-digit code sent to the email address.
    EmailCode,
    /// A one-time link sent to the email address; opening it (anywhere) completes the step in the tab
    /// that asked for it.
    EmailLink,
    /// A 6-digit code sent to the email address, then a new password (`reset_password`).
    ResetPasswordEmailCode,
}

/// Where a verification stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Sent; waiting for the code or the link.
    #[default]
    Unverified,
    /// The code was right, or the link was opened.
    Verified,
    /// Too many wrong codes: prepare a new one.
    Failed,
    /// Past `expire_at`: prepare a new one.
    Expired,
}

/// One verification of an email address or of a first factor (Clerk's `Verification`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Verification {
    /// Always `"verification"`.
    #[serde(default = "verification_object")]
    pub object: String,
    #[serde(default)]
    pub status: VerificationStatus,
    pub strategy: Strategy,
    /// Wrong codes tried so far (at most [`Verification::MAX_ATTEMPTS`]).
    #[serde(default)]
    pub attempts: u32,
    /// When the code or link stops working (ms since the epoch).
    #[serde(default)]
    pub expire_at: i64,
}

impl Verification {
    /// Tries a code gets.
    pub const MAX_ATTEMPTS: u32 = 5;
    /// How long a code or a link works, in milliseconds (10 minutes).
    pub const LIFETIME_MS: i64 = 10 * 60 * 1000;
    /// Digits in a code.
    pub const CODE_DIGITS: usize = 6;
}

fn verification_object() -> String {
    "verification".into()
}

/// Where a sign-up stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum SignUpStatus {
    /// Something is still needed: see `unverified_fields` (the email address must be verified).
    #[default]
    MissingRequirements,
    /// The user and their first session exist (`created_user_id`, `created_session_id`).
    Complete,
    /// Not completed before `abandon_at`.
    Abandoned,
}

/// The verifications of a sign-up, one per field that needs one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SignUpVerifications {
    /// `None` until `prepare_verification`.
    #[serde(default)]
    pub email_address: Option<Verification>,
}

/// A sign-up in progress (`sua_…`), as Clerk's `SignUp` resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct SignUpAttempt {
    /// Always `"sign_up_attempt"`.
    #[serde(default = "sign_up_object")]
    pub object: String,
    /// `sua_…`
    pub id: String,
    #[serde(default)]
    pub status: SignUpStatus,
    /// Normalised.
    pub email_address: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub unsafe_metadata: Metadata,
    /// Whether a password was given.
    #[serde(default)]
    pub password_enabled: bool,
    /// Fields the instance requires (`email_address`, and `password` when it must be set).
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// Required fields not given yet.
    #[serde(default)]
    pub missing_fields: Vec<String>,
    /// Fields given but not verified yet (`email_address`).
    #[serde(default)]
    pub unverified_fields: Vec<String>,
    #[serde(default)]
    pub verifications: SignUpVerifications,
    #[serde(default)]
    pub created_user_id: Option<String>,
    #[serde(default)]
    pub created_session_id: Option<String>,
    /// When an incomplete sign-up is given up (ms since the epoch).
    #[serde(default)]
    pub abandon_at: i64,
}

fn sign_up_object() -> String {
    "sign_up_attempt".into()
}

/// Where a sign-in stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum SignInStatus {
    /// Choose a first factor (`supported_first_factors`), prepare it if it is sent by email, attempt
    /// it.
    #[default]
    NeedsFirstFactor,
    /// The password-reset code was right: set the new password (`reset_password`).
    NeedsNewPassword,
    /// Signed in (`created_session_id`).
    Complete,
}

/// A first factor the sign-in may use (Clerk's `SignInFirstFactor`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SignInFactor {
    pub strategy: Strategy,
    /// The address a code or link goes to, partly masked (`a***@example.com`); `None` for `password`.
    #[serde(default)]
    pub safe_identifier: Option<String>,
}

/// A sign-in in progress (`sia_…`), as Clerk's `SignIn` resource.
///
/// It answers the same for an address with an account and one without (the factors offered, the
/// verification "sent"): which addresses have accounts is not told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SignInAttempt {
    /// Always `"sign_in_attempt"`.
    #[serde(default = "sign_in_object")]
    pub object: String,
    /// `sia_…`
    pub id: String,
    #[serde(default)]
    pub status: SignInStatus,
    /// The email address, normalised.
    pub identifier: String,
    /// The first factors enabled on the instance.
    #[serde(default)]
    pub supported_first_factors: Vec<SignInFactor>,
    /// The factor being verified, once prepared (or attempted, for `password`).
    #[serde(default)]
    pub first_factor_verification: Option<Verification>,
    #[serde(default)]
    pub created_session_id: Option<String>,
    /// When an incomplete sign-in is given up (ms since the epoch).
    #[serde(default)]
    pub abandon_at: i64,
}

fn sign_in_object() -> String {
    "sign_in_attempt".into()
}

/// What every sign-up step answers: the attempt, and once it is complete the session — the
/// [`AuthResponse`] fields beside `sign_up` (absent until then).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignUpResponse {
    pub sign_up: SignUpAttempt,
    #[serde(flatten)]
    pub auth: Option<AuthResponse>,
}

/// What every sign-in step answers: the attempt, and once it is complete the session — the
/// [`AuthResponse`] fields beside `sign_in` (absent until then).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInResponse {
    pub sign_in: SignInAttempt,
    #[serde(flatten)]
    pub auth: Option<AuthResponse>,
}

/// `POST …/sign_ups/{id}/prepare_verification`, `POST …/sign_ins/{id}/prepare_first_factor` and
/// `POST /v1/client/me/email_addresses/{id}/prepare_verification`: send a code or a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct PrepareVerificationRequest {
    /// `email_code` or `email_link` (and `reset_password_email_code` for a sign-in).
    pub strategy: Strategy,
    /// `email_link` only: where the link's page sends the browser that opened it, with
    /// `hallpass_status=verified|expired|failed` added (its origin must be an allowed origin).
    /// Without it, the page itself says what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// `POST …/sign_ups/{id}/attempt_verification`, `POST …/sign_ins/{id}/attempt_first_factor` and
/// `POST /v1/client/me/email_addresses/{id}/attempt_verification`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct AttemptVerificationRequest {
    /// Absent: the strategy that was prepared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// The 6-digit code (`email_code`, `reset_password_email_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The password (`password`, sign-in only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// `POST /v1/client/sign_ins/{id}/reset_password`: the new password, once the reset code was right.
/// Every other session of the user is revoked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct ResetPasswordRequest {
    pub password: Secret,
}

/// `POST /v1/client/me/email_addresses`: another address for the signed-in user, verified next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct CreateEmailAddressRequest {
    pub email_address: String,
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_completed_step_reads_as_an_auth_response_and_an_incomplete_one_has_no_session_fields() {
        let attempt = SignInAttempt {
            object: "sign_in_attempt".into(),
            id: "sia_1".into(),
            identifier: "a@b.co".into(),
            ..Default::default()
        };
        let pending = SignInResponse { sign_in: attempt.clone(), auth: None };
        let value = serde_json::to_value(&pending).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 1, "{value}");
        assert_eq!(value["sign_in"]["status"], "needs_first_factor");
        assert_eq!(value["sign_in"]["object"], "sign_in_attempt");

        let auth = AuthResponse { expires_in: 60, ..Default::default() };
        let done = SignInResponse {
            sign_in: SignInAttempt { status: SignInStatus::Complete, ..attempt },
            auth: Some(auth.clone()),
        };
        let value = serde_json::to_value(&done).unwrap();
        let read: AuthResponse = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(read, auth);
        assert_eq!(value["sign_in"]["status"], "complete");
    }

    #[test]
    fn strategies_and_statuses_are_snake_case() {
        for (s, name) in [
            (Strategy::Password, "password"),
            (Strategy::EmailCode, "email_code"),
            (Strategy::EmailLink, "email_link"),
            (Strategy::ResetPasswordEmailCode, "reset_password_email_code"),
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), name);
            assert_eq!(Strategy::parse(name), Some(s));
        }
        assert_eq!(serde_json::to_value(SignUpStatus::MissingRequirements).unwrap(), "missing_requirements");
        assert_eq!(serde_json::to_value(SignInStatus::NeedsNewPassword).unwrap(), "needs_new_password");
    }
}

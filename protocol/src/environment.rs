//! The instance's settings as clients read them (`GET /v1/environment`, Frontend API, no session
//! needed): which sign-in strategies are on, whether a sign-up must verify its email address, the
//! password rules, the instance's name — what the SDK and the drop-in UI show and ask for.

use serde::{Deserialize, Serialize};

use crate::{Strategy, Wire};

/// `GET /v1/environment`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Environment {
    /// Always `"environment"`.
    #[serde(default = "environment_object")]
    pub object: String,
    /// The name emails and pages are branded with.
    pub instance_name: String,
    #[serde(default)]
    pub sign_in: SignInSettings,
    #[serde(default)]
    pub sign_up: SignUpSettings,
    #[serde(default)]
    pub password: PasswordSettings,
    /// No mail server is configured: emails are kept in the development mailbox (Backend API
    /// `GET /v1/emails`) instead of being sent.
    #[serde(default)]
    pub development_mailbox: bool,
    /// Users may delete their own account (`DELETE /v1/client/me`; Clerk's
    /// `user_settings.actions.delete_self`). Off: the UI hides the action and the server answers
    /// 403 `delete_self_disabled`.
    #[serde(default)]
    pub delete_self_enabled: bool,
}

fn environment_object() -> String {
    "environment".into()
}

/// How users sign in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SignInSettings {
    /// The first factors that are on, in the instance's order of preference (`password`,
    /// `email_code`, `email_link`, `reset_password_email_code`).
    #[serde(default)]
    pub first_factors: Vec<Strategy>,
}

/// How users sign up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SignUpSettings {
    /// A sign-up completes only once its email address is verified (`missing_requirements` until
    /// then). Sign-ups without a password always verify it.
    #[serde(default)]
    pub requires_verified_email: bool,
    /// Whether a sign-up must set a password (false when a passwordless first factor is on).
    #[serde(default)]
    pub password_required: bool,
    /// How an email address can be verified (`email_code`, `email_link`).
    #[serde(default)]
    pub verification_strategies: Vec<Strategy>,
}

/// The password rules every new password meets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct PasswordSettings {
    /// In characters.
    #[serde(default)]
    pub min_length: u32,
    #[serde(default)]
    pub max_length: u32,
    /// Different characters a password needs at least.
    #[serde(default)]
    pub min_distinct_characters: u32,
    /// Common and breached passwords are refused (`form_password_pwned`).
    #[serde(default)]
    pub reject_common: bool,
}

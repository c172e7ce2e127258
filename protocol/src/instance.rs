//! The instance (Backend API `GET` / `PATCH /v1/instance`, after Clerk's `clerkClient.instance`):
//! what Clerk's `Instance` reports (its id, development or production, the allowed origins) and the
//! sign-up and sign-in settings an operator changes while the server runs — the instance name mail
//! is branded with, the first factors that are on, whether sign-ups verify their email address.
//! `GET /v1/environment` (`crate::environment`) is what clients read of the same settings.

use serde::{Deserialize, Serialize};

use crate::api::double_option;
use crate::{Strategy, Wire};

/// `GET /v1/instance`, and the answer to a `PATCH`: the settings in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Instance {
    /// Always `"instance"`.
    pub object: String,
    /// `ins_…`, the same for every replica (the webhook events' `instance_id`).
    pub id: String,
    /// `"development"` with an `sk_test_` secret key, `"production"` with an `sk_live_` one.
    pub environment_type: String,
    /// The origins the Frontend API answers (`HALLPASS_ALLOWED_ORIGINS`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The name emails and pages are branded with.
    pub instance_name: String,
    /// The first factors that are on, in the instance's order of preference.
    #[serde(default)]
    pub first_factors: Vec<Strategy>,
    /// A sign-up completes only once its email address is verified.
    #[serde(default)]
    pub sign_up_requires_verified_email: bool,
    /// Users may delete their own account from the Frontend API (`DELETE /v1/client/me`).
    #[serde(default)]
    pub delete_self_enabled: bool,
    /// Which settings were changed through this API; the others are the server's flags
    /// (`--instance-name`, `--sign-in-strategies`, `--sign-up-requires-verified-email`,
    /// `--delete-self-enabled`).
    #[serde(default)]
    pub overridden: Vec<String>,
    /// When a `PATCH` last changed the settings (0: never).
    #[serde(default)]
    pub updated_at: i64,
}

/// `PATCH /v1/instance`: absent fields stay as they are; `null` drops a change made here, so the
/// server's flag applies again. The result must leave the instance usable: a first factor to sign in
/// with (`password`, `email_code` or `email_link`), and `reset_password_email_code` only beside
/// `password`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstanceRequest {
    /// 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub instance_name: Option<Option<String>>,
    /// The whole list (it replaces the one in force), in order of preference.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub first_factors: Option<Option<Vec<Strategy>>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub sign_up_requires_verified_email: Option<Option<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub delete_self_enabled: Option<Option<bool>>,
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        let req: UpdateInstanceRequest =
            serde_json::from_str(r#"{"instance_name":null,"first_factors":["email_code"]}"#).unwrap();
        assert_eq!(req.instance_name, Some(None));
        assert_eq!(req.first_factors, Some(Some(vec![Strategy::EmailCode])));
        assert_eq!(req.sign_up_requires_verified_email, None);
        assert!(serde_json::from_str::<UpdateInstanceRequest>(r#"{"test_mode":true}"#).is_err());
        assert!(serde_json::from_str::<UpdateInstanceRequest>(r#"{"first_factors":["sms_code"]}"#).is_err());
    }
}

//! The instance's sign-up and sign-in settings: which first factors are on, whether sign-ups verify
//! their email address, whether users may delete their own account, the instance name mail is
//! branded with, the password rules. The flags give
//! them at start ([`AuthSettings::from_config`]); the Backend API changes them while the server runs
//! (`PATCH /v1/instance`, stored in the database, over the flags: [`AuthSettings::with_stored`]), and
//! `crate::instance_settings` keeps every replica on what is in force. One rule checks both
//! ([`first_factors`], [`instance_name`]): the instance always keeps a way to sign in.
//! [`AuthSettings::environment`] is what `GET /v1/environment` answers, so clients show only what the
//! server accepts, and the handlers ask the same struct.

use hallpass_protocol::{Environment, PasswordSettings, SignInSettings, SignUpSettings, Strategy};

use crate::config::Config;
use crate::store::instance_settings::StoredSettings;
use crate::validate;

/// Who sends the emails (`--email-delivery`, with `auto` resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Through the configured mail server.
    Smtp,
    /// Kept in the development mailbox, not sent.
    Development,
    /// Left to the app (the `email.created` event).
    App,
}

/// The settings (see the module doc).
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub instance_name: String,
    /// The first factors that are on, in the configured order.
    pub first_factors: Vec<Strategy>,
    pub requires_verified_email: bool,
    /// Users may delete their own account (`DELETE /v1/client/me`).
    pub delete_self_enabled: bool,
    pub delivery: Delivery,
}

impl AuthSettings {
    /// The settings `config` names; an unknown strategy, none at all, or a reset without passwords is
    /// a configuration error.
    pub fn from_config(config: &Config) -> Result<AuthSettings, String> {
        let mut named = Vec::new();
        for name in &config.sign_in_strategies {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            named.push(Strategy::parse(name).ok_or_else(|| {
                format!(
                    "HALLPASS_SIGN_IN_STRATEGIES: unknown strategy `{name}` (password, email_code, email_link, \
                     reset_password_email_code)"
                )
            })?);
        }
        let first_factors = first_factors(&named).map_err(|e| format!("HALLPASS_SIGN_IN_STRATEGIES: {e}"))?;
        let smtp_configured = config.smtp_url.is_some() || config.smtp_host.is_some();
        let delivery = match config.email_delivery.as_str() {
            "smtp" if !smtp_configured => {
                return Err(
                    "HALLPASS_EMAIL_DELIVERY=smtp needs HALLPASS_SMTP_URL or HALLPASS_SMTP_HOST".into()
                );
            }
            "smtp" => Delivery::Smtp,
            "development" => Delivery::Development,
            "app" => Delivery::App,
            _ if smtp_configured => Delivery::Smtp,
            _ => Delivery::Development,
        };
        if let Some(url) = &config.organization_invitation_url {
            let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err("HALLPASS_ORGANIZATION_INVITATION_URL: an absolute http(s) URL".into());
            }
        }
        let instance_name =
            instance_name(&config.instance_name).map_err(|e| format!("HALLPASS_INSTANCE_NAME: {e}"))?;
        Ok(AuthSettings {
            instance_name,
            first_factors,
            requires_verified_email: config.sign_up_requires_verified_email,
            delete_self_enabled: config.delete_self_enabled,
            delivery,
        })
    }

    /// These settings (the flags') with the changes `stored` holds over them. A stored value the rules
    /// refuse (written past the API) is left out, with a warning: the flag's value applies.
    pub fn with_stored(&self, stored: &StoredSettings) -> AuthSettings {
        let mut out = self.clone();
        if let Some(name) = &stored.instance_name {
            match instance_name(name) {
                Ok(name) => out.instance_name = name,
                Err(e) => tracing::warn!("stored instance_name ignored: {e}"),
            }
        }
        if let Some(list) = &stored.first_factors {
            match first_factors(list) {
                Ok(list) => out.first_factors = list,
                Err(e) => tracing::warn!("stored first_factors ignored: {e}"),
            }
        }
        if let Some(verified) = stored.sign_up_requires_verified_email {
            out.requires_verified_email = verified;
        }
        if let Some(delete_self) = stored.delete_self_enabled {
            out.delete_self_enabled = delete_self;
        }
        out
    }

    /// Whether users may sign in with `strategy`.
    pub fn allows(&self, strategy: Strategy) -> bool {
        self.first_factors.contains(&strategy)
    }

    /// A sign-up may leave the password out only when a first factor without one is on.
    pub fn password_required(&self) -> bool {
        !(self.allows(Strategy::EmailCode) || self.allows(Strategy::EmailLink))
    }

    /// How an email address can be verified: by code always, by link when links are on.
    pub fn verification_strategies(&self) -> Vec<Strategy> {
        let mut out = vec![Strategy::EmailCode];
        if self.allows(Strategy::EmailLink) {
            out.push(Strategy::EmailLink);
        }
        out
    }

    /// What `GET /v1/environment` answers.
    pub fn environment(&self) -> Environment {
        Environment {
            object: "environment".into(),
            instance_name: self.instance_name.clone(),
            sign_in: SignInSettings { first_factors: self.first_factors.clone() },
            sign_up: SignUpSettings {
                requires_verified_email: self.requires_verified_email,
                password_required: self.password_required(),
                verification_strategies: self.verification_strategies(),
            },
            password: PasswordSettings {
                min_length: validate::MIN_PASSWORD_CHARS as u32,
                max_length: validate::MAX_PASSWORD_CHARS as u32,
                min_distinct_characters: validate::MIN_DISTINCT_CHARS as u32,
                reject_common: true,
            },
            development_mailbox: self.delivery == Delivery::Development,
            delete_self_enabled: self.delete_self_enabled,
        }
    }
}

/// The first factors `list` names, each once, in its order — if they leave the instance usable: a
/// way to sign in (`password`, `email_code` or `email_link`), and a password reset only where there
/// are passwords. The one rule for the flags and the Backend API.
pub fn first_factors(list: &[Strategy]) -> Result<Vec<Strategy>, String> {
    let mut out = Vec::new();
    for &strategy in list {
        if !out.contains(&strategy) {
            out.push(strategy);
        }
    }
    let signs_in = |s| out.contains(&s);
    if ![Strategy::Password, Strategy::EmailCode, Strategy::EmailLink].into_iter().any(signs_in) {
        return Err("turn on password, email_code or email_link".into());
    }
    if signs_in(Strategy::ResetPasswordEmailCode) && !signs_in(Strategy::Password) {
        return Err("reset_password_email_code needs password".into());
    }
    Ok(out)
}

/// The instance name, trimmed: 1 to 100 characters, none of them a control character (it goes into
/// mail headers and subjects).
pub fn instance_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("1 to 100 characters, no control characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(edit: impl FnOnce(&mut Config)) -> Result<AuthSettings, String> {
        let mut config = Config::defaults();
        edit(&mut config);
        AuthSettings::from_config(&config)
    }

    #[test]
    fn defaults_turn_every_factor_on_and_keep_mail_in_the_development_mailbox() {
        let s = settings(|_| {}).unwrap();
        assert_eq!(
            s.first_factors,
            [Strategy::Password, Strategy::EmailCode, Strategy::EmailLink, Strategy::ResetPasswordEmailCode]
        );
        assert_eq!(s.delivery, Delivery::Development);
        assert!(!s.password_required());
        let env = s.environment();
        assert!(env.development_mailbox && !env.sign_up.requires_verified_email);
        assert!(env.delete_self_enabled);
        assert_eq!(env.password.min_length, 8);
        assert_eq!(env.instance_name, "Hallpass");
    }

    #[test]
    fn bad_strategy_lists_are_refused() {
        assert!(
            settings(|c| c.sign_in_strategies = vec!["sms_code".into()]).unwrap_err().contains("sms_code")
        );
        assert!(settings(|c| c.sign_in_strategies = vec![]).is_err());
        assert!(
            settings(|c| c.sign_in_strategies = vec!["email_code".into(), "reset_password_email_code".into()])
                .is_err()
        );
        let only_password = settings(|c| c.sign_in_strategies = vec!["password".into()]).unwrap();
        assert!(only_password.password_required());
        assert_eq!(only_password.verification_strategies(), [Strategy::EmailCode]);
    }

    #[test]
    fn stored_changes_apply_over_the_flags_and_invalid_ones_are_left_out() {
        let flags = settings(|_| {}).unwrap();
        let stored = StoredSettings {
            instance_name: Some("  Acme  ".into()),
            first_factors: Some(vec![Strategy::EmailCode, Strategy::EmailCode]),
            sign_up_requires_verified_email: Some(true),
            delete_self_enabled: Some(false),
            version: 1,
            updated_at: 1,
        };
        let s = flags.with_stored(&stored);
        assert_eq!(s.instance_name, "Acme");
        assert_eq!(s.first_factors, [Strategy::EmailCode]);
        assert!(s.requires_verified_email && !s.password_required());
        assert!(!s.delete_self_enabled && !s.environment().delete_self_enabled);
        assert_eq!(flags.with_stored(&StoredSettings::default()).first_factors, flags.first_factors);
        let broken = StoredSettings {
            first_factors: Some(vec![Strategy::ResetPasswordEmailCode]),
            instance_name: Some("a\nBcc: x".into()),
            ..StoredSettings::default()
        };
        let s = flags.with_stored(&broken);
        assert_eq!(
            (s.first_factors, s.instance_name),
            (flags.first_factors.clone(), flags.instance_name.clone())
        );
    }

    #[test]
    fn delivery_follows_the_smtp_configuration() {
        assert!(settings(|c| c.email_delivery = "smtp".into()).is_err());
        let smtp = settings(|c| c.smtp_host = Some("mail.example.com".into())).unwrap();
        assert_eq!(smtp.delivery, Delivery::Smtp);
        let app = settings(|c| c.email_delivery = "app".into()).unwrap();
        assert_eq!(app.delivery, Delivery::App);
    }
}

//! The instance's sign-up and sign-in settings, read from the configuration once at start and checked
//! there: which first factors are on, whether sign-ups verify their email address, the password
//! rules. [`AuthSettings::environment`] is what `GET /v1/environment` answers, so clients show only
//! what the server accepts, and the handlers ask the same struct.

use hallpass_protocol::{Environment, PasswordSettings, SignInSettings, SignUpSettings, Strategy};

use crate::config::Config;
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
    pub delivery: Delivery,
}

impl AuthSettings {
    /// The settings `config` names; an unknown strategy, none at all, or a reset without passwords is
    /// a configuration error.
    pub fn from_config(config: &Config) -> Result<AuthSettings, String> {
        let mut first_factors = Vec::new();
        for name in &config.sign_in_strategies {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let strategy = Strategy::parse(name).ok_or_else(|| {
                format!(
                    "HALLPASS_SIGN_IN_STRATEGIES: unknown strategy `{name}` (password, email_code, email_link, \
                     reset_password_email_code)"
                )
            })?;
            if !first_factors.contains(&strategy) {
                first_factors.push(strategy);
            }
        }
        let signs_in = |s| first_factors.contains(&s);
        if ![Strategy::Password, Strategy::EmailCode, Strategy::EmailLink].into_iter().any(signs_in) {
            return Err("HALLPASS_SIGN_IN_STRATEGIES: turn on password, email_code or email_link".into());
        }
        if signs_in(Strategy::ResetPasswordEmailCode) && !signs_in(Strategy::Password) {
            return Err("HALLPASS_SIGN_IN_STRATEGIES: reset_password_email_code needs password".into());
        }
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
        let instance_name = config.instance_name.trim().to_owned();
        if instance_name.is_empty() || instance_name.chars().count() > 100 {
            return Err("HALLPASS_INSTANCE_NAME: 1 to 100 characters".into());
        }
        Ok(AuthSettings {
            instance_name,
            first_factors,
            requires_verified_email: config.sign_up_requires_verified_email,
            delivery,
        })
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
        }
    }
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
    fn delivery_follows_the_smtp_configuration() {
        assert!(settings(|c| c.email_delivery = "smtp".into()).is_err());
        let smtp = settings(|c| c.smtp_host = Some("mail.example.com".into())).unwrap();
        assert_eq!(smtp.delivery, Delivery::Smtp);
        let app = settings(|c| c.email_delivery = "app".into()).unwrap();
        assert_eq!(app.delivery, Delivery::App);
    }
}

//! Composing an email: its template rendered for the instance, the data an app sending its own mail
//! needs (`email.created`), and the status the instance's delivery gives it — `queued` for the mail
//! worker, `development` for the mailbox, `app` for the app, or `suppressed` for an address without an
//! account (written all the same, so that asking costs the same either way; see
//! `crate::store::sign_in_attempts`).

use hallpass_protocol::{EmailStatus, Metadata, id_prefix};
use serde_json::json;

use super::templates::Template;
use crate::auth_settings::{AuthSettings, Delivery};
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::NewEmail;

/// Who an email is for.
#[derive(Clone, Debug, Default)]
pub struct Recipient {
    pub email_address: String,
    /// Their `idn_…`, when the address is a user's.
    pub email_address_id: Option<String>,
    pub user_id: Option<String>,
    /// `false`: no account has this address (the email is written `suppressed`, never sent).
    pub has_account: bool,
}

/// The email `template` makes for `to` under the settings `auth` in force, ready for the store to
/// write.
pub fn compose(
    state: &AppState,
    auth: &AuthSettings,
    template: &Template<'_>,
    to: &Recipient,
) -> Result<NewEmail, getrandom::Error> {
    let app = &auth.instance_name;
    let rendered = template.render(app);
    let mut data = json!({ "app": { "name": app } });
    match template {
        Template::VerificationCode { code }
        | Template::SignInCode { code }
        | Template::ResetPasswordCode { code } => {
            data["otp_code"] = json!(code);
        }
        Template::VerificationLink { link } | Template::SignInLink { link } => {
            data["magic_link"] = json!(link)
        }
        Template::Invitation { organization, inviter, role, accept_url } => {
            data["organization_name"] = json!(organization);
            data["inviter_name"] = json!(inviter);
            data["role"] = json!(role);
            data["action_url"] = json!(accept_url);
        }
    }
    if matches!(
        template,
        Template::VerificationCode { .. }
            | Template::SignInCode { .. }
            | Template::ResetPasswordCode { .. }
            | Template::VerificationLink { .. }
            | Template::SignInLink { .. }
    ) {
        data["expires_in_minutes"] = json!(hallpass_protocol::Verification::LIFETIME_MS / 60_000);
    }
    let status = if !to.has_account {
        EmailStatus::Suppressed
    } else {
        match auth.delivery {
            Delivery::Smtp => EmailStatus::Queued,
            Delivery::Development => EmailStatus::Development,
            Delivery::App => EmailStatus::App,
        }
    };
    let data: Metadata = match data {
        serde_json::Value::Object(map) => map,
        _ => Metadata::new(),
    };
    Ok(NewEmail {
        id: new_id(id_prefix::EMAIL)?,
        slug: template.slug(),
        from_email_name: app.clone(),
        to_email_address: to.email_address.clone(),
        email_address_id: to.email_address_id.clone(),
        user_id: to.user_id.clone(),
        subject: rendered.subject,
        body_html: rendered.html,
        body_text: rendered.text,
        data,
        status,
        now: state.now_ms(),
    })
}

/// The email of an invitation (`inviter`: the inviter's name, if known), linking to
/// `--organization-invitation-url` with `invitation_id` added when the instance sets one.
pub fn invitation(
    state: &AppState,
    auth: &AuthSettings,
    invitation: &crate::store::InvitationRecord,
    inviter: Option<&str>,
) -> Result<NewEmail, getrandom::Error> {
    let accept_url = state.config.organization_invitation_url.as_deref().and_then(|base| {
        let mut url = url::Url::parse(base).ok()?;
        url.query_pairs_mut().append_pair("invitation_id", &invitation.id);
        Some(url.to_string())
    });
    let template = Template::Invitation {
        organization: &invitation.organization_name,
        inviter,
        role: &invitation.role_key,
        accept_url: accept_url.as_deref(),
    };
    let to = Recipient {
        email_address: invitation.email_address.clone(),
        has_account: true,
        ..Default::default()
    };
    compose(state, auth, &template, &to)
}

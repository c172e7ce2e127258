//! Emails the server writes (Backend API `GET /v1/emails`, and the `email.created` webhook event):
//! verification codes and links, sign-in codes and links, password-reset codes, organization
//! invitations. Shaped as Clerk's `Email` resource, with the delivery state an operator needs.

use serde::{Deserialize, Serialize};

use crate::{Metadata, Wire};

/// What became of an email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting for the mail worker (a first try, or a retry at `next_attempt_at`).
    #[default]
    Queued,
    /// The mail server accepted it.
    Sent,
    /// Every try failed (`last_error`); given up.
    Failed,
    /// No mail server is configured: kept in the development mailbox, not sent.
    Development,
    /// The instance leaves sending to the app (it receives `email.created` and sends it itself).
    App,
    /// Not sent: the address has no account. Written so that such a request costs what a real one
    /// does (no enumeration); never in a webhook.
    Suppressed,
}

/// One email (Clerk's `Email`, Backend API only: the body holds live codes and links).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct Email {
    /// Always `"email"`.
    #[serde(default = "email_object")]
    pub object: String,
    /// `ema_…`
    pub id: String,
    /// Which template (`verification_code`, `verification_link`, `sign_in_code`, `sign_in_link`,
    /// `reset_password_code`, `organization_invitation`).
    pub slug: String,
    /// The sender's display name (the instance's name).
    pub from_email_name: String,
    pub to_email_address: String,
    /// The address's `idn_…`, when it belongs to a user.
    #[serde(default)]
    pub email_address_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    pub subject: String,
    /// HTML.
    pub body: String,
    /// Plain text.
    pub body_plain: String,
    #[serde(default)]
    pub status: EmailStatus,
    /// What the template was filled with (`otp_code`, `magic_link`, `app.name`, …), for an app that
    /// sends its own mail.
    #[serde(default)]
    pub data: Metadata,
    /// Whether Hallpass sends it (false when the app does, or in the development mailbox).
    #[serde(default)]
    pub delivered_by_hallpass: bool,
    /// Tries made so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure (the mail server's answer, a timeout, a refused connection).
    #[serde(default)]
    pub last_error: Option<String>,
    /// While `queued`: when the next try is due.
    #[serde(default)]
    pub next_attempt_at: Option<i64>,
    #[serde(default)]
    pub sent_at: Option<i64>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn email_object() -> String {
    "email".into()
}

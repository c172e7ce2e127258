//! Clerk-shaped resources: what the APIs return about users and sessions.
//!
//! `private_metadata` is a field of [`User`] only on the Backend API; the Frontend API never sends it
//! (the server serialises users for the browser with it absent, and it is skipped when `None`).

use serde::{Deserialize, Serialize};

use crate::Metadata;

/// A user account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Always `"user"`.
    #[serde(default = "user_object")]
    pub object: String,
    /// `user_…`
    pub id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// A URL for the user's avatar; empty when none is set.
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// Readable by the browser, writable by the Backend API only.
    #[serde(default)]
    pub public_metadata: Metadata,
    /// Readable and writable by the browser (the user may change it).
    #[serde(default)]
    pub unsafe_metadata: Metadata,
    /// Backend API only; never sent to the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default)]
    pub password_enabled: bool,
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn user_object() -> String {
    "user".into()
}

impl User {
    /// The primary email address, if any.
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses.iter().find(|e| e.id == id)
    }
}

/// One email address of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// Always `"email_address"`.
    #[serde(default = "email_object")]
    pub object: String,
    /// `idn_…`
    pub id: String,
    /// Normalised: trimmed, lower-case.
    pub email_address: String,
}

fn email_object() -> String {
    "email_address".into()
}

/// The lifecycle state of a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    #[default]
    Active,
    /// Signed out by its user.
    Ended,
    /// Revoked by the user from another session, by the Backend API, or after refresh-token reuse.
    Revoked,
    /// Idle timeout or absolute lifetime passed.
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Ended => "ended",
            SessionStatus::Revoked => "revoked",
            SessionStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => SessionStatus::Active,
            "ended" => SessionStatus::Ended,
            "revoked" => SessionStatus::Revoked,
            "expired" => SessionStatus::Expired,
            _ => return None,
        })
    }
}

/// A signed-in session of one user on one client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Always `"session"`.
    #[serde(default = "session_object")]
    pub object: String,
    /// `sess_…`
    pub id: String,
    pub user_id: String,
    #[serde(default)]
    pub status: SessionStatus,
    /// When the session ends if it stays idle (no refresh) until then.
    #[serde(default)]
    pub expire_at: i64,
    /// When the session ends whatever happens (absolute lifetime).
    #[serde(default)]
    pub abandon_at: i64,
    #[serde(default)]
    pub last_active_at: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn session_object() -> String {
    "session".into()
}

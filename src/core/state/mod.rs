//! The auth state (`useUser()` / `useAuth()`), its persisted snapshot, and the pure reducer that moves
//! it.
//!
//! [`SessionStore::apply`] takes an [`Event`] (something that happened: storage was read, the server
//! answered, another tab wrote, the app signed out) and returns the [`Effect`]s the platform must carry
//! out (persist, clear storage, notify listeners, schedule the next refresh, cancel requests). The store
//! does no I/O and reads no clock of its own — the device time comes with each call — so every
//! transition is tested natively.
//!
//! Here: [`AuthState`] and what it answers (ids, organization, `has()`). In [`stored`]: the
//! [`StoredSession`] snapshot in browser storage. In [`store`]: the [`SessionStore`] reducer, its
//! [`Event`]s and [`Effect`]s.

pub mod store;
pub mod stored;

use hallpass_protocol::{ErrorCode, OrgClaims, Session, User};

pub use store::{Effect, Event, SessionStore, check_auth_response};
pub use stored::{STORED_SESSION_VERSION, StoredSession};

/// Why the user is signed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignOutReason {
    /// The app called `signOut()` in this tab.
    SignedOut,
    /// Another tab signed out.
    OtherTab,
    /// The server said the session is over (revoked, ended, expired, refresh token invalid or reused).
    SessionEnded(ErrorCode),
}

/// The signed-in part of [`AuthState`].
#[derive(Clone, Debug, PartialEq)]
pub struct SignedInState {
    pub user: User,
    pub session: Session,
    /// The active organization, as the server decoded it beside the session token held (the SDK
    /// never reads tokens); `None` for the personal account.
    pub org: Option<OrgClaims>,
}

/// What `useAuth()` / `useUser()` show.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// Storage has not been read yet.
    Loading,
    SignedOut {
        /// `None` when there simply was no session.
        reason: Option<SignOutReason>,
    },
    SignedIn(Box<SignedInState>),
}

/// A check for [`AuthState::has`], like Clerk's `has({ role })` / `has({ permission })`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check<'a> {
    /// The active organization role is exactly this one (e.g. `org:admin`).
    Role(&'a str),
    /// The active organization grants this permission (e.g. `org:invoices:create`).
    Permission(&'a str),
}

impl AuthState {
    /// False only while storage has not been read.
    pub fn is_loaded(&self) -> bool {
        !matches!(self, AuthState::Loading)
    }

    pub fn is_signed_in(&self) -> bool {
        matches!(self, AuthState::SignedIn(_))
    }

    pub fn signed_in(&self) -> Option<&SignedInState> {
        match self {
            AuthState::SignedIn(s) => Some(s),
            _ => None,
        }
    }

    pub fn user(&self) -> Option<&User> {
        self.signed_in().map(|s| &s.user)
    }

    pub fn session(&self) -> Option<&Session> {
        self.signed_in().map(|s| &s.session)
    }

    pub fn user_id(&self) -> Option<&str> {
        self.user().map(|u| u.id.as_str())
    }

    pub fn session_id(&self) -> Option<&str> {
        self.session().map(|s| s.id.as_str())
    }

    fn org(&self) -> Option<&OrgClaims> {
        self.signed_in().and_then(|s| s.org.as_ref())
    }

    pub fn org_id(&self) -> Option<&str> {
        self.org().map(|o| o.id.as_str())
    }

    pub fn org_role(&self) -> Option<&str> {
        self.org().map(|o| o.rol.as_str()).filter(|r| !r.is_empty())
    }

    pub fn org_slug(&self) -> Option<&str> {
        self.org().map(|o| o.slg.as_str()).filter(|s| !s.is_empty())
    }

    /// The active organization's permissions; empty without one.
    pub fn org_permissions(&self) -> &[String] {
        self.org().map_or(&[], |o| o.per.as_slice())
    }

    /// Clerk's `has()`: false when signed out or without an active organization.
    ///
    /// ```
    /// use hallpass::core::state::{AuthState, Check};
    ///
    /// assert!(!AuthState::Loading.has(Check::Role("org:admin")));
    /// ```
    pub fn has(&self, check: Check<'_>) -> bool {
        match check {
            Check::Role(role) => self.org_role() == Some(role),
            Check::Permission(p) => self.org_permissions().iter().any(|x| x == p),
        }
    }

    pub fn sign_out_reason(&self) -> Option<SignOutReason> {
        match self {
            AuthState::SignedOut { reason } => *reason,
            _ => None,
        }
    }
}

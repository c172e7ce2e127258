//! [`SessionStore`]: the auth state plus the credentials behind it, and the pure reducer that moves
//! them ([`SessionStore::apply`]: an [`Event`] in, the [`Effect`]s for the platform out).

use hallpass_protocol::{AuthResponse, Secret, Session, User};

use super::{AuthState, STORED_SESSION_VERSION, SignOutReason, SignedInState, StoredSession};
use crate::core::clock::ServerClock;
use crate::core::error::Error;
use crate::core::schedule::{needs_refresh, timer_delay_ms, token_refresh_at};
use crate::core::token_cache::{CachedToken, TokenCache, TokenKey};

/// Checks a sign-in / sign-up / refresh answer before it is used. The platform calls it so that a
/// malformed 200 becomes an `invalid_response` error for the caller; [`SessionStore::apply`] ignores
/// such answers too.
pub fn check_auth_response(r: &AuthResponse) -> Result<(), Error> {
    let ok = !r.jwt.expose().is_empty()
        && !r.refresh_token.expose().is_empty()
        && !r.user.id.is_empty()
        && !r.session.id.is_empty()
        && r.session.user_id == r.user.id
        && r.server_time > 0;
    if ok { Ok(()) } else { Err(Error::invalid_response()) }
}

/// Something that happened, for [`SessionStore::apply`].
#[derive(Clone, Debug)]
pub enum Event {
    /// Storage was read at load: its session, if any parsed. The platform passes `None` for an empty
    /// key and also for data that did not parse (after clearing it and warning).
    LoadedFromStorage(Option<StoredSession>),
    /// Sign-in or sign-up succeeded. `sent_at_ms` / `received_at_ms` are the device times of the
    /// request and its answer (they teach the server clock).
    SignedIn { response: Box<AuthResponse>, sent_at_ms: i64, received_at_ms: i64 },
    /// A refresh succeeded.
    Refreshed { response: Box<AuthResponse>, sent_at_ms: i64, received_at_ms: i64 },
    /// A refresh failed.
    RefreshFailed(Error),
    /// Another tab wrote the shared session (BroadcastChannel or storage event): `None` when it signed
    /// out. Its refresh token may be newer than ours — using ours after that would look like reuse.
    FromOtherTab(Option<StoredSession>),
    /// Sign-out: local (`signOut()`, always succeeds) or decided elsewhere.
    SignedOut(SignOutReason),
}

/// What the platform must do after an [`Event`].
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Write this snapshot to storage (and tell other tabs).
    Persist(Box<StoredSession>),
    /// Remove every key the SDK wrote.
    ClearStorage,
    /// The visible state changed: notify listeners (a new snapshot object).
    Notify,
    /// Log this to the console as a warning.
    Warn(&'static str),
    /// Refresh now in the background (after load: revalidates the stored session, re-learns the
    /// server clock, picks up changes to the user).
    Revalidate,
    /// (Re)arm the proactive refresh timer.
    ScheduleRefresh { delay_ms: u32 },
    /// Drop the refresh timer and bump the single-flight epoch: in-flight results are dropped.
    CancelRequests,
}

/// The auth state plus the credentials behind it, moved only by [`apply`](Self::apply).
#[derive(Debug)]
pub struct SessionStore {
    state: AuthState,
    refresh_token: Option<Secret>,
    tokens: TokenCache,
    clock: ServerClock,
    min_remaining_ms: i64,
}

/// Lifetime assumed for a stored token written before its issue time was kept (the server's
/// default). The SDK never reads a token's claims: expiry and issue time come with every answer.
const ASSUMED_LIFETIME_MS: i64 = 60_000;

impl SessionStore {
    /// A store in [`AuthState::Loading`]. `min_remaining_ms` is the lifetime `getToken()` demands.
    pub fn new(min_remaining_ms: i64) -> Self {
        SessionStore {
            state: AuthState::Loading,
            refresh_token: None,
            tokens: TokenCache::new(),
            clock: ServerClock::new(),
            min_remaining_ms,
        }
    }

    pub fn state(&self) -> &AuthState {
        &self.state
    }

    pub fn server_clock(&self) -> &ServerClock {
        &self.clock
    }

    /// Learns the server clock from an answer that is not an [`AuthResponse`] (any response with
    /// the server-time header).
    pub fn observe_server_time(&mut self, sent_at_ms: i64, received_at_ms: i64, server_time_ms: i64) {
        self.clock.observe(sent_at_ms, received_at_ms, server_time_ms);
    }

    /// The cache of session and template tokens (templates are inserted by the platform).
    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// The key of template `name`'s tokens for the current session; `None` when signed out.
    pub fn template_key(&self, name: &str) -> Option<TokenKey> {
        let session_id = self.state.session_id()?.to_owned();
        Some(TokenKey { session_id, template: Some(name.to_owned()), organization_id: None })
    }

    /// The cached token for `key` if it has at least the minimum lifetime left at `device_now_ms`.
    pub fn token(&self, key: &TokenKey, device_now_ms: i64) -> Option<&str> {
        self.tokens.get(key, self.clock.to_server(device_now_ms), self.min_remaining_ms)
    }

    /// Caches a template token that the server minted `expires_in_s` seconds before its expiry (at
    /// `server_time_ms` on its clock, when the answer said). Ignored unless `key` belongs to the
    /// current session: one that ended meanwhile must not leave tokens behind.
    pub fn cache_template_token(
        &mut self,
        key: TokenKey,
        jwt: Secret,
        expires_in_s: i64,
        server_time_ms: Option<i64>,
        received_at_ms: i64,
    ) {
        if key.template.is_none() || self.state.session_id() != Some(key.session_id.as_str()) {
            return;
        }
        let issued = server_time_ms.unwrap_or_else(|| self.clock.to_server(received_at_ms));
        let expires = issued.saturating_add(expires_in_s.saturating_mul(1000));
        self.tokens.insert(key, CachedToken { jwt, expires_at_ms: expires, issued_at_ms: issued });
    }

    #[cfg(test)]
    pub fn tokens_mut(&mut self) -> &mut TokenCache {
        &mut self.tokens
    }

    /// The refresh token to present, while signed in.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(Secret::expose)
    }

    /// The cache key of the current session's own token.
    pub fn session_key(&self) -> Option<TokenKey> {
        self.state.session_id().map(TokenKey::session)
    }

    /// The session token if it has at least the minimum lifetime left at device time `device_now_ms`;
    /// `None` means `getToken()` must refresh.
    pub fn session_token(&self, device_now_ms: i64) -> Option<&str> {
        let key = self.session_key()?;
        self.tokens.get(&key, self.clock.to_server(device_now_ms), self.min_remaining_ms)
    }

    /// The session token with the last device instant at which [`session_token`](Self::session_token)
    /// still hands it out — so a caller can answer `getToken()` from a copy until then, with exactly
    /// the same verdict — and the device instant at which it expires (the session cookie's end).
    /// `None` when there is no token, which is when signed out. Valid until the next event or
    /// server-time sample, which may move them.
    pub fn session_token_until(&self) -> Option<(&str, i64, i64)> {
        let token = self.current_token()?;
        let last_server_ms = token.expires_at_ms.saturating_sub(self.min_remaining_ms);
        Some((
            token.jwt.expose(),
            self.clock.to_device(last_server_ms),
            self.clock.to_device(token.expires_at_ms),
        ))
    }

    /// True when a proactive refresh is due (the platform asks on `visibilitychange`, `focus`,
    /// `pageshow`, `online` and when its timer fires). False when signed out.
    pub fn refresh_due(&self, device_now_ms: i64) -> bool {
        match self.current_token() {
            Some(t) => needs_refresh(t, self.clock.to_server(device_now_ms), self.min_remaining_ms),
            None => self.state.is_signed_in(),
        }
    }

    fn current_token(&self) -> Option<&CachedToken> {
        self.tokens.entry(&self.session_key()?)
    }

    /// The snapshot to persist, while signed in.
    pub fn snapshot(&self, device_now_ms: i64) -> Option<StoredSession> {
        let s = self.state.signed_in()?;
        let token = self.current_token()?;
        Some(StoredSession {
            v: STORED_SESSION_VERSION,
            user: s.user.clone(),
            session: s.session.clone(),
            refresh_token: self.refresh_token.clone()?,
            jwt: token.jwt.clone(),
            jwt_expires_at: token.expires_at_ms,
            jwt_issued_at: token.issued_at_ms,
            server_offset_ms: self.clock.offset_ms(),
            saved_at: device_now_ms,
        })
    }

    /// Moves the state for `event` at device time `device_now_ms`; returns what the platform must do.
    pub fn apply(&mut self, event: Event, device_now_ms: i64) -> Vec<Effect> {
        let before = self.state.clone();
        let mut effects = Vec::new();
        match event {
            Event::LoadedFromStorage(None) => self.sign_out(None),
            Event::LoadedFromStorage(Some(stored)) => {
                if stored.is_usable() {
                    // Stale only if this store already holds newer credentials: nothing to redo then.
                    if self.adopt(stored) {
                        effects.push(Effect::Revalidate);
                    }
                } else {
                    self.sign_out(None);
                    effects.push(Effect::ClearStorage);
                    effects
                        .push(Effect::Warn("hallpass: the stored session was unusable and has been cleared"));
                }
            }
            Event::SignedIn { response, sent_at_ms, received_at_ms } => {
                if check_auth_response(&response).is_err() {
                    effects.push(Effect::Warn("hallpass: ignored a malformed sign-in answer"));
                } else {
                    self.clock.observe(sent_at_ms, received_at_ms, response.server_time);
                    self.tokens.clear();
                    self.accept(*response);
                    self.persist_and_schedule(device_now_ms, &mut effects);
                }
            }
            Event::Refreshed { response, sent_at_ms, received_at_ms } => {
                let same_session = self.state.session_id() == Some(response.session.id.as_str());
                if !same_session {
                    // Signed out (or switched session) meanwhile: the epoch guard should have caught it.
                } else if check_auth_response(&response).is_err() {
                    effects.push(Effect::Warn("hallpass: ignored a malformed refresh answer"));
                } else {
                    self.clock.observe(sent_at_ms, received_at_ms, response.server_time);
                    if self.accept(*response) {
                        self.persist_and_schedule(device_now_ms, &mut effects);
                    }
                }
            }
            Event::RefreshFailed(error) => {
                if error.ends_session() && self.state.is_signed_in() {
                    self.sign_out(Some(SignOutReason::SessionEnded(error.code)));
                    effects.push(Effect::CancelRequests);
                    effects.push(Effect::ClearStorage);
                }
            }
            Event::FromOtherTab(None) => {
                if self.state.is_signed_in() {
                    self.sign_out(Some(SignOutReason::OtherTab));
                    // No ClearStorage: the other tab did it, and a late echo must not wipe a session
                    // a third tab has signed in since.
                    effects.push(Effect::CancelRequests);
                }
            }
            Event::FromOtherTab(Some(stored)) => {
                if stored.is_usable() && self.is_newer(&stored) {
                    let switched = self.state.session_id() != Some(stored.session.id.as_str());
                    if switched {
                        effects.push(Effect::CancelRequests);
                    }
                    if self.adopt(stored)
                        && let Some(delay_ms) = self.refresh_delay(device_now_ms)
                    {
                        effects.push(Effect::ScheduleRefresh { delay_ms });
                    }
                }
            }
            Event::SignedOut(reason) => {
                self.sign_out(Some(reason));
                effects.push(Effect::CancelRequests);
                if reason != SignOutReason::OtherTab {
                    effects.push(Effect::ClearStorage);
                }
            }
        }
        if view_changed(&before, &self.state) {
            effects.push(Effect::Notify);
        }
        effects
    }

    fn sign_out(&mut self, reason: Option<SignOutReason>) {
        self.state = AuthState::SignedOut { reason };
        self.refresh_token = None;
        self.tokens.clear();
    }

    /// Takes a valid auth answer: credentials, token, user, session, organization. Returns false, and
    /// changes nothing, when the answer is stale: the cache already holds a longer-lived token for the
    /// session (another tab refreshed again meanwhile). Its refresh token is then older than ours and
    /// must not replace it — presenting it later would look like reuse and revoke the session.
    fn accept(&mut self, r: AuthResponse) -> bool {
        let issued = r.server_time;
        let expires = issued.saturating_add(i64::from(r.expires_in) * 1000);
        let token = CachedToken { jwt: r.jwt, expires_at_ms: expires, issued_at_ms: issued };
        if !self.tokens.insert(TokenKey::session(&r.session.id), token) && self.refresh_token.is_some() {
            return false;
        }
        self.refresh_token = Some(r.refresh_token);
        self.set_signed_in(r.user, r.session);
        true
    }

    /// Takes a usable stored session (from storage or another tab), unless it is stale (as in
    /// [`accept`](Self::accept)).
    fn adopt(&mut self, s: StoredSession) -> bool {
        if self.state.session_id() != Some(s.session.id.as_str()) {
            self.tokens.clear();
            self.refresh_token = None;
        }
        let issued = Some(s.jwt_issued_at)
            .filter(|&iat| iat > 0)
            .unwrap_or(s.jwt_expires_at.saturating_sub(ASSUMED_LIFETIME_MS));
        let token = CachedToken { jwt: s.jwt, expires_at_ms: s.jwt_expires_at, issued_at_ms: issued };
        if !self.tokens.insert(TokenKey::session(&s.session.id), token) && self.refresh_token.is_some() {
            return false;
        }
        // Same device, so another tab's offset is as good as ours — but not better than one this page
        // measured itself.
        if !self.clock.is_synced() {
            self.clock = ServerClock::with_offset(s.server_offset_ms);
        }
        self.refresh_token = Some(s.refresh_token);
        self.set_signed_in(s.user, s.session);
        true
    }

    fn set_signed_in(&mut self, user: User, session: Session) {
        // No organization until they exist (the active one will come with the session resource).
        self.state = AuthState::SignedIn(Box::new(SignedInState { user, session, org: None }));
    }

    /// True when another tab's snapshot is newer than what this tab holds: another session, or the
    /// same session with a token that lives longer (each refresh rotates the refresh token together
    /// with the session token, so the longer-lived token comes with the newer refresh token).
    fn is_newer(&self, s: &StoredSession) -> bool {
        if self.state.session_id() != Some(s.session.id.as_str()) {
            return true;
        }
        self.current_token().is_none_or(|t| s.jwt_expires_at > t.expires_at_ms)
    }

    fn refresh_delay(&self, device_now_ms: i64) -> Option<u32> {
        let at = token_refresh_at(self.current_token()?, self.min_remaining_ms);
        Some(timer_delay_ms(at, &self.clock, device_now_ms))
    }

    fn persist_and_schedule(&self, device_now_ms: i64, effects: &mut Vec<Effect>) {
        if let Some(s) = self.snapshot(device_now_ms) {
            effects.push(Effect::Persist(Box::new(s)));
        }
        if let Some(delay_ms) = self.refresh_delay(device_now_ms) {
            effects.push(Effect::ScheduleRefresh { delay_ms });
        }
    }
}

/// True when listeners should hear about the change from `a` to `b`. Signed-in states are compared by
/// ids, `updated_at`, status and organization rather than in full: in the browser, metadata is a JS
/// object that compares by identity, and every refresh brings a new one — comparing it would re-render
/// every app on every refresh.
fn view_changed(a: &AuthState, b: &AuthState) -> bool {
    match (a, b) {
        (AuthState::Loading, AuthState::Loading) => false,
        (AuthState::SignedOut { reason: x }, AuthState::SignedOut { reason: y }) => x != y,
        (AuthState::SignedIn(x), AuthState::SignedIn(y)) => {
            x.user.id != y.user.id
                || x.user.updated_at != y.user.updated_at
                || x.session.id != y.session.id
                || x.session.status != y.session.status
                || x.org != y.org
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::{Clock, FakeClock};
    use crate::core::schedule::DEFAULT_MIN_REMAINING_MS;
    use crate::core::state::Check;
    use crate::core::test_util::{auth_response, session, session_jwt, user};
    use hallpass_protocol::OrgClaims;
    use hallpass_protocol::{ErrorCode, SessionStatus};

    const T: i64 = 1_764_000_000_000;

    fn store() -> SessionStore {
        SessionStore::new(DEFAULT_MIN_REMAINING_MS)
    }

    fn signed_in(sid: &str, server_time: i64, rt: &str, sent: i64, received: i64) -> Event {
        Event::SignedIn {
            response: Box::new(auth_response(sid, server_time, rt)),
            sent_at_ms: sent,
            received_at_ms: received,
        }
    }

    fn refreshed(sid: &str, server_time: i64, rt: &str, sent: i64, received: i64) -> Event {
        Event::Refreshed {
            response: Box::new(auth_response(sid, server_time, rt)),
            sent_at_ms: sent,
            received_at_ms: received,
        }
    }

    fn persisted(effects: &[Effect]) -> StoredSession {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::Persist(s) => Some((**s).clone()),
                _ => None,
            })
            .expect("a Persist effect")
    }

    fn stored(sid: &str, rt: &str, iat_s: i64, exp_s: i64) -> StoredSession {
        StoredSession {
            v: STORED_SESSION_VERSION,
            user: user("user_1", 1),
            session: session(sid, "user_1"),
            refresh_token: rt.into(),
            jwt: session_jwt(sid, iat_s, exp_s).into(),
            jwt_expires_at: exp_s * 1000,
            jwt_issued_at: 0,
            server_offset_ms: 0,
            saved_at: T,
        }
    }

    #[test]
    fn load_without_a_session_signs_out_and_notifies() {
        let mut s = store();
        assert!(!s.state().is_loaded());
        assert_eq!(s.apply(Event::LoadedFromStorage(None), T), vec![Effect::Notify]);
        assert_eq!(*s.state(), AuthState::SignedOut { reason: None });
        assert!(s.state().is_loaded() && !s.state().is_signed_in());
        assert_eq!(s.session_token(T), None);
        assert!(!s.refresh_due(T));
    }

    #[test]
    fn load_with_a_session_is_signed_in_at_once_and_revalidates() {
        let mut s = store();
        let effects =
            s.apply(Event::LoadedFromStorage(Some(stored("sess_1", "rt1", T / 1000, T / 1000 + 60))), T);
        assert_eq!(effects, vec![Effect::Revalidate, Effect::Notify]);
        assert_eq!(s.state().user_id(), Some("user_1"));
        assert_eq!(s.state().session_id(), Some("sess_1"));
        assert_eq!(s.refresh_token(), Some("rt1"));
        assert!(s.session_token(T).is_some());
        assert_eq!(s.session_token(T + 50_001), None, "less than the minimum left");
    }

    #[test]
    fn the_hand_out_deadline_agrees_with_session_token_on_any_clock() {
        let mut s = store();
        assert_eq!(s.session_token_until(), None);
        s.apply(Event::LoadedFromStorage(None), T);
        // The device clock is an hour slow; the server says so.
        let device = FakeClock::new(T - 3_600_000);
        let sent = device.now_ms();
        s.apply(signed_in("sess_1", T, "rt1", sent, sent), sent);
        let (jwt, until, expires) =
            s.session_token_until().map(|(j, u, e)| (j.to_owned(), u, e)).expect("a token");
        assert_eq!(s.session_token(until), Some(jwt.as_str()));
        assert_eq!(s.session_token(until + 1), None);
        assert!(until < T, "the deadline is on the device's clock");
        assert_eq!(
            expires - until,
            DEFAULT_MIN_REMAINING_MS,
            "expiry is the deadline plus the minimum lifetime"
        );
        s.apply(Event::SignedOut(SignOutReason::SignedOut), until);
        assert_eq!(s.session_token_until(), None);
    }

    #[test]
    fn template_tokens_are_cached_per_session_and_template_on_the_server_clock() {
        let mut s = store();
        assert_eq!(s.template_key("supabase"), None, "signed out");
        s.apply(Event::LoadedFromStorage(None), T);
        // The device clock is an hour fast.
        let device = T + 3_600_000;
        s.apply(signed_in("sess_1", T, "rt1", device, device), device);
        let key = s.template_key("supabase").expect("signed in");
        assert_eq!(key.template.as_deref(), Some("supabase"));
        assert_eq!(s.token(&key, device), None);
        s.cache_template_token(key.clone(), "tmpl".into(), 60, Some(T), device);
        assert_eq!(s.token(&key, device), Some("tmpl"));
        assert_eq!(s.token(&key, device + 50_000), Some("tmpl"), "10 s left at the minimum");
        assert_eq!(s.token(&key, device + 50_001), None);
        assert_eq!(s.token(&s.template_key("other").expect("key"), device), None, "per template");
        assert_eq!(s.session_token(device).map(|t| t == "tmpl"), Some(false), "apart from the session's");
        // A token for a session that is no longer current is dropped.
        let stale = TokenKey { session_id: "sess_0".into(), ..key.clone() };
        s.cache_template_token(stale.clone(), "old".into(), 60, Some(T), device);
        assert_eq!(s.token(&stale, device), None);
        // Sign-out forgets template tokens.
        s.apply(Event::SignedOut(SignOutReason::SignedOut), device);
        assert_eq!(s.token(&key, device), None);
    }

    #[test]
    fn unusable_storage_is_cleared_with_a_warning() {
        let mut bad = vec![];
        let mut v2 = stored("sess_1", "rt", 1, 61);
        v2.v = 2;
        bad.push(v2);
        bad.push(stored("sess_1", "", 1, 61));
        let mut other_user = stored("sess_1", "rt", 1, 61);
        other_user.session.user_id = "user_2".into();
        bad.push(other_user);
        let mut revoked = stored("sess_1", "rt", 1, 61);
        revoked.session.status = SessionStatus::Revoked;
        bad.push(revoked);
        for b in bad {
            let mut s = store();
            let effects = s.apply(Event::LoadedFromStorage(Some(b)), T);
            assert!(effects.contains(&Effect::ClearStorage));
            assert!(effects.iter().any(|e| matches!(e, Effect::Warn(_))));
            assert_eq!(*s.state(), AuthState::SignedOut { reason: None });
        }
    }

    #[test]
    fn sign_in_persists_schedules_and_learns_the_server_clock() {
        // The device clock is an hour fast.
        let device = FakeClock::new(T + 3_600_000);
        let mut s = store();
        s.apply(Event::LoadedFromStorage(None), device.now_ms());
        let sent = device.now_ms();
        device.advance(200);
        let effects = s.apply(signed_in("sess_1", T + 100, "rt1", sent, device.now_ms()), device.now_ms());
        let snap = persisted(&effects);
        assert_eq!(snap.refresh_token.expose(), "rt1");
        assert_eq!(snap.jwt_expires_at, T + 100 + 60_000);
        assert_eq!(snap.server_offset_ms, -3_600_000);
        assert_eq!(snap.saved_at, device.now_ms());
        // 60 s token, 10 s minimum: refresh 40 s after issue, on the server's clock; the server issued
        // it half a round trip (100 ms) before the answer arrived.
        assert!(effects.contains(&Effect::ScheduleRefresh { delay_ms: 39_900 }), "{effects:?}");
        assert!(effects.contains(&Effect::Notify));
        // The wrong device clock changes nothing: the token is fresh now and due for refresh in 40 s.
        assert!(s.session_token(device.now_ms()).is_some());
        assert!(!s.refresh_due(device.now_ms()));
        device.advance(40_000);
        assert!(s.refresh_due(device.now_ms()));
        assert!(s.session_token(device.now_ms()).is_some());
        device.advance(10_001);
        assert_eq!(s.session_token(device.now_ms()), None);
    }

    #[test]
    fn has_answers_from_the_active_organization() {
        // Nothing sets an organization yet (the server has none); the state that will hold one is
        // built here directly.
        let org = OrgClaims {
            id: "org_1".into(),
            slg: "acme".into(),
            rol: "org:admin".into(),
            per: vec!["org:invoices:create".into()],
        };
        let signed_in = |org| {
            AuthState::SignedIn(Box::new(SignedInState {
                user: user("user_1", 1),
                session: session("s", "user_1"),
                org,
            }))
        };
        let st = signed_in(Some(org));
        assert_eq!(
            (st.org_id(), st.org_role(), st.org_slug()),
            (Some("org_1"), Some("org:admin"), Some("acme"))
        );
        assert!(st.has(Check::Role("org:admin")) && !st.has(Check::Role("org:member")));
        assert!(st.has(Check::Permission("org:invoices:create")) && !st.has(Check::Permission("org:x")));
        let none = signed_in(None);
        assert_eq!((none.org_id(), none.org_role(), none.org_slug()), (None, None, None));
        assert!(!none.has(Check::Role("")) && !none.has(Check::Permission("")));
        assert!(!AuthState::SignedOut { reason: None }.has(Check::Permission("x")));
    }

    #[test]
    fn refresh_rotates_credentials_and_notifies_only_on_visible_change() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        let effects = s.apply(refreshed("sess_1", T + 40_000, "rt2", T + 40_000, T + 40_000), T + 40_000);
        assert_eq!(s.refresh_token(), Some("rt2"));
        assert_eq!(persisted(&effects).refresh_token.expose(), "rt2");
        assert!(effects.contains(&Effect::ScheduleRefresh { delay_ms: 40_000 }));
        assert!(!effects.contains(&Effect::Notify), "nothing visible changed");
        // A user update is a visible change.
        let mut r = auth_response("sess_1", T + 120_000, "rt4");
        r.user.updated_at = 99;
        let effects = s.apply(
            Event::Refreshed { response: Box::new(r), sent_at_ms: T + 120_000, received_at_ms: T + 120_000 },
            T + 120_000,
        );
        assert!(effects.contains(&Effect::Notify));
    }

    #[test]
    fn a_refresh_for_another_session_or_after_sign_out_is_ignored() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        assert!(s.apply(refreshed("sess_other", T + 1, "rtx", T, T), T).is_empty());
        assert_eq!(s.refresh_token(), Some("rt1"));
        s.apply(Event::SignedOut(SignOutReason::SignedOut), T);
        assert!(s.apply(refreshed("sess_1", T + 1, "rt2", T, T), T).is_empty());
        assert!(!s.state().is_signed_in());
        assert_eq!(s.refresh_token(), None);
    }

    #[test]
    fn malformed_answers_are_ignored_with_a_warning() {
        let mut s = store();
        s.apply(Event::LoadedFromStorage(None), T);
        let mut r = auth_response("sess_1", T, "");
        let effects =
            s.apply(Event::SignedIn { response: Box::new(r.clone()), sent_at_ms: T, received_at_ms: T }, T);
        assert!(matches!(effects.as_slice(), [Effect::Warn(_)]));
        assert!(!s.state().is_signed_in());
        r.refresh_token = "rt".into();
        r.session.user_id = "user_2".into();
        assert_eq!(check_auth_response(&r), Err(Error::invalid_response()));
        r.session.user_id = "user_1".into();
        assert_eq!(check_auth_response(&r), Ok(()));
    }

    #[test]
    fn only_authoritative_refresh_failures_sign_out() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        for keep in [
            Error::network(),
            Error::offline(),
            crate::core::error::classify(503, None, None),
            crate::core::error::classify(429, None, Some("5")),
            crate::core::error::classify(401, None, None),
        ] {
            assert!(s.apply(Event::RefreshFailed(keep), T).is_empty());
            assert!(s.state().is_signed_in());
        }
        let revoked = Error::new(ErrorCode::RefreshTokenReused, "reused").with_status(401);
        let effects = s.apply(Event::RefreshFailed(revoked), T);
        assert_eq!(effects, vec![Effect::CancelRequests, Effect::ClearStorage, Effect::Notify]);
        assert_eq!(
            s.state().sign_out_reason(),
            Some(SignOutReason::SessionEnded(ErrorCode::RefreshTokenReused))
        );
        assert_eq!(s.refresh_token(), None);
        assert!(s.tokens().is_empty());
        // Already signed out: nothing more to do.
        let again = Error::new(ErrorCode::SessionRevoked, "x");
        assert!(s.apply(Event::RefreshFailed(again), T).is_empty());
    }

    #[test]
    fn sign_out_always_succeeds_and_wipes() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        s.tokens_mut().insert(
            TokenKey { template: Some("supabase".into()), ..TokenKey::session("sess_1") },
            CachedToken { jwt: "x".into(), expires_at_ms: T + 60_000, issued_at_ms: T },
        );
        let effects = s.apply(Event::SignedOut(SignOutReason::SignedOut), T);
        assert_eq!(effects, vec![Effect::CancelRequests, Effect::ClearStorage, Effect::Notify]);
        assert!(s.tokens().is_empty() && s.refresh_token().is_none());
        // Idempotent: storage is wiped again, listeners are not bothered.
        let effects = s.apply(Event::SignedOut(SignOutReason::SignedOut), T);
        assert_eq!(effects, vec![Effect::CancelRequests, Effect::ClearStorage]);
        assert!(s.snapshot(T).is_none());
    }

    #[test]
    fn other_tabs_share_the_newest_credentials() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        // Another tab refreshed: newer token and refresh token.
        let newer = stored("sess_1", "rt2", T / 1000 + 40, T / 1000 + 100);
        let effects = s.apply(Event::FromOtherTab(Some(newer.clone())), T + 41_000);
        assert_eq!(s.refresh_token(), Some("rt2"));
        assert_eq!(
            s.tokens().entry(&TokenKey::session("sess_1")).map(|t| t.expires_at_ms),
            Some(T + 100_000)
        );
        assert!(effects.iter().any(|e| matches!(e, Effect::ScheduleRefresh { .. })));
        assert!(!effects.iter().any(|e| matches!(e, Effect::Persist(_))), "the other tab persisted already");
        // A late echo of an older snapshot changes nothing.
        let older = stored("sess_1", "rt1", T / 1000, T / 1000 + 60);
        assert!(s.apply(Event::FromOtherTab(Some(older)), T + 42_000).is_empty());
        assert_eq!(s.refresh_token(), Some("rt2"));
        // Our own refresh answer that arrives after the broadcast is an older generation: it must
        // change nothing, above all not the refresh token (presenting an old one would be reuse).
        let effects = s.apply(refreshed("sess_1", T + 30_000, "rt_old", T, T), T + 43_000);
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(s.refresh_token(), Some("rt2"));
        assert_eq!(
            s.tokens().entry(&TokenKey::session("sess_1")).map(|t| t.expires_at_ms),
            Some(T + 100_000)
        );
        // Storage read again with the same snapshot: nothing to do.
        assert!(s.apply(Event::LoadedFromStorage(Some(newer)), T + 44_000).is_empty());
        // Another tab signed in as someone else.
        let mut other = stored("sess_2", "rtB", T / 1000 + 50, T / 1000 + 110);
        other.user.id = "user_2".into();
        other.session.user_id = "user_2".into();
        let effects = s.apply(Event::FromOtherTab(Some(other)), T + 50_000);
        assert!(effects.contains(&Effect::CancelRequests) && effects.contains(&Effect::Notify));
        assert_eq!(s.state().user_id(), Some("user_2"));
        assert_eq!(s.tokens().entry(&TokenKey::session("sess_1")), None);
        // Another tab signed out: follow without wiping storage.
        let effects = s.apply(Event::FromOtherTab(None), T + 60_000);
        assert_eq!(effects, vec![Effect::CancelRequests, Effect::Notify]);
        assert_eq!(s.state().sign_out_reason(), Some(SignOutReason::OtherTab));
        assert!(s.apply(Event::FromOtherTab(None), T + 61_000).is_empty());
    }

    #[test]
    fn snapshot_round_trips_through_json_in_snake_case() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T - 100, T + 100), T + 100);
        let snap = s.snapshot(T + 100).unwrap();
        let json = serde_json::to_value(&snap).unwrap();
        for field in [
            "v",
            "user",
            "session",
            "refresh_token",
            "jwt",
            "jwt_expires_at",
            "jwt_issued_at",
            "server_offset_ms",
            "saved_at",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        let back: StoredSession = serde_json::from_value(json).unwrap();
        assert_eq!(back, snap);
        // A fresh tab loads it and shows the same thing.
        let mut t = store();
        t.apply(Event::LoadedFromStorage(Some(back)), T + 200);
        assert_eq!(t.state(), s.state());
        assert_eq!(t.session_token(T + 200), s.session_token(T + 200));
        let dbg = format!("{snap:?} {s:?}");
        assert!(!dbg.contains("rt1") && !dbg.contains(snap.jwt.expose()), "secrets never reach Debug");
    }

    #[test]
    fn a_stored_session_without_its_issue_time_assumes_the_default_lifetime() {
        let mut st = stored("sess_1", "rt1", 0, 0);
        st.jwt = "garbage".into();
        st.jwt_expires_at = T + 30_000;
        let mut s = store();
        let effects = s.apply(Event::LoadedFromStorage(Some(st)), T);
        assert!(effects.contains(&Effect::Revalidate));
        assert_eq!(s.tokens().entry(&TokenKey::session("sess_1")).map(|t| t.issued_at_ms), Some(T - 30_000));
    }

    /// Random event sequences: nothing panics, and the credentials always stay consistent — signed in
    /// exactly when a refresh token is held, and the refresh token always belongs to the cached session
    /// token (here both are named after the token's expiry, so a mismatch shows).
    #[test]
    fn random_event_sequences_keep_credentials_consistent() {
        let mut x: u32 = 0xdead_beef;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _round in 0..300 {
            let mut s = store();
            for _ in 0..40 {
                let sid = if next() % 3 == 0 { "sess_2" } else { "sess_1" };
                let server_time = T + i64::from(next() % 200) * 1_000;
                let rt = format!("rt{}", server_time + 60_000);
                let event = match next() % 8 {
                    0 => signed_in(sid, server_time, &rt, T, T + 50),
                    1 | 2 => refreshed(sid, server_time, &rt, T, T + 50),
                    3 => Event::RefreshFailed(match next() % 4 {
                        0 => Error::network(),
                        1 => crate::core::error::classify(503, None, None),
                        2 => crate::core::error::classify(401, None, None),
                        _ => Error::new(ErrorCode::SessionRevoked, "revoked").with_status(401),
                    }),
                    4 => {
                        let mut st = stored(sid, "", server_time / 1000, server_time / 1000 + 60);
                        st.refresh_token = format!("rt{}", st.jwt_expires_at).into();
                        if next() % 5 == 0 {
                            st.v = 0;
                        }
                        Event::FromOtherTab(Some(st))
                    }
                    5 => Event::FromOtherTab(None),
                    6 => {
                        let mut st = stored(sid, "", server_time / 1000, server_time / 1000 + 60);
                        st.refresh_token = format!("rt{}", st.jwt_expires_at).into();
                        Event::LoadedFromStorage(if next() % 4 == 0 { None } else { Some(st) })
                    }
                    _ => Event::SignedOut(SignOutReason::SignedOut),
                };
                let effects = s.apply(event, T + i64::from(next() % 300) * 1_000);
                assert_eq!(s.state().is_signed_in(), s.refresh_token().is_some());
                if s.state().is_signed_in() {
                    let token = s.tokens().entry(&s.session_key().unwrap()).unwrap();
                    assert_eq!(s.refresh_token().unwrap(), format!("rt{}", token.expires_at_ms));
                } else {
                    assert!(s.tokens().is_empty());
                    assert!(
                        !effects
                            .iter()
                            .any(|e| matches!(e, Effect::Persist(_) | Effect::ScheduleRefresh { .. }))
                    );
                }
                if effects.contains(&Effect::ClearStorage) {
                    assert!(!s.state().is_signed_in());
                }
                for e in &effects {
                    if let Effect::Persist(p) = e {
                        assert!(p.is_usable());
                        assert_eq!(p.refresh_token.expose(), format!("rt{}", p.jwt_expires_at));
                    }
                }
            }
        }
    }
}

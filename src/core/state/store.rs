//! [`SessionStore`]: the auth state plus the credentials behind it, and the pure reducer that moves
//! them ([`SessionStore::apply`]: an [`Event`] in, the [`Effect`]s for the platform out).

use hallpass_protocol::{AuthResponse, OrgClaims, Secret, Session, SessionTokenResponse, User};

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
    /// The server set the session's active organization (or handed out a fresh token for it) and
    /// answered a session token carrying it (`setActive`).
    OrganizationSet { response: Box<SessionTokenResponse>, sent_at_ms: i64, received_at_ms: i64 },
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

    /// The key of a minted token for the current session: template `template`'s, or else a session
    /// token for `organization_id` (an id or slug; `""` for none). `None` when signed out.
    pub fn minted_key(&self, template: Option<String>, organization_id: Option<String>) -> Option<TokenKey> {
        let session_id = self.state.session_id()?.to_owned();
        Some(TokenKey { session_id, template, organization_id })
    }

    /// The cached token for `key` if it has at least the minimum lifetime left at `device_now_ms`.
    pub fn token(&self, key: &TokenKey, device_now_ms: i64) -> Option<&str> {
        self.tokens.get(key, self.clock.to_server(device_now_ms), self.min_remaining_ms)
    }

    /// Caches a minted token (a template's, or one for another organization) that the server minted `expires_in_s` seconds before its expiry (at
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
        if key.is_session() || self.state.session_id() != Some(key.session_id.as_str()) {
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
            organization: s.org.clone(),
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
                    self.accept(*response, false);
                    self.persist_and_schedule(device_now_ms, &mut effects);
                }
            }
            Event::Refreshed { response, sent_at_ms, received_at_ms } => {
                self.refreshed(*response, (sent_at_ms, received_at_ms), false, device_now_ms, &mut effects);
            }
            Event::OrganizationSet { response, sent_at_ms, received_at_ms } => {
                // The same as a refresh that keeps the user and the refresh token — except that a
                // tie replaces: the answer is this tab's latest word on the organization, and a
                // token minted in the same millisecond may carry the old one.
                if let (Some(s), Some(refresh_token)) = (self.state.signed_in(), self.refresh_token.clone()) {
                    let r = *response;
                    let auth = AuthResponse {
                        user: s.user.clone(),
                        session: r.session,
                        jwt: r.jwt,
                        expires_in: r.expires_in,
                        refresh_token,
                        server_time: r.server_time,
                        organization: r.organization,
                    };
                    self.refreshed(auth, (sent_at_ms, received_at_ms), true, device_now_ms, &mut effects);
                }
            }
            Event::RefreshFailed(error) => {
                if let Some(code) = error.ending()
                    && self.state.is_signed_in()
                {
                    self.sign_out(Some(SignOutReason::SessionEnded(code)));
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

    /// A refresh answer (or a `setActive` one, `tie_wins`), sent and received at `times`.
    fn refreshed(
        &mut self,
        response: AuthResponse,
        times: (i64, i64),
        tie_wins: bool,
        device_now_ms: i64,
        effects: &mut Vec<Effect>,
    ) {
        if self.state.session_id() != Some(response.session.id.as_str()) {
            // Signed out (or switched session) meanwhile: the epoch guard should have caught it.
        } else if check_auth_response(&response).is_err() {
            effects.push(Effect::Warn("hallpass: ignored a malformed refresh answer"));
        } else {
            self.clock.observe(times.0, times.1, response.server_time);
            if self.accept(response, tie_wins) {
                self.persist_and_schedule(device_now_ms, effects);
            }
        }
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
    fn accept(&mut self, r: AuthResponse, tie_wins: bool) -> bool {
        let token = token(r.jwt, r.server_time, r.expires_in);
        if !self.tokens.put(TokenKey::session(&r.session.id), token, tie_wins) && self.refresh_token.is_some()
        {
            return false;
        }
        self.refresh_token = Some(r.refresh_token);
        self.set_signed_in(r.user, r.session, r.organization);
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
        self.set_signed_in(s.user, s.session, s.organization);
        true
    }

    /// The organization always arrives with the session token that carries it (and is adopted only
    /// with it): `orgId` and the token `getToken()` hands out never disagree.
    fn set_signed_in(&mut self, user: User, session: Session, org: Option<OrgClaims>) {
        self.state = AuthState::SignedIn(Box::new(SignedInState { user, session, org }));
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

/// A session token issued at `server_time_ms` (server clock) that lives `expires_in_s` seconds.
fn token(jwt: Secret, server_time_ms: i64, expires_in_s: u32) -> CachedToken {
    let expires_at_ms = server_time_ms.saturating_add(i64::from(expires_in_s) * 1000);
    CachedToken { jwt, expires_at_ms, issued_at_ms: server_time_ms }
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
    use hallpass_protocol::{ErrorCode, SessionStatus};
    use hallpass_protocol::{OrgClaims, SessionTokenResponse};

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
            organization: None,
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
    fn minted_tokens_are_cached_per_session_template_and_organization_on_the_server_clock() {
        let mut s = store();
        assert_eq!(s.minted_key(Some("supabase".into()), None), None, "signed out");
        s.apply(Event::LoadedFromStorage(None), T);
        // The device clock is an hour fast.
        let device = T + 3_600_000;
        s.apply(signed_in("sess_1", T, "rt1", device, device), device);
        let key = s.minted_key(Some("supabase".into()), None).expect("signed in");
        assert_eq!(key.template.as_deref(), Some("supabase"));
        assert_eq!(s.token(&key, device), None);
        s.cache_template_token(key.clone(), "tmpl".into(), 60, Some(T), device);
        assert_eq!(s.token(&key, device), Some("tmpl"));
        assert_eq!(s.token(&key, device + 50_000), Some("tmpl"), "10 s left at the minimum");
        assert_eq!(s.token(&key, device + 50_001), None);
        assert_eq!(
            s.token(&s.minted_key(Some("other".into()), None).expect("key"), device),
            None,
            "per template"
        );
        assert_eq!(s.session_token(device).map(|t| t == "tmpl"), Some(false), "apart from the session's");
        // A session token for another organization: cached apart from the session's own, per
        // organization, and never handed out as the session token.
        let org_b = s.minted_key(None, Some("org_b".into())).expect("key");
        s.cache_template_token(org_b.clone(), "for-b".into(), 60, Some(T), device);
        assert_eq!(s.token(&org_b, device), Some("for-b"));
        assert_eq!(s.token(&s.minted_key(None, Some(String::new())).expect("key"), device), None);
        assert_ne!(s.session_token(device), Some("for-b"));
        // The session's own key is never written this way.
        s.cache_template_token(TokenKey::session("sess_1"), "x".into(), 600, Some(T), device);
        assert_ne!(s.session_token(device), Some("x"));
        // A token for a session that is no longer current is dropped.
        let stale = TokenKey { session_id: "sess_0".into(), ..key.clone() };
        s.cache_template_token(stale.clone(), "old".into(), 60, Some(T), device);
        assert_eq!(s.token(&stale, device), None);
        // Sign-out forgets minted tokens.
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

    fn org(id: &str, role: &str, per: &[&str]) -> OrgClaims {
        OrgClaims {
            id: id.into(),
            slg: id.replace("org_", "slug-"),
            rol: role.into(),
            per: per.iter().map(|p| (*p).into()).collect(),
        }
    }

    /// What `setActive` answers at server time `server_time_ms`: a 60 s token carrying `org`.
    fn org_set(sid: &str, server_time_ms: i64, org: Option<OrgClaims>) -> Event {
        let iat = server_time_ms / 1000;
        let mut session = session(sid, "user_1");
        session.last_active_organization_id = org.as_ref().map(|o| o.id.clone());
        Event::OrganizationSet {
            response: Box::new(SessionTokenResponse {
                session,
                jwt: format!("{}-{}", session_jwt(sid, iat, iat + 60), server_time_ms % 1000).into(),
                expires_in: 60,
                server_time: server_time_ms,
                organization: org,
            }),
            sent_at_ms: server_time_ms,
            received_at_ms: server_time_ms,
        }
    }

    fn with_org(mut r: AuthResponse, org: Option<OrgClaims>) -> AuthResponse {
        r.organization = org;
        r
    }

    #[test]
    fn has_answers_from_the_active_organization_the_server_sent() {
        let mut s = store();
        let admin = org("org_1", "org:admin", &["org:invoices:create", "org:sys_memberships:manage"]);
        let r = with_org(auth_response("sess_1", T, "rt1"), Some(admin));
        let effects = s.apply(Event::SignedIn { response: Box::new(r), sent_at_ms: T, received_at_ms: T }, T);
        assert_eq!(persisted(&effects).organization.map(|o| o.id), Some("org_1".into()));
        let st = s.state();
        assert_eq!(
            (st.org_id(), st.org_role(), st.org_slug()),
            (Some("org_1"), Some("org:admin"), Some("slug-1"))
        );
        assert!(st.has(Check::Role("org:admin")) && !st.has(Check::Role("org:member")));
        assert!(st.has(Check::Permission("org:invoices:create")) && !st.has(Check::Permission("org:x")));
        // The personal account: nothing is granted.
        s.apply(org_set("sess_1", T + 1_000, None), T + 1_000);
        let st = s.state();
        assert_eq!((st.org_id(), st.org_role(), st.org_slug()), (None, None, None));
        assert!(!st.has(Check::Role("")) && !st.has(Check::Permission("")));
        assert!(!AuthState::SignedOut { reason: None }.has(Check::Permission("x")));
    }

    #[test]
    fn set_active_swaps_the_token_and_the_organization_together() {
        let mut s = store();
        s.apply(signed_in("sess_1", T, "rt1", T, T), T);
        let before = s.session_token(T).map(str::to_owned);
        let effects = s.apply(org_set("sess_1", T + 2_000, Some(org("org_b", "org:member", &[]))), T + 2_000);
        assert!(effects.contains(&Effect::Notify), "{effects:?}");
        let snap = persisted(&effects);
        assert_eq!(snap.organization.as_ref().map(|o| o.id.as_str()), Some("org_b"));
        assert_eq!(snap.session.last_active_organization_id.as_deref(), Some("org_b"));
        assert_eq!(snap.refresh_token.expose(), "rt1", "setActive does not rotate the refresh token");
        assert_eq!(s.state().org_id(), Some("org_b"));
        let after = s.session_token(T + 2_000).map(str::to_owned);
        assert!(after.is_some() && after != before);
        assert_eq!(snap.jwt.expose(), after.as_deref().unwrap_or_default());

        // A refresh minted before the switch answers late: neither its token nor its organization
        // comes back, and its refresh token (older than none: setActive did not rotate) is kept.
        let late = with_org(auth_response("sess_1", T + 1_000, "rt2"), None);
        let effects = s.apply(
            Event::Refreshed { response: Box::new(late), sent_at_ms: T + 500, received_at_ms: T + 3_000 },
            T + 3_000,
        );
        assert!(!effects.contains(&Effect::Notify));
        assert_eq!(s.state().org_id(), Some("org_b"));
        assert_eq!(s.session_token(T + 3_000).map(str::to_owned), after);

        // A refresh minted after it carries the new organization and wins.
        let next =
            with_org(auth_response("sess_1", T + 40_000, "rt3"), Some(org("org_b", "org:member", &[])));
        s.apply(
            Event::Refreshed { response: Box::new(next), sent_at_ms: T + 40_000, received_at_ms: T + 40_000 },
            T + 40_000,
        );
        assert_eq!((s.state().org_id(), s.refresh_token()), (Some("org_b"), Some("rt3")));

        // An answer older than the token held changes nothing; one for another session neither.
        assert!(s.apply(org_set("sess_1", T + 3_000, None), T + 41_000).is_empty());
        assert!(s.apply(org_set("sess_2", T + 50_000, None), T + 50_000).is_empty());
        assert_eq!(s.state().org_id(), Some("org_b"));
        // Signed out: ignored.
        s.apply(Event::SignedOut(SignOutReason::SignedOut), T + 50_000);
        assert!(s.apply(org_set("sess_1", T + 60_000, None), T + 60_000).is_empty());
    }

    #[test]
    fn a_set_active_answer_minted_in_the_same_millisecond_as_the_token_held_replaces_it() {
        let mut s = store();
        let r = with_org(auth_response("sess_1", T, "rt1"), Some(org("org_a", "org:admin", &[])));
        s.apply(Event::SignedIn { response: Box::new(r), sent_at_ms: T, received_at_ms: T }, T);
        s.apply(org_set("sess_1", T, Some(org("org_b", "org:admin", &[]))), T);
        assert_eq!(s.state().org_id(), Some("org_b"));
        assert!(s.session_token(T).is_some_and(|t| t.ends_with("-0")), "the setActive token");
    }

    #[test]
    fn other_tabs_adopt_the_organization_only_with_its_token() {
        let mut a = store();
        let mut b = store();
        a.apply(signed_in("sess_1", T, "rt1", T, T), T);
        b.apply(Event::LoadedFromStorage(a.snapshot(T)), T);
        // Tab A switches; tab B receives A's snapshot.
        let effects = a.apply(org_set("sess_1", T + 1_000, Some(org("org_b", "org:admin", &[]))), T + 1_000);
        let switched = persisted(&effects);
        let effects = b.apply(Event::FromOtherTab(Some(switched.clone())), T + 1_100);
        assert!(effects.contains(&Effect::Notify));
        assert_eq!(b.state().org_id(), Some("org_b"));
        assert_eq!(b.session_token(T + 1_100), Some(switched.jwt.expose()));
        // A late echo of the snapshot before the switch is older: nothing moves back.
        let mut old = switched.clone();
        old.jwt = session_jwt("sess_1", T / 1000, T / 1000 + 60).into();
        old.jwt_expires_at = T + 60_000;
        old.organization = None;
        assert!(b.apply(Event::FromOtherTab(Some(old)), T + 1_200).is_empty());
        assert_eq!(b.state().org_id(), Some("org_b"));
        assert_eq!(b.session_token(T + 1_200), Some(switched.jwt.expose()));
        // Reload: storage brings the organization back with its token.
        let mut c = store();
        c.apply(Event::LoadedFromStorage(Some(switched)), T + 2_000);
        assert_eq!(c.state().org_id(), Some("org_b"));
        assert!(c.state().has(Check::Role("org:admin")));
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

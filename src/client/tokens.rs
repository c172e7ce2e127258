//! `get_token`: the session token from the cache or a refresh, and the tokens minted against it —
//! JWT template tokens and session tokens for another organization than the active one (cached per
//! session, template and organization, one request for concurrent callers).

use std::rc::Rc;

use hallpass_protocol::wire::js::{FromJs, ToJs};
use hallpass_protocol::{ErrorCode, JwtTemplate, SessionTokenRequest, TemplateTokenResponse, paths};

use super::{GetTokenOptions, Hallpass, Inner, invalid};
use crate::core::error::Error;
use crate::core::routes::is_path_id;
use crate::core::state::Event;
use crate::core::token_cache::TokenKey;
use crate::platform::http;

impl Hallpass {
    /// A session token with at least the minimum lifetime left, from the cache or refreshed (one
    /// request however many callers ask at once). `None` when signed out.
    pub async fn get_token(&self, options: GetTokenOptions) -> Result<Option<String>, Error> {
        // One flow for every kind (one state machine in the wasm): the session token, then, for a
        // template or another organization, that token minted against it.
        if let Some(name) = &options.template {
            // The server's own rule for names: anything else cannot exist and must not reach a URL.
            if !JwtTemplate::is_valid_name(name) {
                return Err(invalid("template must be a JWT template's name"));
            }
        }
        // A template token carries no organization: with a template, `organization_id` is moot.
        let organization = match (&options.template, options.organization_id) {
            (None, Some(org)) => Some(org.unwrap_or_default()),
            _ => None,
        };
        if let Some(org) = &organization
            && !org.is_empty()
            && !is_path_id(org)
        {
            return Err(invalid("organizationId must be an organization's id or slug"));
        }
        let minted = options.template.is_some() || organization.is_some();
        let skip_session = options.skip_cache && !minted;
        let (key, cached) = {
            let session = self.inner.session.borrow();
            let Some(key) = session.session_key() else { return Ok(None) };
            let cached = if skip_session { None } else { session.session_token(self.inner.clock.now_ms()) };
            (key, cached.map(str::to_owned))
        };
        let token = match cached {
            Some(token) => token,
            None => {
                // An explicit call is an outside trigger: it closes the breaker, but a `Retry-After`
                // holds.
                let wait_ms = {
                    let mut backoff = self.inner.backoff.borrow_mut();
                    backoff.reset();
                    backoff.wait_ms(self.inner.clock.now_ms())
                };
                if wait_ms > 0 {
                    return Err(Error::new(
                        ErrorCode::RateLimited,
                        "the server asked to wait before retrying",
                    )
                    .with_retry_after(Some(wait_ms.div_ceil(1000))));
                }
                self.inner.refresh_shared(key, "get_token").await?
            }
        };
        if !minted {
            return Ok(Some(token));
        }
        // A template's token, or a session token for another organization: cached per session,
        // template and organization like the session token, one request for concurrent calls.
        let key = {
            let session = self.inner.session.borrow();
            let Some(key) = session.minted_key(options.template, organization) else { return Ok(None) };
            if !options.skip_cache
                && let Some(cached) = session.token(&key, self.inner.clock.now_ms())
            {
                return Ok(Some(cached.to_owned()));
            }
            key
        };
        let inner = self.inner.clone();
        let work_key = key.clone();
        let result = self.inner.flight.run(key, move || mint_token(inner, work_key, token)).await;
        // Applied after the shared request (see `refresh_shared`): an ended session signs out.
        if let Err(error) = &result
            && error.ends_session()
        {
            self.apply(Event::RefreshFailed(error.clone()));
        }
        result.map(Some)
    }
}

/// Asks the server for `key`'s token — its template's, or a session token for its organization —
/// with the session token as Bearer, and caches it.
async fn mint_token(inner: Rc<Inner>, key: TokenKey, bearer: String) -> Result<String, Error> {
    let (path, body) = match &key.template {
        Some(name) => (paths::fill(paths::SESSION_TEMPLATE_TOKEN, &[&key.session_id, name]), None),
        None => {
            let organization_id = key.organization_id.clone().filter(|o| !o.is_empty());
            let body = SessionTokenRequest { organization_id: Some(organization_id) }.to_js();
            (paths::fill(paths::SESSION_TOKENS, &[&key.session_id]), Some(body))
        }
    };
    let url = inner.url(&path);
    match http::call("POST", &url, body.as_ref(), Some(&bearer), &*inner.clock, inner.request_timeout_ms)
        .await
    {
        Ok(answer) => {
            let response = TemplateTokenResponse::from_js(&answer.body)
                .filter(|r| r.expires_in > 0)
                .ok_or_else(Error::invalid_response)?;
            let jwt = response.jwt.expose().to_owned();
            let mut session = inner.session.borrow_mut();
            if let Some(server_time) = answer.server_time {
                session.observe_server_time(answer.sent_at, answer.received_at, server_time);
            }
            session.cache_template_token(
                key,
                response.jwt,
                i64::from(response.expires_in),
                answer.server_time,
                answer.received_at,
            );
            drop(session);
            // The answer may have moved the server-clock offset, and with it the session token's
            // hand-out deadline.
            inner.publish_token();
            Ok(jwt)
        }
        Err(failure) => {
            inner.observe(&failure);
            Err(failure.error)
        }
    }
}

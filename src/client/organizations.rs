//! Organizations from the browser: one path for every organization call of the Frontend API —
//! setting the active organization (answered with a session token carrying it), create, list,
//! invite, change a role, remove, leave, accept, … — as [`Hallpass::route`] (the method and URL)
//! and [`Hallpass::settle`] (the answer), with [`Hallpass::request`] and `set_active` over them for
//! Rust.
//!
//! Why this shape: each async method the wasm exports is its own state machine, and reading each
//! organization resource in Rust would ship a reader per shape — kilobytes the 48 KiB budget does
//! not have. So in the browser build the JS facade (`src/js/facade.js`) sends the organization calls
//! itself through http.js's `exchange` (the one every call uses) with the token `getToken()` gives,
//! from its copy of [`ROUTES`] (checked against this one by `tests/facade.rs`) with the ids checked
//! as [`is_path_id`] does, and the wasm does only what is synchronous and needs the SDK,
//! [`Hallpass::settle`]: the error codes (http.rs `settle`, as for every call), signing out when the
//! server says the session is over, applying a `setActive` answer. The answer — a protocol
//! resource, or a `{ data, total_count }` page of them — goes to JavaScript as the server's JSON,
//! checked for its kind, and the facade shapes it (camelCase, as every resource) and pages it. The
//! Rust API (Yew) takes [`Hallpass::request`] over the same table and the same `settle`.

use hallpass_protocol::wire::js::{FromJs, ToJs};
use hallpass_protocol::{SessionTokenResponse, TouchSessionRequest, paths};
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use super::{GetTokenOptions, Hallpass, invalid};
use crate::core::error::Error;
use crate::core::routes::{Answer, ROUTES, TOUCH, is_path_id};
use crate::core::state::Event;
use crate::platform::http;
use Answer::{One, Page, Touch};

/// True when `answer` is the kind of answer a route of `kind` gives: a resource (an object with a
/// string `id`), a page (`data` an array, `total_count` a number), or anything for [`TOUCH`].
pub fn is_answer(kind: Answer, answer: &JsValue) -> bool {
    let field = |name: &str| Reflect::get(answer, &JsValue::from_str(name)).unwrap_or_default();
    match kind {
        One => field("id").is_string(),
        Page => Array::is_array(&field("data")) && field("total_count").as_f64().is_some(),
        Touch => true,
    }
}

impl Hallpass {
    /// Sets the session's active organization — an id or slug of one of the user's organizations, or
    /// `Some(None)` for the personal account; `None` keeps the active one and just gets a fresh token
    /// for it (after a membership change). Resolves once this tab holds the token carrying it; other
    /// tabs adopt that token and organization together (they never show one and hand out the other).
    pub async fn set_active(&self, organization: Option<Option<String>>) -> Result<(), Error> {
        let body = TouchSessionRequest { active_organization_id: organization }.to_js();
        self.request(TOUCH, &[], "", Some(&body)).await.map(drop)
    }

    /// One organization call: `ROUTES[route]` with `ids` in its path and `query` (`""` or
    /// `?limit=…`, already encoded) after it, `body` as JSON, the session token as Bearer. Answers
    /// the server's JSON, checked as [`settle`](Self::settle) does.
    pub async fn request(
        &self,
        route: usize,
        ids: &[&str],
        query: &str,
        body: Option<&JsValue>,
    ) -> Result<JsValue, Error> {
        let (method, url) = self.route(route, ids, query)?;
        let token = self.get_token(GetTokenOptions::default()).await?.ok_or_else(Error::not_signed_in)?;
        let timeout_ms = self.inner.request_timeout_ms;
        let outcome = http::call(method, &url, body, Some(&token), &*self.inner.clock, timeout_ms).await;
        let kind = ROUTES.get(route).map_or(One, |r| r.2);
        let answer = self.settle(kind, outcome)?;
        if is_answer(kind, &answer) { Ok(answer) } else { Err(Error::invalid_response()) }
    }

    /// The method and URL of `ROUTES[route]` with `ids` in its path (the session's own id for
    /// [`TOUCH`]) and `query` after it. Refuses what could change the path.
    pub fn route(&self, route: usize, ids: &[&str], query: &str) -> Result<(&'static str, String), Error> {
        let &(method, path, kind) = ROUTES.get(route).ok_or_else(|| invalid("unknown route"))?;
        let session_id =
            self.with_state(|s| s.session_id().map(str::to_owned)).ok_or_else(Error::not_signed_in)?;
        let ids = if let Touch = kind { &[session_id.as_str()] } else { ids };
        if !ids.iter().all(|id| is_path_id(id))
            || path.bytes().filter(|&b| b == b'{').count() != ids.len()
            || !(query.is_empty() || query.starts_with('?'))
        {
            return Err(invalid("ids must be ids or slugs"));
        }
        let mut url = self.url(&paths::fill(path, ids));
        url.push_str(query);
        Ok((method, url))
    }

    /// Settles the exchange of a route whose answer is of `kind`: an error as for every call (an
    /// answer that says the session is over signs out, as a failed refresh does); a `setActive`
    /// answer applied (the token and organization it carries); any other answer handed on as it is
    /// (its reader checks it: [`is_answer`] here, hallpass/organizations in JavaScript).
    pub fn settle(
        &self,
        kind: Answer,
        outcome: Result<http::Answer, http::Failure>,
    ) -> Result<JsValue, Error> {
        let answer = match outcome {
            Ok(answer) => answer,
            Err(failure) => {
                self.inner.observe(&failure);
                if failure.error.ends_session() {
                    self.apply(Event::RefreshFailed(failure.error.clone()));
                }
                return Err(failure.error);
            }
        };
        let body = answer.body;
        let ok = match kind {
            // Checked where they are read: JavaScript (hallpass/organizations), Rust (`is_answer`).
            One | Page => true,
            Touch => {
                let response = SessionTokenResponse::from_js(&body)
                    .filter(|r| r.expires_in > 0)
                    .ok_or_else(Error::invalid_response)?;
                self.apply(Event::OrganizationSet {
                    response: Box::new(response),
                    sent_at_ms: answer.sent_at,
                    received_at_ms: answer.received_at,
                });
                return Ok(JsValue::UNDEFINED);
            }
        };
        if ok { Ok(body) } else { Err(Error::invalid_response()) }
    }

    /// The device clock of the SDK (an injected one in tests).
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }
}

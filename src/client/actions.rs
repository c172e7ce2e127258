//! What the app asks of an instance besides tokens: sign-up, sign-in, sign-out, profile updates, and
//! `fetch` with the session token.

use hallpass_protocol::wire::js::ToJs;
use hallpass_protocol::{
    ErrorCode, RefreshRequest, Secret, SignInRequest, SignUpRequest, UpdateProfileRequest, paths,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use super::{GetTokenOptions, Hallpass, auth_response, invalid};
use crate::core::error::Error;
use crate::core::routes::Answer;
use crate::core::state::{Event, SignOutReason};
use crate::platform::http;

impl Hallpass {
    /// Creates an account and signs in.
    pub async fn sign_up(&self, sign_up: SignUpRequest) -> Result<(), Error> {
        // The server's passwordless, multi-step sign-up is not in the SDK yet.
        if sign_up.password.expose().is_empty() {
            return Err(Error::new(ErrorCode::FormParamMissing, "password is missing"));
        }
        self.authenticate(paths::SIGN_UPS, &sign_up.to_js()).await
    }

    /// Signs in with an email address and password.
    pub async fn sign_in(&self, identifier: &str, password: &str) -> Result<(), Error> {
        let request = SignInRequest { identifier: identifier.to_owned(), password: Secret::new(password) };
        self.sign_in_with(&request).await
    }

    /// [`sign_in`](Self::sign_in) with the request as it is.
    pub async fn sign_in_with(&self, request: &SignInRequest) -> Result<(), Error> {
        // The server's multi-step sign-in (no password: `needs_first_factor`) is not in the SDK yet.
        if request.password.expose().is_empty() {
            return Err(Error::new(ErrorCode::FormParamMissing, "password is missing"));
        }
        self.authenticate(paths::SIGN_INS, &request.to_js()).await
    }

    /// Signs out. Always succeeds, offline too: the local session is gone at once, and the server is
    /// told in the background (if that fails, the session still ends at its idle timeout).
    pub async fn sign_out(&self) -> Result<(), Error> {
        self.sign_out_now();
        Ok(())
    }

    /// [`sign_out`](Self::sign_out), which waits for nothing, without the `async` (the JS facade's
    /// `signOut`: no async state machine for it in the wasm).
    pub fn sign_out_now(&self) {
        let refresh_token = self.inner.session.borrow().refresh_token().map(Secret::new);
        self.apply(Event::SignedOut(SignOutReason::SignedOut));
        if let Some(refresh_token) = refresh_token {
            let body = RefreshRequest { refresh_token }.to_js();
            let url = self.url(paths::SIGN_OUT);
            let (clock, timeout_ms) = (self.inner.clock.clone(), self.inner.request_timeout_ms);
            spawn_local(async move {
                let _ = http::call("POST", &url, Some(&body), None, &*clock, timeout_ms).await;
            });
        }
    }

    /// `fetch(request)` with `Authorization: Bearer <token>` added; after a 401 it forces a new token and
    /// retries once. The request's body must be replayable (a `Request` is cloned before each try).
    pub async fn fetch(&self, request: &web_sys::Request) -> Result<web_sys::Response, Error> {
        let mut forced = false;
        loop {
            let token = self
                .get_token(if forced { GetTokenOptions::skip_cache() } else { GetTokenOptions::default() })
                .await?;
            let attempt = request.clone().map_err(|_| invalid("the request body was already used"))?;
            if let Some(token) = &token {
                let mut value = String::with_capacity(token.len() + 7);
                value.push_str("Bearer ");
                value.push_str(token);
                attempt
                    .headers()
                    .set("authorization", &value)
                    .map_err(|_| invalid("cannot set authorization"))?;
            }
            let window = web_sys::window().ok_or_else(|| invalid("no window"))?;
            let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&attempt))
                .await
                .map_err(|_| Error::network())?
                .dyn_into()
                .map_err(|_| Error::network())?;
            if response.status() == 401 && token.is_some() && !forced {
                forced = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Updates the signed-in user's own profile (`first_name`, `last_name`, `unsafe_metadata`; absent
    /// fields stay, a name set to `Some(None)` is cleared), then refreshes so that this tab and every
    /// other one sees the new user.
    pub async fn update_user(&self, profile: &UpdateProfileRequest) -> Result<(), Error> {
        let token = self.get_token(GetTokenOptions::default()).await?.ok_or_else(Error::not_signed_in)?;
        let url = self.url(paths::ME);
        let timeout_ms = self.inner.request_timeout_ms;
        http::call("PATCH", &url, Some(&profile.to_js()), Some(&token), &*self.inner.clock, timeout_ms)
            .await
            .map_err(|f| f.error)?;
        let key = self.inner.session.borrow().session_key().ok_or_else(Error::not_signed_in)?;
        self.inner.refresh_shared(key, "user_update").await.map(|_| ())
    }

    /// The one-request sign-up or sign-in: settled as every attempt step is (hallpass/flows'), and
    /// signed in only when the answer carries the session (a sign-up an instance makes verify its
    /// address first does not: `invalid_response`, as before the SDK knew attempts).
    async fn authenticate(&self, path: &str, body: &JsValue) -> Result<(), Error> {
        let url = self.url(path);
        let timeout_ms = self.inner.request_timeout_ms;
        let answer = http::call("POST", &url, Some(body), None, &*self.inner.clock, timeout_ms).await;
        auth_response(&self.settle(Answer::Attempt, answer)?).map(drop)
    }
}

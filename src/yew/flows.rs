//! [`use_sign_in`] and [`use_sign_up`]: Clerk's multi-step sign-in and sign-up for Yew — email
//! code, email link, password, password reset — as typed Rust over the one implementation the npm
//! package ships as `hallpass/flows` (`src/js/flows.js`, imported here with
//! `#[wasm_bindgen(module)]`): the same requests (http.js's `exchange`, with its deadline), the same
//! settle step in the wasm, and the session a completing step carries adopted exactly as a password
//! sign-in's. The attempt reads as the protocol's [`SignInAttempt`] / [`SignUpAttempt`].
//!
//! ```ignore
//! let sign_in = use_sign_in();
//! // in a callback:
//! let attempt = sign_in.create(&email, Some(Strategy::EmailCode), None, None).await?;
//! let done = sign_in.attempt_first_factor(Strategy::EmailCode, &code).await?;
//! assert_eq!(done.status, SignInStatus::Complete); // signed in: `use_auth()` re-renders
//! ```

use hallpass_protocol::wire::js::FromJs;
use hallpass_protocol::{ErrorCode, SignInAttempt, SignUpAttempt, Strategy};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use super::use_context_or_loading;
use crate::core::error::{Code, Error};

#[wasm_bindgen(module = "/src/js/flows.js")]
extern "C" {
    #[wasm_bindgen(js_name = getSignIn)]
    fn get_sign_in(hp: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = getSignUp)]
    fn get_sign_up(hp: &JsValue) -> JsValue;
}

/// One of the instance's attempt resources (hallpass/flows' JavaScript object).
#[derive(Clone, PartialEq)]
struct Resource(JsValue);

impl Resource {
    fn get(&self, key: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or_default()
    }

    /// Calls the resource's method `name` with `params` and waits for its promise.
    async fn call(&self, name: &str, params: &JsValue) -> Result<(), Error> {
        let method: Function = self.get(name).dyn_into().map_err(|_| Error::invalid_response())?;
        let promise: Promise = method.call1(&self.0, params).map_err(|e| error(&e))?.unchecked_into();
        JsFuture::from(promise).await.map(drop).map_err(|e| error(&e))
    }

    /// The attempt as the server last answered it (`None` before `create`).
    fn wire<T: FromJs>(&self) -> Option<T> {
        T::from_js(&self.get("_wire"))
    }
}

/// A `HallpassError` (or anything else thrown) as the SDK's [`Error`].
fn error(thrown: &JsValue) -> Error {
    let get = |key: &str| Reflect::get(thrown, &JsValue::from_str(key)).unwrap_or_default();
    // The code as it came (a server's code this SDK does not name is the app's to read).
    let code = get("code").as_string().filter(|c| !c.is_empty());
    let code = code.map_or(Code::from(ErrorCode::InternalError), Code::from);
    let error = Error::with_message(code, get("message").as_string().unwrap_or_default());
    let error = match get("status").as_f64() {
        Some(status) => error.with_status(status as u16),
        None => error,
    };
    error.with_retry_after(get("retryAfter").as_f64().map(|s| s as u32))
}

/// `{ key: value, … }` of the present values, for a method's parameters.
fn params(fields: &[(&str, Option<&str>)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        if let Some(value) = value {
            let _ = Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
        }
    }
    object.into()
}

/// The instance's sign-in (Clerk's `useSignIn().signIn`). Each step answers the attempt as it now
/// is; the one that completes it signs this instance in (`use_auth()` and every tab follow).
#[derive(Clone, PartialEq)]
pub struct SignIn(Resource);

impl SignIn {
    /// The attempt as it stands (`None` before [`create`](Self::create)).
    pub fn attempt(&self) -> Option<SignInAttempt> {
        self.0.wire()
    }

    async fn step(&self, name: &str, params: JsValue) -> Result<SignInAttempt, Error> {
        self.0.call(name, &params).await?;
        self.attempt().ok_or_else(Error::invalid_response)
    }

    /// With `password`: completes at once (or fails). With a `strategy` sent by email
    /// (`EmailCode`, `EmailLink` to `redirect_url`, `ResetPasswordEmailCode`) it is sent too.
    pub async fn create(
        &self,
        identifier: &str,
        strategy: Option<Strategy>,
        password: Option<&str>,
        redirect_url: Option<&str>,
    ) -> Result<SignInAttempt, Error> {
        let p = params(&[
            ("identifier", Some(identifier)),
            ("strategy", strategy.map(|s| s.as_str())),
            ("password", password),
            ("redirectUrl", redirect_url),
        ]);
        self.step("create", p).await
    }

    /// Sends the code or link of `strategy` (a second send within 30 s is refused: `rate_limited`).
    pub async fn prepare_first_factor(
        &self,
        strategy: Strategy,
        redirect_url: Option<&str>,
    ) -> Result<SignInAttempt, Error> {
        let p = params(&[("strategy", Some(strategy.as_str())), ("redirectUrl", redirect_url)]);
        self.step("prepareFirstFactor", p).await
    }

    /// The code (`EmailCode`, `ResetPasswordEmailCode`) or the password (`Password`).
    pub async fn attempt_first_factor(
        &self,
        strategy: Strategy,
        secret: &str,
    ) -> Result<SignInAttempt, Error> {
        let key = if strategy == Strategy::Password { "password" } else { "code" };
        self.step("attemptFirstFactor", params(&[("strategy", Some(strategy.as_str())), (key, Some(secret))]))
            .await
    }

    /// The new password after a right reset code; signs in and signs out every other session.
    pub async fn reset_password(&self, password: &str) -> Result<SignInAttempt, Error> {
        self.step("resetPassword", params(&[("password", Some(password))])).await
    }

    /// Sends the link and resolves once it was opened (anywhere: the attempt is complete and this
    /// instance signed in) or it expired or failed.
    pub async fn start_email_link_flow(&self, redirect_url: Option<&str>) -> Result<SignInAttempt, Error> {
        link_flow(&self.0, redirect_url).await?;
        self.attempt().ok_or_else(Error::invalid_response)
    }

    /// Stops a running email-link flow (its future then never resolves).
    pub fn cancel_email_link_flow(&self) {
        cancel(&self.0);
    }
}

/// The instance's sign-up (Clerk's `useSignUp().signUp`).
#[derive(Clone, PartialEq)]
pub struct SignUp(Resource);

impl SignUp {
    /// The attempt as it stands (`None` before [`create`](Self::create)).
    pub fn attempt(&self) -> Option<SignUpAttempt> {
        self.0.wire()
    }

    async fn step(&self, name: &str, params: JsValue) -> Result<SignUpAttempt, Error> {
        self.0.call(name, &params).await?;
        self.attempt().ok_or_else(Error::invalid_response)
    }

    /// Without a password: passwordless (the address is always verified).
    pub async fn create(&self, email_address: &str, password: Option<&str>) -> Result<SignUpAttempt, Error> {
        self.step("create", params(&[("emailAddress", Some(email_address)), ("password", password)])).await
    }

    /// Sends the code (`EmailCode`) or the link (`EmailLink`, to `redirect_url`).
    pub async fn prepare_email_address_verification(
        &self,
        strategy: Strategy,
        redirect_url: Option<&str>,
    ) -> Result<SignUpAttempt, Error> {
        let p = params(&[("strategy", Some(strategy.as_str())), ("redirectUrl", redirect_url)]);
        self.step("prepareEmailAddressVerification", p).await
    }

    /// The code: completes the sign-up and signs in.
    pub async fn attempt_email_address_verification(&self, code: &str) -> Result<SignUpAttempt, Error> {
        self.step("attemptEmailAddressVerification", params(&[("code", Some(code))])).await
    }

    /// As [`SignIn::start_email_link_flow`].
    pub async fn start_email_link_flow(&self, redirect_url: Option<&str>) -> Result<SignUpAttempt, Error> {
        link_flow(&self.0, redirect_url).await?;
        self.attempt().ok_or_else(Error::invalid_response)
    }

    pub fn cancel_email_link_flow(&self) {
        cancel(&self.0);
    }
}

/// `createEmailLinkFlow().startEmailLinkFlow({ redirectUrl })`.
async fn link_flow(resource: &Resource, redirect_url: Option<&str>) -> Result<(), Error> {
    let flow = Resource(resource.call_sync("createEmailLinkFlow")?);
    flow.call("startEmailLinkFlow", &params(&[("redirectUrl", redirect_url)])).await
}

fn cancel(resource: &Resource) {
    if let Ok(flow) = resource.call_sync("createEmailLinkFlow") {
        let _ = Resource(flow).call_sync("cancelEmailLinkFlow");
    }
}

impl Resource {
    /// Calls the synchronous method `name`.
    fn call_sync(&self, name: &str) -> Result<JsValue, Error> {
        let method: Function = self.get(name).dyn_into().map_err(|_| Error::invalid_response())?;
        method.call0(&self.0).map_err(|e| error(&e))
    }
}

/// The instance's resource `get` makes, once loaded; the component re-renders after each step.
#[hook]
fn use_resource(get: fn(&JsValue) -> JsValue) -> Option<Resource> {
    let instance = use_context_or_loading().instance;
    // One resource per instance (flows.js keeps it): every component sees the same attempt.
    let resource = use_memo(instance, move |hp| hp.as_ref().map(|hp| Resource(get(hp))));
    let update = use_force_update();
    use_effect_with(resource.clone(), move |resource| {
        let subscription = resource.as_ref().as_ref().map(|r| {
            let on_change = Closure::<dyn Fn()>::new(move || update.force_update());
            let unsubscribe = r
                .get("_subscribe")
                .dyn_into::<Function>()
                .ok()
                .and_then(|f| f.call1(&r.0, on_change.as_ref()).ok())
                .and_then(|u| u.dyn_into::<Function>().ok());
            (on_change, unsubscribe)
        });
        move || {
            if let Some((on_change, unsubscribe)) = subscription {
                if let Some(unsubscribe) = unsubscribe {
                    let _ = unsubscribe.call0(&JsValue::NULL);
                }
                drop(on_change);
            }
        }
    });
    (*resource).clone()
}

/// The instance's sign-in (Clerk's `useSignIn()`), or `None` while the client loads.
#[hook]
pub fn use_sign_in() -> Option<SignIn> {
    use_resource(get_sign_in).map(SignIn)
}

/// The instance's sign-up (Clerk's `useSignUp()`), or `None` while the client loads.
#[hook]
pub fn use_sign_up() -> Option<SignUp> {
    use_resource(get_sign_up).map(SignUp)
}

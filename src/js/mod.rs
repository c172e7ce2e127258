//! The JavaScript facade: the `Hallpass` class that `import { Hallpass } from "hallpass"` gives,
//! camelCase names and Clerk-shaped values, with precise TypeScript declarations (see [`types`]).
//!
//! A thin layer over [`crate::client::Hallpass`]: it converts options in, state and errors out, and
//! nothing else. Errors are thrown as `HallpassError` objects (`name`, `code`, `message`, `status`,
//! `retryAfter`); nothing here panics on what JavaScript passes in.

mod convert;
mod types;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::client::Hallpass as Client;
use crate::core::error::Error;
use crate::core::routes::Answer;
use convert::{error_to_js, get_token_options_from_js, options_from_js, param_error};
use hallpass_protocol::wire::js::ToJs;
use hallpass_protocol::{ErrorCode, SignInRequest, SignUpRequest, UpdateProfileRequest};

/// An SDK instance. Create it with `await Hallpass.load({ frontendApi })`.
#[wasm_bindgen(js_name = Hallpass)]
pub struct JsHallpass {
    client: Client,
    /// The snapshot object and the client version it was made at: the same object until a change
    /// (shared with the listeners).
    snapshot: Rc<Snapshot>,
}

type Snapshot = RefCell<Option<(u32, JsValue)>>;

#[wasm_bindgen(js_class = Hallpass)]
impl JsHallpass {
    /// Loads an instance: reads storage and resolves signed in or out without waiting for the network.
    #[wasm_bindgen(unchecked_return_type = "Promise<Hallpass>")]
    pub fn load(#[wasm_bindgen(unchecked_param_type = "HallpassOptions")] options: JsValue) -> Promise {
        // Synchronous inside, so no future: the first call of the (large) async state machine costs
        // milliseconds of lazy compilation in the browser, and `load()` is on the first render's path.
        match options_from_js(&options).and_then(Client::load_now) {
            Ok(client) => {
                // `getToken`, `fetch`, `subscribe`, `useUser` and `useAuth` are the instance's own JS
                // functions (facade.js `attach`): a cached token without entering the wasm, the class
                // method below for the rest. None of them is held by the wasm. With `sessionCookie`,
                // the same sink keeps the session cookie (facade.js reads that option itself).
                let hp = JsValue::from(JsHallpass { client: client.clone(), snapshot: Rc::default() });
                client.set_token_sink(attach(&hp, &options));
                Promise::resolve(&hp)
            }
            Err(error) => Promise::reject(&error_to_js(&error)),
        }
    }

    /// The whole auth state as one object that keeps its identity until something changes (for
    /// React's `useSyncExternalStore`).
    #[wasm_bindgen(js_name = getSnapshot, unchecked_return_type = "AuthState")]
    pub fn get_snapshot(&self) -> JsValue {
        snapshot(&self.client, &self.snapshot)
    }

    /// A session token with at least the minimum lifetime left (cached, refreshed when needed; one
    /// request for any number of concurrent calls), or `null` when signed out. Each instance's own
    /// `getToken` answers a cached token in JavaScript and comes here for the rest.
    #[wasm_bindgen(js_name = getToken, unchecked_return_type = "Promise<string | null>")]
    pub fn get_token(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "GetTokenOptions")] options: JsValue,
    ) -> Promise {
        run(self.client.clone(), Op::GetToken(options))
    }

    /// Creates an account and signs in.
    #[wasm_bindgen(js_name = signUp, unchecked_return_type = "Promise<void>")]
    pub fn sign_up(&self, #[wasm_bindgen(unchecked_param_type = "SignUpParams")] params: JsValue) -> Promise {
        run(self.client.clone(), Op::SignUp(params))
    }

    /// Signs in with `{ identifier, password }` (identifier: the email address).
    #[wasm_bindgen(js_name = signIn, unchecked_return_type = "Promise<void>")]
    pub fn sign_in(&self, #[wasm_bindgen(unchecked_param_type = "SignInParams")] params: JsValue) -> Promise {
        run(self.client.clone(), Op::SignIn(params))
    }

    /// Signs out. Resolves offline too; the local session is gone at once (before this returns).
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> Promise {
        // Synchronous inside: no async state machine for it.
        self.client.sign_out_now();
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Settles an organization call that facade.js sent through http.js's `exchange` (it has the
    /// routes, builds the bodies and shapes the answers): `outcome` is what `exchange` resolved
    /// (`ok`) or rejected with, sent at device time `sent_at`; `kind` the route's answer (0: a
    /// resource, 1: a page, 2: `setActive`'s, applied here; 3: the ids were not ids). Returns the
    /// checked answer (`undefined` for `setActive`) or the `HallpassError` for facade.js to throw
    /// (a value, not a throw: less glue). Synchronous: no async state machine in the wasm for these
    /// calls. Kinds 3 and 4 are the facade's own failures: ids that are not ids, nobody signed in;
    /// kind 5 answers the request deadline in milliseconds; kind 6 reads `updateUser`'s parameters
    /// (`outcome`) and answers the wire body, or the error naming the field that did not read;
    /// kind 7 is a sign-in or sign-up step (hallpass/flows), whose session, when it carries one, is
    /// adopted here.
    #[wasm_bindgen(js_name = _settle, skip_typescript)]
    pub fn settle(&self, kind: u32, outcome: JsValue, ok: bool, sent_at: f64) -> JsValue {
        let kind = match kind {
            0 => Answer::One,
            1 => Answer::Page,
            2 => Answer::Touch,
            7 => Answer::Attempt,
            3 => return error_to_js(&Error::new(ErrorCode::InvalidOptions, "ids must be ids or slugs")),
            4 => return error_to_js(&Error::not_signed_in()),
            6 => {
                return match UpdateProfileRequest::from_js_params(&outcome) {
                    Ok(profile) => profile.to_js(),
                    Err(e) => error_to_js(&param_error(e, "updateUser")),
                };
            }
            // The request deadline (one export less than a getter of its own).
            _ => return self.client.request_timeout_ms().into(),
        };
        let outcome = if ok { Ok(outcome) } else { Err(outcome) };
        let settled = crate::platform::http::settle(outcome, sent_at as i64, self.client.now_ms());
        self.client.settle(kind, settled).unwrap_or_else(|e| error_to_js(&e))
    }

    /// With the `debug` option: every refresh this tab made or received, and why.
    #[wasm_bindgen(js_name = refreshTrace, unchecked_return_type = "RefreshTraceEntry[]")]
    pub fn refresh_trace(&self) -> JsValue {
        convert::trace_to_js(&self.client.refresh_trace())
    }

    /// Calls `callback(snapshot)` after every change. Returns the function that unsubscribes.
    #[wasm_bindgen(js_name = addListener, unchecked_return_type = "() => void")]
    pub fn add_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: AuthState) => void")] callback: Function,
    ) -> JsValue {
        let client = self.client.clone();
        let cached = self.snapshot.clone();
        self.listen(move |_| {
            let _ = callback.call1(&JsValue::NULL, &snapshot(&client, &cached));
        })
    }

    /// The Frontend API URL in use.
    #[wasm_bindgen(getter, js_name = frontendApi)]
    pub fn frontend_api(&self) -> String {
        self.client.frontend_api().to_owned()
    }
}

impl JsHallpass {
    fn listen(&self, f: impl Fn(&crate::core::state::AuthState) + 'static) -> JsValue {
        let handle = self.client.add_listener(f);
        let mut handle = Some(handle);
        Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |_| {
            drop(handle.take());
            JsValue::UNDEFINED
        })
        .into_js_value()
    }
}

fn snapshot(client: &Client, cached: &Snapshot) -> JsValue {
    let version = client.version();
    if let Some((v, snap)) = &*cached.borrow()
        && *v == version
    {
        return snap.clone();
    }
    let snap = client.with_state(|state| {
        let (user, session) = match state.signed_in() {
            Some(s) => (s.user.to_js(), s.session.to_js()),
            None => (JsValue::NULL, JsValue::NULL),
        };
        let opt = |v: Option<&str>| v.map(JsValue::from_str).unwrap_or(JsValue::NULL);
        make_snapshot(
            state.is_loaded(),
            &user,
            &session,
            &opt(state.org_id()),
            &opt(state.org_role()),
            &opt(state.org_slug()),
            &state.org_permissions().iter().map(|p| JsValue::from_str(p)).collect::<js_sys::Array>(),
        )
    });
    *cached.borrow_mut() = Some((version, snap.clone()));
    snap
}

/// Every asynchronous method of the class, as data: one `future_to_promise` and one state machine
/// serve them all (each distinct async export costs its own in the wasm).
enum Op {
    SignUp(JsValue),
    SignIn(JsValue),
    GetToken(JsValue),
}

fn run(client: Client, op: Op) -> Promise {
    future_to_promise(async move { perform(client, op).await.map_err(|e| error_to_js(&e)) })
}

async fn perform(client: Client, op: Op) -> Result<JsValue, Error> {
    match op {
        Op::SignUp(params) => {
            let request = SignUpRequest::from_js_params(&params).map_err(|e| param_error(e, "signUp"))?;
            client.sign_up(request).await?
        }
        Op::SignIn(params) => {
            let request = SignInRequest::from_js_params(&params).map_err(|e| param_error(e, "signIn"))?;
            client.sign_in_with(&request).await?
        }
        Op::GetToken(options) => {
            let token = client.get_token(get_token_options_from_js(&options)?).await?;
            return Ok(token.map(JsValue::from).unwrap_or(JsValue::NULL));
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// The JavaScript SDK's instance of `client` (the class with facade.js's methods, on the same
/// client), for the Yew hooks that run hallpass/flows' JavaScript: its requests and settle step are
/// then the ones the npm package's are.
#[cfg(feature = "yew")]
pub(crate) fn instance(client: &Client) -> JsValue {
    let hp = JsValue::from(JsHallpass { client: client.clone(), snapshot: Rc::default() });
    // Its token publisher is not installed: `getToken` always asks the client, which caches.
    attach(&hp, &js_sys::Object::new());
    hp
}

#[wasm_bindgen(module = "/src/js/facade.js")]
extern "C" {
    fn attach(hp: &JsValue, options: &JsValue) -> Function;

    #[wasm_bindgen(js_name = makeSnapshot)]
    fn make_snapshot(
        loaded: bool,
        user: &JsValue,
        session: &JsValue,
        org_id: &JsValue,
        org_role: &JsValue,
        org_slug: &JsValue,
        org_permissions: &js_sys::Array,
    ) -> JsValue;
}

/// True when `value` is an error thrown by Hallpass.
#[wasm_bindgen(js_name = isHallpassError)]
pub fn is_hallpass_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && Reflect::get(&value, &"name".into()).ok().and_then(|n| n.as_string()).as_deref()
            == Some("HallpassError")
}

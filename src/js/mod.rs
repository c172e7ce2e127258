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

use crate::client::{GetTokenOptions, Hallpass as Client};
use crate::core::error::Error;
use crate::core::state::Check;
use crate::platform::wire;
use convert::{error_to_js, options_from_js, sign_up_from_js, str_prop};
use hallpass_protocol::ErrorCode;

/// An SDK instance. Create it with `await Hallpass.load({ frontendApi })`.
#[wasm_bindgen(js_name = Hallpass)]
pub struct JsHallpass {
    client: Client,
    shared: Rc<Shared>,
}

/// What the bound functions of `useAuth()` share with the instance.
struct Shared {
    /// The snapshot object and the client version it was made at: the same object until a change.
    snapshot: RefCell<Option<(u32, JsValue)>>,
    /// `getToken`, `signOut` and `has`, made once so `useAuth()` returns stable functions.
    bound: RefCell<Option<(JsValue, JsValue, JsValue)>>,
}

#[wasm_bindgen(js_class = Hallpass)]
impl JsHallpass {
    /// Loads an instance: reads storage and resolves signed in or out without waiting for the network.
    #[wasm_bindgen(unchecked_return_type = "Promise<Hallpass>")]
    pub fn load(#[wasm_bindgen(unchecked_param_type = "HallpassOptions")] options: JsValue) -> Promise {
        run(None, Op::Load(options))
    }

    /// The whole auth state as one object that keeps its identity until something changes (for
    /// React's `useSyncExternalStore`).
    #[wasm_bindgen(js_name = getSnapshot, unchecked_return_type = "AuthState")]
    pub fn get_snapshot(&self) -> JsValue {
        snapshot(&self.client, &self.shared)
    }

    /// `{ isLoaded, isSignedIn, user }`, like Clerk's `useUser()`.
    #[wasm_bindgen(js_name = useUser, unchecked_return_type = "UseUserReturn")]
    pub fn use_user(&self) -> JsValue {
        let snap = self.get_snapshot();
        let out = js_sys::Object::new();
        for key in ["isLoaded", "isSignedIn", "user"] {
            let _ = Reflect::set(&out, &key.into(), &Reflect::get(&snap, &key.into()).unwrap_or_default());
        }
        out.into()
    }

    /// `{ isLoaded, isSignedIn, userId, sessionId, orgId, orgRole, orgSlug, getToken, signOut, has }`,
    /// like Clerk's `useAuth()`.
    #[wasm_bindgen(js_name = useAuth, unchecked_return_type = "UseAuthReturn")]
    pub fn use_auth(&self) -> JsValue {
        let snap = self.get_snapshot();
        let out = js_sys::Object::new();
        for key in ["isLoaded", "isSignedIn", "userId", "sessionId", "orgId", "orgRole", "orgSlug"] {
            let _ = Reflect::set(&out, &key.into(), &Reflect::get(&snap, &key.into()).unwrap_or_default());
        }
        let (get_token, sign_out, has) = self.bound();
        let _ = Reflect::set(&out, &"getToken".into(), &get_token);
        let _ = Reflect::set(&out, &"signOut".into(), &sign_out);
        let _ = Reflect::set(&out, &"has".into(), &has);
        out.into()
    }

    /// Creates an account and signs in.
    #[wasm_bindgen(js_name = signUp, unchecked_return_type = "Promise<void>")]
    pub fn sign_up(&self, #[wasm_bindgen(unchecked_param_type = "SignUpParams")] params: JsValue) -> Promise {
        run(Some(self.client.clone()), Op::SignUp(params))
    }

    /// Signs in with `{ identifier, password }` (identifier: the email address).
    #[wasm_bindgen(js_name = signIn, unchecked_return_type = "Promise<void>")]
    pub fn sign_in(&self, #[wasm_bindgen(unchecked_param_type = "SignInParams")] params: JsValue) -> Promise {
        run(Some(self.client.clone()), Op::SignIn(params))
    }

    /// Signs out. Resolves offline too; the local session is gone at once.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> Promise {
        run(Some(self.client.clone()), Op::SignOut)
    }

    /// A session token with at least the minimum lifetime left (cached, refreshed when needed; one
    /// request for any number of concurrent calls), or `null` when signed out.
    #[wasm_bindgen(js_name = getToken, unchecked_return_type = "Promise<string | null>")]
    pub fn get_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GetTokenOptions | undefined")] options: JsValue,
    ) -> Promise {
        run(Some(self.client.clone()), Op::GetToken(options))
    }

    /// `fetch(input, init)` with `Authorization: Bearer <token>`; after a 401 it forces a new token and
    /// retries once.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        auth_fetch(&self.bound().0, &input, &init)
    }

    /// Updates the signed-in user's profile; every tab sees the change.
    #[wasm_bindgen(js_name = updateUser, unchecked_return_type = "Promise<void>")]
    pub fn update_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UpdateUserParams")] params: JsValue,
    ) -> Promise {
        run(Some(self.client.clone()), Op::UpdateUser(params))
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
        let shared = self.shared.clone();
        self.listen(move |_| {
            let _ = callback.call1(&JsValue::NULL, &snapshot(&client, &shared));
        })
    }

    /// `useSyncExternalStore`'s subscribe: calls `callback()` after every change; returns the
    /// unsubscribe function.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "() => void")] callback: Function,
    ) -> JsValue {
        self.listen(move |_| {
            let _ = callback.call0(&JsValue::NULL);
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

    fn bound(&self) -> (JsValue, JsValue, JsValue) {
        if let Some(fns) = &*self.shared.bound.borrow() {
            return fns.clone();
        }
        let client = self.client.clone();
        // Every JS callback the SDK makes has this one signature (see `platform::events`).
        let get_token = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |options| {
            run(Some(client.clone()), Op::GetToken(options)).into()
        })
        .into_js_value();
        let client = self.client.clone();
        let sign_out = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |_| {
            run(Some(client.clone()), Op::SignOut).into()
        })
        .into_js_value();
        let client = self.client.clone();
        let has = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |params: JsValue| {
            let role = Reflect::get(&params, &"role".into()).ok().and_then(|v| v.as_string());
            let permission = Reflect::get(&params, &"permission".into()).ok().and_then(|v| v.as_string());
            JsValue::from_bool(client.with_state(|s| match (role, permission) {
                (Some(role), _) => s.has(Check::Role(&role)),
                (None, Some(permission)) => s.has(Check::Permission(&permission)),
                (None, None) => false,
            }))
        })
        .into_js_value();
        let fns = (get_token, sign_out, has);
        *self.shared.bound.borrow_mut() = Some(fns.clone());
        fns
    }
}

fn snapshot(client: &Client, shared: &Shared) -> JsValue {
    let version = client.version();
    if let Some((v, snap)) = &*shared.snapshot.borrow()
        && *v == version
    {
        return snap.clone();
    }
    let snap = client.with_state(|state| {
        let (user, session) = match state.signed_in() {
            Some(s) => (wire::user_to_js(&s.user), wire::session_to_js(&s.session)),
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
        )
    });
    *shared.snapshot.borrow_mut() = Some((version, snap.clone()));
    snap
}

/// Every asynchronous method of the class, as data: one `future_to_promise` and one state machine
/// serve them all (each distinct async export costs its own in the wasm).
enum Op {
    Load(JsValue),
    SignUp(JsValue),
    SignIn(JsValue),
    SignOut,
    GetToken(JsValue),
    UpdateUser(JsValue),
}

fn run(client: Option<Client>, op: Op) -> Promise {
    future_to_promise(async move { perform(client, op).await.map_err(|e| error_to_js(&e)) })
}

async fn perform(client: Option<Client>, op: Op) -> Result<JsValue, Error> {
    let client = match (op, client) {
        (Op::Load(options), _) => {
            let client = Client::load(options_from_js(&options)?).await?;
            let shared = Rc::new(Shared { snapshot: RefCell::new(None), bound: RefCell::new(None) });
            return Ok(JsHallpass { client, shared }.into());
        }
        (_, None) => return Err(Error::not_signed_in()),
        (op, Some(client)) => (op, client),
    };
    match client {
        (Op::SignUp(params), client) => client.sign_up(sign_up_from_js(&params)?).await?,
        (Op::SignIn(params), client) => {
            let identifier = str_prop(&params, "identifier")?;
            client.sign_in(&identifier, &str_prop(&params, "password")?).await?;
        }
        (Op::SignOut, client) => client.sign_out().await?,
        (Op::GetToken(options), client) => {
            // `getToken()` passes `undefined`: Reflect.get would throw (and be caught) on every call.
            let get = |key: &str| {
                if options.is_object() {
                    Reflect::get(&options, &key.into()).unwrap_or_default()
                } else {
                    JsValue::UNDEFINED
                }
            };
            // Better a clear error than a session token where the app asked for a template's.
            if !get("template").is_undefined() {
                return Err(Error::new(ErrorCode::InvalidOptions, "JWT templates are not available yet"));
            }
            let skip = get("skipCache").as_bool() == Some(true);
            let options = if skip { GetTokenOptions::skip_cache() } else { GetTokenOptions::default() };
            let token = client.get_token(options).await?;
            return Ok(token.map(JsValue::from).unwrap_or(JsValue::NULL));
        }
        (Op::UpdateUser(params), client) => client.update_user(&convert::profile_from_js(&params)?).await?,
        (Op::Load(_), _) => {}
    }
    Ok(JsValue::UNDEFINED)
}

#[wasm_bindgen(module = "/src/js/facade.js")]
extern "C" {
    #[wasm_bindgen(js_name = authFetch)]
    fn auth_fetch(get_token: &JsValue, input: &JsValue, init: &JsValue) -> Promise;

    #[wasm_bindgen(js_name = makeSnapshot)]
    fn make_snapshot(
        loaded: bool,
        user: &JsValue,
        session: &JsValue,
        org_id: &JsValue,
        org_role: &JsValue,
        org_slug: &JsValue,
    ) -> JsValue;
}

/// True when `value` is an error thrown by Hallpass.
#[wasm_bindgen(js_name = isHallpassError)]
pub fn is_hallpass_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && Reflect::get(&value, &"name".into()).ok().and_then(|n| n.as_string()).as_deref()
            == Some("HallpassError")
}

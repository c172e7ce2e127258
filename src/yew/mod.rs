//! Yew bindings (feature `yew`): [`HallpassProvider`] loads one [`Hallpass`] client and shares its
//! state through a context; the hooks [`use_user`], [`use_session`], [`use_auth`] and
//! [`use_hallpass`] read it as typed Rust values, and every component using them re-renders when the
//! state changes (the provider listens with [`Hallpass::add_listener`]). Thin wrappers over
//! [`crate::client`], which does all the work.
//!
//! ```ignore
//! use hallpass::client::Options;
//! use hallpass::yew::{HallpassProvider, UserState, use_user};
//! use yew::prelude::*;
//!
//! #[function_component]
//! fn Greeting() -> Html {
//!     match use_user() {
//!         UserState::Loading => html! { <p>{ "Loading…" }</p> },
//!         UserState::SignedOut => html! { <SignInForm /> },
//!         UserState::SignedIn(user) => html! { <p>{ format!("Hello, {}", user.id) }</p> },
//!     }
//! }
//!
//! #[function_component]
//! fn App() -> Html {
//!     html! {
//!         <HallpassProvider options={Options::new("http://localhost:8787")}>
//!             <Greeting />
//!         </HallpassProvider>
//!     }
//! }
//! ```

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::Rc;

use hallpass_protocol::{Session, User};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::client::{Hallpass, ListenerHandle, Options};
use crate::core::state::AuthState;

/// What the provider shares: the client once loaded, and the state it last reported.
#[derive(Clone)]
pub struct HallpassContext {
    client: Option<Hallpass>,
    state: Rc<AuthState>,
    /// Moves on every change, so consumers re-render exactly when something changed.
    generation: u32,
}

impl PartialEq for HallpassContext {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation
    }
}

impl Default for HallpassContext {
    fn default() -> Self {
        HallpassContext { client: None, state: Rc::new(AuthState::Loading), generation: 0 }
    }
}

/// What changes the context.
enum Change {
    Loaded(Hallpass),
    State(AuthState),
}

/// The provider's reducer state (private, so [`Change`] stays private too).
#[derive(Default)]
struct Store(HallpassContext);

impl Reducible for Store {
    type Action = Change;

    fn reduce(self: Rc<Self>, change: Change) -> Rc<Self> {
        let generation = self.0.generation.wrapping_add(1);
        Rc::new(Store(match change {
            Change::Loaded(client) => {
                HallpassContext { state: Rc::new(client.state()), client: Some(client), generation }
            }
            Change::State(state) => {
                HallpassContext { client: self.0.client.clone(), state: Rc::new(state), generation }
            }
        }))
    }
}

/// Properties of [`HallpassProvider`].
#[derive(Properties, PartialEq)]
pub struct HallpassProviderProps {
    /// How to load the client. A change of options (by `Options`' `PartialEq`: every option, the
    /// clock by identity) loads a new one.
    pub options: Options,
    #[prop_or_default]
    pub children: Html,
}

/// Loads a client with `options` and makes it available to the hooks of every component below.
/// Until it has loaded (one tick: loading reads storage, not the network), the hooks report
/// [`AuthState::Loading`]. Invalid options are logged to the console and leave it loading.
#[function_component]
pub fn HallpassProvider(props: &HallpassProviderProps) -> Html {
    let store = use_reducer(Store::default);
    {
        let dispatch = store.dispatcher();
        use_effect_with(props.options.clone(), move |options| {
            let live = Rc::new(Cell::new(true));
            let listener: Rc<RefCell<Option<ListenerHandle>>> = Rc::default();
            let options = options.clone();
            spawn_local({
                let (live, listener) = (live.clone(), listener.clone());
                async move {
                    let client = match Hallpass::load(options).await {
                        Ok(client) => client,
                        Err(error) => {
                            web_sys::console::error_1(&format!("Hallpass: {error}").into());
                            return;
                        }
                    };
                    if !live.get() {
                        return;
                    }
                    let on_change = dispatch.clone();
                    let handle =
                        client.add_listener(move |state| on_change.dispatch(Change::State(state.clone())));
                    *listener.borrow_mut() = Some(handle);
                    dispatch.dispatch(Change::Loaded(client));
                }
            });
            // Unmount or new options: stop listening (this also ends the listener's hold on us).
            move || {
                live.set(false);
                drop(listener.borrow_mut().take());
            }
        });
    }
    html! {
        <ContextProvider<HallpassContext> context={store.0.clone()}>
            { props.children.clone() }
        </ContextProvider<HallpassContext>>
    }
}

/// The signed-in user, as Clerk's `useUser()` reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum UserState {
    /// The client has not loaded yet.
    Loading,
    SignedOut,
    SignedIn(User),
}

/// The current session, as Clerk's `useSession()` reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionState {
    /// The client has not loaded yet.
    Loading,
    SignedOut,
    SignedIn(Session),
}

/// The auth state (every accessor of [`AuthState`] through `Deref`: `is_loaded()`, `is_signed_in()`,
/// `user_id()`, `session_id()`, `org_id()`, `has(…)`, …) and the client, for `sign_in`,
/// `sign_out` and `get_token`.
#[derive(Clone)]
pub struct Auth {
    state: Rc<AuthState>,
    client: Option<Hallpass>,
}

impl Auth {
    /// The loaded client, or `None` while loading.
    pub fn client(&self) -> Option<&Hallpass> {
        self.client.as_ref()
    }
}

impl Deref for Auth {
    type Target = AuthState;

    fn deref(&self) -> &AuthState {
        &self.state
    }
}

/// The provider's context (the loading state outside a [`HallpassProvider`]).
#[hook]
fn use_context_or_loading() -> HallpassContext {
    use_context::<HallpassContext>().unwrap_or_default()
}

/// `Loading`, `SignedOut` or `SignedIn(user)`; re-renders the component on every change.
#[hook]
pub fn use_user() -> UserState {
    let context = use_context_or_loading();
    match &*context.state {
        AuthState::Loading => UserState::Loading,
        AuthState::SignedOut { .. } => UserState::SignedOut,
        AuthState::SignedIn(signed_in) => UserState::SignedIn(signed_in.user.clone()),
    }
}

/// `Loading`, `SignedOut` or `SignedIn(session)`; re-renders the component on every change.
#[hook]
pub fn use_session() -> SessionState {
    let context = use_context_or_loading();
    match &*context.state {
        AuthState::Loading => SessionState::Loading,
        AuthState::SignedOut { .. } => SessionState::SignedOut,
        AuthState::SignedIn(signed_in) => SessionState::SignedIn(signed_in.session.clone()),
    }
}

/// The auth state and the client; re-renders the component on every change.
#[hook]
pub fn use_auth() -> Auth {
    let context = use_context_or_loading();
    Auth { state: context.state.clone(), client: context.client.clone() }
}

/// The loaded client, or `None` while loading.
#[hook]
pub fn use_hallpass() -> Option<Hallpass> {
    use_context_or_loading().client
}

//! Yew bindings (feature `yew`): [`HallpassProvider`] loads one [`Hallpass`] client and shares its
//! state through a context; the hooks [`use_user`], [`use_session`], [`use_auth`] and
//! [`use_hallpass`] read it as typed Rust values, and every component using them re-renders when the
//! state changes (the provider listens with [`Hallpass::add_listener`]). [`use_organization`] and
//! [`use_organization_list`] are Clerk's organization hooks: the active organization, the user's
//! membership of it, and its members, invitations and the user's own, as Clerk's paginated
//! resources ([`Paginated`]), the protocol's types throughout. Thin wrappers over
//! [`crate::client`], which does all the work (every organization call through its one path,
//! `Hallpass::request`). [`use_sign_in`] and [`use_sign_up`] (module `flows`) are Clerk's
//! multi-step sign-in and sign-up over hallpass/flows' one JavaScript implementation.
//! [`use_ui_provider`] hands hallpass/ui's drop-in elements (`<hallpass-sign-in>`, …) this client.
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

use hallpass_protocol::wire::js::FromJs;
use hallpass_protocol::{Organization, OrganizationInvitation, OrganizationMembership, Session, User};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::client::{Hallpass, ListenerHandle, Options, PageParams};
use crate::core::error::Error;
use crate::core::routes;
use crate::core::state::AuthState;

mod flows;
pub use flows::{SignIn, SignUp, use_sign_in, use_sign_up};
/// The protocol's types the sign-in and sign-up hooks answer with.
pub use hallpass_protocol::{
    ErrorCode, SignInAttempt, SignInStatus, SignUpAttempt, SignUpStatus, Strategy, Verification,
    VerificationStatus,
};

/// What the provider shares: the client once loaded, and the state it last reported.
#[derive(Clone)]
pub struct HallpassContext {
    client: Option<Hallpass>,
    /// The client as the JavaScript SDK's instance, for the hooks that run hallpass/flows'
    /// JavaScript ([`use_sign_in`], [`use_sign_up`]).
    instance: Option<wasm_bindgen::JsValue>,
    state: Rc<AuthState>,
    /// What hallpass/ui's custom elements take as their `provider` ([`use_ui_provider`]).
    ui: wasm_bindgen::JsValue,
    /// Moves on every change, so consumers re-render exactly when something changed.
    generation: u32,
}

impl PartialEq for HallpassContext {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation && self.ui == other.ui
    }
}

impl Default for HallpassContext {
    fn default() -> Self {
        HallpassContext {
            client: None,
            instance: None,
            state: Rc::new(AuthState::Loading),
            ui: wasm_bindgen::JsValue::NULL,
            generation: 0,
        }
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
            Change::Loaded(client) => HallpassContext {
                state: Rc::new(client.state()),
                instance: Some(crate::js::instance(&client)),
                client: Some(client),
                ui: wasm_bindgen::JsValue::NULL,
                generation,
            },
            Change::State(state) => HallpassContext {
                client: self.0.client.clone(),
                instance: self.0.instance.clone(),
                state: Rc::new(state),
                ui: wasm_bindgen::JsValue::NULL,
                generation,
            },
        }))
    }
}

/// Properties of [`HallpassProvider`].
#[derive(Properties, PartialEq)]
pub struct HallpassProviderProps {
    /// How to load the client. A change of options (by `Options`' `PartialEq`: every option, the
    /// clock by identity) loads a new one.
    pub options: Options,
    /// hallpass/ui's `appearance` (`{ baseTheme, variables, elements, layout }`, a JavaScript object)
    /// for every drop-in component below; a component's own `appearance` wins.
    #[prop_or_default]
    pub appearance: wasm_bindgen::JsValue,
    /// hallpass/ui's `localization` for them (e.g. `frFR` from `hallpass/localizations`).
    #[prop_or_default]
    pub localization: wasm_bindgen::JsValue,
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
    // One object per client, appearance and localization: an element is given it again (and draws
    // again) only when one of them changed.
    let ui = use_memo(
        (store.0.instance.clone(), props.appearance.clone(), props.localization.clone()),
        |(instance, appearance, localization)| ui_provider(instance.as_ref(), appearance, localization),
    );
    let context = HallpassContext { ui: (*ui).clone(), ..store.0.clone() };
    html! {
        <ContextProvider<HallpassContext> {context}>
            { props.children.clone() }
        </ContextProvider<HallpassContext>>
    }
}

/// `{ client, appearance, localization }`: the client as the JavaScript SDK's instance (`undefined`
/// while it loads: the elements wait, then start with it).
fn ui_provider(
    instance: Option<&wasm_bindgen::JsValue>,
    appearance: &wasm_bindgen::JsValue,
    localization: &wasm_bindgen::JsValue,
) -> wasm_bindgen::JsValue {
    let object = js_sys::Object::new();
    let set = |key: &str, value: &wasm_bindgen::JsValue| {
        // Setting a property of a new plain object cannot fail.
        let _ = js_sys::Reflect::set(&object, &key.into(), value);
    };
    set("client", instance.unwrap_or(&wasm_bindgen::JsValue::UNDEFINED));
    set("appearance", appearance);
    set("localization", localization);
    object.into()
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

/// What hallpass/ui's custom elements take as their `provider` property: this provider's client (the
/// JavaScript SDK's instance of the same client: one client, one session, one refresh), with the
/// provider's `appearance` and `localization`. With hallpass/ui loaded by the page (it defines the
/// elements), a drop-in component is one line:
///
/// ```ignore
/// html! { <hallpass-sign-in ~provider={use_ui_provider()} fallback-redirect-url="/dashboard" /> }
/// ```
///
/// Attributes are the component's props in kebab case (`after-sign-out-url`, `hide-personal`);
/// `~props` takes an object for the rest (a component's own `appearance`). The same object until the
/// client, appearance or localization changes.
#[hook]
pub fn use_ui_provider() -> wasm_bindgen::JsValue {
    use_context_or_loading().ui
}

/// What a paginated list of a hook asks for: Clerk's `{ initialPage, pageSize, query, role, status }`
/// ([`PageParams`]), `infinite` (each next page is appended to the ones before) and
/// `keep_previous_data` (the page shown stays until the next one has arrived).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    pub params: PageParams,
    pub infinite: bool,
    pub keep_previous_data: bool,
}

impl From<PageParams> for ListOptions {
    fn from(params: PageParams) -> Self {
        ListOptions { params, ..ListOptions::default() }
    }
}

/// One of Clerk's paginated resources: a page of a list, where it stands, and how to move.
#[derive(Clone, Debug, PartialEq)]
pub struct Paginated<T> {
    /// The page's items (with `infinite`, every page so far).
    pub data: Vec<T>,
    /// How many there are in all.
    pub count: i64,
    /// Why the last fetch failed (none while fetching).
    pub error: Option<Error>,
    pub is_error: bool,
    /// Fetching with nothing to show yet.
    pub is_loading: bool,
    pub is_fetching: bool,
    /// From 1.
    pub page: u32,
    pub page_count: u32,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    go: Callback<u32>,
    revalidate: Callback<()>,
}

impl<T> Paginated<T> {
    /// Shows page `page` (from 1).
    pub fn fetch_page(&self, page: u32) {
        self.go.emit(page.max(1));
    }

    pub fn fetch_next(&self) {
        self.go.emit(self.page.saturating_add(1));
    }

    pub fn fetch_previous(&self) {
        self.go.emit(self.page.saturating_sub(1).max(1));
    }

    /// Fetches the page again (after a change the list does not know of).
    pub fn revalidate(&self) {
        self.revalidate.emit(());
    }
}

/// Which list: its route (`crate::core::routes`), the ids in its path, and what else names it (the
/// user's id for the user's own lists). A change starts again from the first page.
type ListKey = (usize, Vec<String>, Option<String>);

/// The list and the options that decide its pages, except which page.
type Filters = (ListKey, PageParams, bool);

/// What a list hook last got: for which `(filters, page, revalidation)`, and what.
struct Got<T> {
    at: Option<(Filters, u32, u32)>,
    data: Vec<T>,
    count: i64,
    error: Option<Error>,
}

/// A paginated resource over `list` (or `None` when `list` or `options` is `None`, or before the
/// client has loaded), as Clerk's hooks page theirs.
#[hook]
fn use_pages<T: FromJs + Clone + PartialEq + 'static>(
    client: Option<Hallpass>,
    list: Option<ListKey>,
    options: Option<ListOptions>,
) -> Option<Paginated<T>> {
    let on = client.is_some() && list.is_some() && options.is_some();
    let options = options.unwrap_or_default();
    let first = options.params.initial_page.max(1);
    let page_size = options.params.page_size;
    let filters: Filters = (
        list.unwrap_or_default(),
        PageParams { initial_page: 0, ..options.params.clone() },
        options.infinite,
    );
    let page = use_state(|| (filters.clone(), first));
    let nonce = use_state(|| 0u32);
    // Counted apart from the state: a `revalidate` of an older render still asks for a new fetch.
    let revalidations = use_mut_ref(|| 0u32);
    let got = use_state(|| Got::<T> { at: None, data: Vec::new(), count: 0, error: None });
    // Another list, size or filter: back to the first page.
    let n = if page.0 == filters { page.1 } else { first };
    let at = (filters.clone(), n, *nonce);
    {
        let got = got.clone();
        let infinite = options.infinite;
        use_effect_with((on, at.clone()), move |(on, at)| {
            let live = Rc::new(Cell::new(true));
            if let (true, Some(client)) = (*on, client) {
                let (live, at) = (live.clone(), at.clone());
                let before = (got.at.clone(), got.data.clone(), got.count);
                spawn_local(async move {
                    let ((route, ids, _), params, _) = &at.0;
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    let params = PageParams { initial_page: at.1, ..params.clone() };
                    let result = client.page::<T>(*route, &ids, &params).await;
                    if !live.get() {
                        return;
                    }
                    got.set(match result {
                        Ok(page) => {
                            let more =
                                infinite && at.1 > first && before.0.as_ref().is_some_and(|b| b.0 == at.0);
                            let data = if more { [before.1, page.data].concat() } else { page.data };
                            Got { at: Some(at), data, count: page.total_count, error: None }
                        }
                        Err(error) => {
                            Got { at: Some(at), data: before.1, count: before.2, error: Some(error) }
                        }
                    });
                });
            }
            move || live.set(false)
        });
    }
    if !on {
        return None;
    }
    let fetching = got.at.as_ref() != Some(&at);
    let same_list = got.at.as_ref().is_some_and(|a| a.0 == filters);
    let stale = fetching && !options.keep_previous_data && !options.infinite;
    let data = if same_list && !stale { got.data.clone() } else { Vec::new() };
    let count = if same_list { got.count } else { 0 };
    let size = i64::from(page_size.max(1));
    let pages = ((count.max(0) + size - 1) / size).max(1);
    let page_count = u32::try_from(pages).unwrap_or(u32::MAX);
    let error = if fetching { None } else { got.error.clone() };
    let go = {
        let (page, filters) = (page.clone(), filters.clone());
        Callback::from(move |to: u32| page.set((filters.clone(), to.max(1))))
    };
    let revalidate = {
        let nonce = nonce.clone();
        Callback::from(move |()| {
            let mut count = revalidations.borrow_mut();
            *count = count.wrapping_add(1);
            nonce.set(*count);
        })
    };
    Some(Paginated {
        is_loading: fetching && data.is_empty(),
        is_fetching: fetching,
        is_error: error.is_some(),
        error,
        data,
        count,
        page: n,
        page_count,
        has_next_page: n < page_count,
        has_previous_page: n > 1,
        go,
        revalidate,
    })
}

/// What [`use_organization`] lists besides the organization: its members (`memberships`) and its
/// invitations (`invitations`), each when asked for (Clerk's `useOrganization` params).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UseOrganizationParams {
    pub memberships: Option<ListOptions>,
    pub invitations: Option<ListOptions>,
}

/// Clerk's `useOrganization()`: the active organization (`None` for the personal account, or while
/// loading: see `is_loaded`), the user's membership of it, and the lists asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationState {
    pub is_loaded: bool,
    pub organization: Option<Organization>,
    pub membership: Option<OrganizationMembership>,
    pub memberships: Option<Paginated<OrganizationMembership>>,
    pub invitations: Option<Paginated<OrganizationInvitation>>,
}

/// The active organization as the token says it: id, role, slug (`None` until loaded).
type ActiveKey = Option<(Option<String>, Option<String>, Option<String>)>;

/// The active organization, the user's membership of it and (when asked for) its members and
/// invitations, a page at a time. Fetched again whenever the token's organization, role or slug
/// changes — a switch or a role change in any tab re-renders every component using it.
#[hook]
pub fn use_organization(params: UseOrganizationParams) -> OrganizationState {
    let context = use_context_or_loading();
    let state = &context.state;
    let key: ActiveKey = state.is_loaded().then(|| {
        let own = |v: Option<&str>| v.map(str::to_owned);
        (own(state.org_id()), own(state.org_role()), own(state.org_slug()))
    });
    let got = use_state(|| None::<(ActiveKey, Option<Organization>, Option<OrganizationMembership>)>);
    {
        let (got, client) = (got.clone(), context.client.clone());
        use_effect_with((context.client.is_some(), key.clone()), move |(_, key)| {
            let live = Rc::new(Cell::new(true));
            match (client, key.clone()) {
                (Some(client), Some((Some(org_id), role, slug))) => {
                    let live = live.clone();
                    let key = Some((Some(org_id.clone()), role, slug));
                    spawn_local(async move {
                        let organization = client.get_organization(&org_id).await;
                        // Any member may list their own memberships: the server's largest page.
                        let mine = client.user_memberships(&PageParams::default().page_size(500)).await;
                        if !live.get() {
                            return;
                        }
                        got.set(Some(match (organization, mine) {
                            (Ok(organization), Ok(mine)) => {
                                let membership = mine.data.into_iter().find(|m| m.organization.id == org_id);
                                (key, Some(organization), membership)
                            }
                            _ => (key, None, None),
                        }));
                    });
                }
                (Some(_), Some(personal)) => got.set(Some((Some(personal), None, None))),
                _ => {}
            }
            move || live.set(false)
        });
    }
    let loaded = key.is_some() && got.as_ref().is_some_and(|g| g.0 == key);
    let (organization, membership) = match (&*got, loaded) {
        (Some((_, organization, membership)), true) => (organization.clone(), membership.clone()),
        _ => (None, None),
    };
    let list = |route| organization.as_ref().map(|o| (route, vec![o.id.clone()], None));
    let memberships =
        use_pages(context.client.clone(), list(routes::MEMBERSHIPS), params.memberships.clone());
    let invitations =
        use_pages(context.client.clone(), list(routes::INVITATIONS), params.invitations.clone());
    OrganizationState { is_loaded: loaded, organization, membership, memberships, invitations }
}

/// What [`use_organization_list`] lists: the user's memberships (`user_memberships`) and the
/// invitations addressed to them (`user_invitations`), each when asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UseOrganizationListParams {
    pub user_memberships: Option<ListOptions>,
    pub user_invitations: Option<ListOptions>,
}

/// Clerk's `useOrganizationList()`: the lists asked for, and `create_organization` / `set_active`.
#[derive(Clone)]
pub struct OrganizationListState {
    pub is_loaded: bool,
    pub user_memberships: Option<Paginated<OrganizationMembership>>,
    pub user_invitations: Option<Paginated<OrganizationInvitation>>,
    client: Option<Hallpass>,
}

impl OrganizationListState {
    /// Creates an organization with the user as its admin ([`Hallpass::create_organization`]).
    pub async fn create_organization(&self, name: &str, slug: Option<&str>) -> Result<Organization, Error> {
        self.client.as_ref().ok_or_else(Error::not_signed_in)?.create_organization(name, slug).await
    }

    /// Makes `organization` (an id or slug; `None`: the personal account) the active one
    /// ([`Hallpass::set_active`]).
    pub async fn set_active(&self, organization: Option<&str>) -> Result<(), Error> {
        let client = self.client.as_ref().ok_or_else(Error::not_signed_in)?;
        client.set_active(Some(organization.map(str::to_owned))).await
    }
}

/// The user's memberships and invitations, a page at a time, and the calls that create and switch
/// organizations. A new user starts the lists again from their first page.
#[hook]
pub fn use_organization_list(params: UseOrganizationListParams) -> OrganizationListState {
    let context = use_context_or_loading();
    let user = context.state.user_id().map(str::to_owned);
    let list = |route| user.as_ref().map(|u| (route, Vec::new(), Some(u.clone())));
    let user_memberships =
        use_pages(context.client.clone(), list(routes::MY_MEMBERSHIPS), params.user_memberships.clone());
    let user_invitations =
        use_pages(context.client.clone(), list(routes::MY_INVITATIONS), params.user_invitations.clone());
    OrganizationListState {
        is_loaded: context.state.is_loaded() && context.client.is_some(),
        user_memberships,
        user_invitations,
        client: context.client.clone(),
    }
}

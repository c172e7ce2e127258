//! A small Yew app on `hallpass`'s `yew` feature: the drop-in sign-in (hallpass/ui's custom element
//! on this app's client) and a sign-in/sign-up form of its own while signed out; the drop-in user
//! button, the user, a session token, the organizations (the active one and its members, yours to switch to, create
//! and switch, the personal account) and a sign-out button while signed in. Every view reads the
//! hooks; nothing here keeps its own copy of the auth state.
//!
//! Build and serve it (see README.md), or mount [`App`] yourself:
//! `yew::Renderer::<App>::with_props(AppProps { frontend_api: "http://127.0.0.1:8787".into() }).render()`.
#![cfg(target_arch = "wasm32")]

use hallpass::client::{GetTokenOptions, Options, SignUp};
use hallpass::yew::{
    HallpassProvider, ListOptions, SessionState, UseOrganizationListParams, UseOrganizationParams, UserState,
    use_auth, use_hallpass, use_organization, use_organization_list, use_session, use_ui_provider, use_user,
};
use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`App`].
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// The Hallpass server, e.g. `http://127.0.0.1:8787`.
    pub frontend_api: AttrValue,
}

/// The whole app: the provider around the page.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    let options = Options::new(props.frontend_api.to_string());
    html! {
        <HallpassProvider {options}>
            <main class="hallpass-example">
                <h1>{ "Hallpass × Yew" }</h1>
                <Page />
            </main>
        </HallpassProvider>
    }
}

/// Signed out: the drop-in sign-in (hallpass/ui's `<hallpass-sign-in>`, when the page loaded it) and
/// the same done by hand on the hooks. Signed in: the drop-in user button, then the hooks' views.
#[function_component]
fn Page() -> Html {
    // The elements use this provider's client: a sign-in through them is this app's sign-in.
    let ui = use_ui_provider();
    match use_user() {
        UserState::Loading => html! { <p class="loading">{ "Loading…" }</p> },
        UserState::SignedOut => html! {
            <>
                <hallpass-sign-in ~provider={ui} />
                <h2 class="own">{ "Or your own form, on the hooks" }</h2>
                <SignInForm />
            </>
        },
        UserState::SignedIn(user) => {
            let name = match (&user.first_name, &user.last_name) {
                (Some(first), Some(last)) => format!("{first} {last}"),
                (Some(first), None) => first.clone(),
                _ => user.id.clone(),
            };
            html! {
                <section class="signed-in">
                    <hallpass-user-button ~provider={ui} />
                    <p id="greeting">{ format!("Signed in as {name}") }</p>
                    <SessionInfo />
                    <TokenButton />
                    <Organizations />
                    <SignOutButton />
                </section>
            }
        }
    }
}

#[function_component]
fn SessionInfo() -> Html {
    match use_session() {
        SessionState::SignedIn(session) => {
            html! { <p id="session">{ format!("Session {}", session.id) }</p> }
        }
        SessionState::Loading | SessionState::SignedOut => Html::default(),
    }
}

/// Sign in, or create the account with the same fields.
#[function_component]
fn SignInForm() -> Html {
    let hallpass = use_hallpass();
    let email = use_node_ref();
    let password = use_node_ref();
    let error = use_state(|| None::<String>);
    let submit = |create: bool| {
        let (hallpass, email, password, error) =
            (hallpass.clone(), email.clone(), password.clone(), error.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(client) = hallpass.clone() else { return };
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let (email, password, error) = (value(&email), value(&password), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = if create {
                    client.sign_up(SignUp::new(email, password)).await
                } else {
                    client.sign_in(&email, &password).await
                };
                // On success the provider re-renders the page signed in; this form goes away.
                if let Err(e) = result {
                    error.set(Some(e.to_string()));
                }
            });
        })
    };
    let create = use_state(|| false);
    let toggle = {
        let create = create.clone();
        Callback::from(move |_: MouseEvent| create.set(!*create))
    };
    html! {
        <form class="sign-in" onsubmit={submit(*create)}>
            <h2>{ if *create { "Create an account" } else { "Sign in" } }</h2>
            if let Some(message) = &*error {
                <p class="error" role="alert">{ message }</p>
            }
            <label>{ "Email address" }<input ref={email} name="email" type="email" autocomplete="username" /></label>
            <label>{ "Password" }<input ref={password} name="password" type="password" /></label>
            <button type="submit">{ if *create { "Create account" } else { "Sign in" } }</button>
            <button type="button" class="link" onclick={toggle}>
                { if *create { "I have an account" } else { "Create an account instead" } }
            </button>
        </form>
    }
}

#[function_component]
fn TokenButton() -> Html {
    let auth = use_auth();
    let token = use_state(|| None::<String>);
    let onclick = {
        let (client, token) = (auth.client().cloned(), token.clone());
        Callback::from(move |_: MouseEvent| {
            let (client, token) = (client.clone(), token.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(client) = client {
                    let jwt = client.get_token(GetTokenOptions::default()).await.ok().flatten();
                    token.set(jwt.map(|t| format!("{}…", t.chars().take(24).collect::<String>())));
                }
            });
        })
    };
    html! {
        <p>
            <button {onclick}>{ "Get a session token" }</button>
            if let Some(t) = &*token { <code id="token">{ t }</code> }
        </p>
    }
}

/// The active organization with its members (`use_organization`), your organizations to switch to
/// (`use_organization_list`), a form that creates one and makes it active, and the personal account.
#[function_component]
fn Organizations() -> Html {
    let active = use_organization(UseOrganizationParams {
        memberships: Some(ListOptions::default()),
        ..UseOrganizationParams::default()
    });
    let list = use_organization_list(UseOrganizationListParams {
        user_memberships: Some(ListOptions::default()),
        ..UseOrganizationListParams::default()
    });
    let name = use_node_ref();
    let error = use_state(|| None::<String>);
    // Every action is the list's call; after a create, the list again (a new organization is a new
    // membership). A switch changes no membership: the list stays as it is.
    let act = {
        let (list, error) = (list.clone(), error.clone());
        move |target: Option<String>, create: Option<String>| {
            let (list, error) = (list.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let created = create.is_some();
                let result = match create {
                    Some(name) => match list.create_organization(&name, None).await {
                        Ok(organization) => list.set_active(Some(&organization.id)).await,
                        Err(e) => Err(e),
                    },
                    None => list.set_active(target.as_deref()).await,
                };
                match result {
                    Ok(()) => error.set(None),
                    Err(e) => error.set(Some(e.to_string())),
                }
                if let (true, Some(mine)) = (created, &list.user_memberships) {
                    mine.revalidate();
                }
            });
        }
    };
    let create = {
        let (act, name) = (act.clone(), name.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = name.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            act(None, Some(value));
        })
    };
    let personal = {
        let act = act.clone();
        Callback::from(move |_: MouseEvent| act(None, None))
    };
    let status = match (&active.organization, &active.membership) {
        _ if !active.is_loaded => "Loading…".to_owned(),
        (None, _) => "Personal account".to_owned(),
        (Some(o), membership) => {
            let role = membership.as_ref().map_or("", |m| m.role.as_str());
            format!("Active organization: {} ({role})", o.name)
        }
    };
    let members = active.memberships.as_ref().map(|page| {
        page.data
            .iter()
            .map(|m| html! { <li>{ format!("{} {}", m.public_user_data.identifier, m.role) }</li> })
    });
    let mine = list.user_memberships.as_ref().map(|page| {
        page.data
            .iter()
            .map(|m| {
                let (act, id) = (act.clone(), m.organization.id.clone());
                let onclick = Callback::from(move |_: MouseEvent| act(Some(id.clone()), None));
                html! { <li><button class="switch" {onclick}>{ format!("Switch to {}", m.organization.name) }</button></li> }
            })
            .collect::<Html>()
    });
    html! {
        <section class="organizations">
            <h2>{ "Organizations" }</h2>
            <p id="active-organization">{ status }</p>
            if let Some(message) = &*error {
                <p class="error" role="alert">{ message }</p>
            }
            if let Some(members) = members {
                <ul id="members">{ for members }</ul>
            }
            <ul id="my-organizations">{ mine.unwrap_or_default() }</ul>
            <form class="create-organization" onsubmit={create}>
                <label>{ "Organization name" }<input ref={name} name="organization" /></label>
                <button type="submit">{ "Create and switch" }</button>
            </form>
            <button id="personal" onclick={personal}>{ "Personal account" }</button>
        </section>
    }
}

#[function_component]
fn SignOutButton() -> Html {
    let auth = use_auth();
    let onclick = {
        let client = auth.client().cloned();
        Callback::from(move |_: MouseEvent| {
            if let Some(client) = client.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    // A local sign-out always succeeds; the provider re-renders signed out.
                    let _ = client.sign_out().await;
                });
            }
        })
    };
    html! { <button id="sign-out" {onclick}>{ "Sign out" }</button> }
}

/// Mounts [`App`] on the page's `<body>` (the example's `index.html` calls it after loading the wasm).
#[wasm_bindgen]
pub fn start(frontend_api: String) {
    yew::Renderer::<App>::with_props(AppProps { frontend_api: frontend_api.into() }).render();
}

//! A small Yew app on `hallpass`'s `yew` feature: a sign-in/sign-up form while signed out; the user,
//! a session token and a sign-out button while signed in. Every view reads the hooks; nothing here
//! keeps its own copy of the auth state.
//!
//! Build and serve it (see README.md), or mount [`App`] yourself:
//! `yew::Renderer::<App>::with_props(AppProps { frontend_api: "http://127.0.0.1:8787".into() }).render()`.
#![cfg(target_arch = "wasm32")]

use hallpass::client::{GetTokenOptions, Options, SignUp};
use hallpass::yew::{
    HallpassProvider, SessionState, UserState, use_auth, use_hallpass, use_session, use_user,
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

#[function_component]
fn Page() -> Html {
    match use_user() {
        UserState::Loading => html! { <p class="loading">{ "Loading…" }</p> },
        UserState::SignedOut => html! { <SignInForm /> },
        UserState::SignedIn(user) => {
            let name = match (&user.first_name, &user.last_name) {
                (Some(first), Some(last)) => format!("{first} {last}"),
                (Some(first), None) => first.clone(),
                _ => user.id.clone(),
            };
            html! {
                <section class="signed-in">
                    <p id="greeting">{ format!("Signed in as {name}") }</p>
                    <SessionInfo />
                    <TokenButton />
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

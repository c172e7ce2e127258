//! The example in headless Chromium (`cargo xtask test` runs `wasm-pack test --headless --chrome
//! examples/yew`): it mounts, shows the signed-out form, and re-renders signed in and out again as
//! the hooks report the changes, against the real test server.
#![cfg(target_arch = "wasm32")]

use hallpass_yew_example::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlFormElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The Frontend API of the server `cargo xtask test` starts (an address nothing answers at without).
const API: &str = match option_env!("HALLPASS_TEST_FRONTEND_API") {
    Some(api) => api,
    None => "http://127.0.0.1:9",
};

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Waits up to 10 s for `root` to contain `text`.
async fn wait_for_text(root: &Element, text: &str) {
    for _ in 0..200 {
        if root.text_content().unwrap_or_default().contains(text) {
            return;
        }
        sleep(50).await;
    }
    panic!("`{text}` never appeared; the page shows: {:?}", root.text_content());
}

fn mount() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    // Each test starts signed out: the example keeps its session in localStorage.
    web_sys::window().unwrap().local_storage().unwrap().unwrap().clear().unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { frontend_api: API.into() }).render();
    root
}

fn input(root: &Element, name: &str) -> HtmlInputElement {
    root.query_selector(&format!("input[name={name}]")).unwrap().unwrap().unchecked_into()
}

#[wasm_bindgen_test]
async fn mounts_and_shows_the_signed_out_form() {
    let root = mount();
    wait_for_text(&root, "Sign in").await;
    assert!(root.query_selector("form.sign-in").unwrap().is_some());
    assert!(!root.text_content().unwrap_or_default().contains("Loading"));
    assert!(!root.text_content().unwrap_or_default().contains("Signed in as"));
}

#[wasm_bindgen_test]
async fn signs_up_then_out_and_the_hooks_re_render() {
    if option_env!("HALLPASS_TEST_FRONTEND_API").is_none() {
        return; // needs the server that `cargo xtask test` starts
    }
    let root = mount();
    wait_for_text(&root, "Create an account instead").await;
    let toggle: HtmlElement = root.query_selector("button.link").unwrap().unwrap().unchecked_into();
    toggle.click();
    wait_for_text(&root, "Create account").await;
    let email = format!("yew-{}@example.com", js_sys::Math::random().to_bits());
    input(&root, "email").set_value(&email);
    input(&root, "password").set_value("correct horse battery staple");
    let form: HtmlFormElement = root.query_selector("form").unwrap().unwrap().unchecked_into();
    form.request_submit().unwrap();
    wait_for_text(&root, "Signed in as").await;
    wait_for_text(&root, "Session sess_").await;
    let sign_out: HtmlElement = root.query_selector("#sign-out").unwrap().unwrap().unchecked_into();
    sign_out.click();
    wait_for_text(&root, "Sign in").await;
    assert!(!root.text_content().unwrap_or_default().contains("Signed in as"));
}

fn button(root: &Element, selector: &str) -> HtmlElement {
    root.query_selector(selector).unwrap().unwrap().unchecked_into()
}

/// Waits up to 10 s for the element `selector` to contain `text`.
async fn wait_for_in(root: &Element, selector: &str, text: &str) {
    for _ in 0..200 {
        let found = root.query_selector(selector).ok().flatten().and_then(|e| e.text_content());
        if found.as_deref().is_some_and(|t| t.contains(text)) {
            return;
        }
        sleep(50).await;
    }
    panic!("`{text}` never appeared in {selector}; the page shows: {:?}", root.text_content());
}

#[wasm_bindgen_test]
async fn organizations_through_the_hooks_create_switch_and_list_members() {
    if option_env!("HALLPASS_TEST_FRONTEND_API").is_none() {
        return; // needs the server that `cargo xtask test` starts
    }
    let root = mount();
    wait_for_text(&root, "Create an account instead").await;
    button(&root, "button.link").click();
    wait_for_text(&root, "Create account").await;
    let email = format!("yew-org-{}@example.com", js_sys::Math::random().to_bits());
    input(&root, "email").set_value(&email);
    input(&root, "password").set_value("correct horse battery staple");
    let form: HtmlFormElement = root.query_selector("form").unwrap().unwrap().unchecked_into();
    form.request_submit().unwrap();
    // Signed in: the personal account, no memberships yet.
    wait_for_in(&root, "#active-organization", "Personal account").await;
    assert_eq!(root.query_selector("#my-organizations li").unwrap(), None);

    // Create and switch: use_organization shows it with the creator's role and its one member.
    let name = format!("Acme {}", js_sys::Math::random().to_bits() % 100_000);
    input(&root, "organization").set_value(&name);
    let create: HtmlFormElement =
        root.query_selector("form.create-organization").unwrap().unwrap().unchecked_into();
    create.request_submit().unwrap();
    wait_for_in(&root, "#active-organization", &format!("Active organization: {name} (org:admin)")).await;
    wait_for_in(&root, "#members", &format!("{email} org:admin")).await;
    // use_organization_list: the new membership, after the list's revalidation.
    wait_for_in(&root, "#my-organizations", &format!("Switch to {name}")).await;

    // The personal account, then back through the list: the hooks follow the token's organization.
    button(&root, "#personal").click();
    wait_for_in(&root, "#active-organization", "Personal account").await;
    assert_eq!(root.query_selector("#members").unwrap(), None, "no members list without an organization");
    wait_for_in(&root, "#my-organizations", &format!("Switch to {name}")).await;
    button(&root, "#my-organizations button.switch").click();
    wait_for_in(&root, "#active-organization", &format!("Active organization: {name} (org:admin)")).await;
    wait_for_in(&root, "#members", &email).await;
    button(&root, "#sign-out").click();
    wait_for_text(&root, "Sign in").await;
}

/// Probes `use_sign_in()` (hallpass/flows' JavaScript under the Yew hooks): an email-code sign-in
/// created for `email`, then a wrong code; writes what it saw into its paragraph.
#[derive(yew::Properties, PartialEq)]
struct ProbeProps {
    email: String,
}

#[yew::function_component]
fn SignInProbe(props: &ProbeProps) -> yew::Html {
    use hallpass::yew::{SignInStatus, Strategy, use_sign_in};
    let sign_in = use_sign_in();
    let seen = yew::use_state(String::new);
    let started = yew::use_mut_ref(|| false);
    if let Some(sign_in) = sign_in.clone()
        && !*started.borrow()
    {
        *started.borrow_mut() = true;
        let (seen, email) = (seen.clone(), props.email.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let created = sign_in.create(&email, Some(Strategy::EmailCode), None, None).await;
            let first = match created {
                Ok(a) if a.status == SignInStatus::NeedsFirstFactor => {
                    let v = a.first_factor_verification.map(|v| v.strategy.as_str()).unwrap_or("none");
                    format!("needs_first_factor by {v}")
                }
                Ok(a) => format!("status {}", a.status.as_str()),
                Err(e) => format!("error {}", e.code.as_str()),
            };
            let wrong = match sign_in.attempt_first_factor(Strategy::EmailCode, "abcdef").await {
                Ok(_) => "signed in".to_owned(),
                Err(e) => format!("refused {}", e.code.as_str()),
            };
            let tries = sign_in.attempt().and_then(|a| a.first_factor_verification).map_or(0, |v| v.attempts);
            seen.set(format!("{first}; {wrong}; tries {tries}"));
        });
    }
    yew::html! { <p class="probe">{ (*seen).clone() }</p> }
}

#[wasm_bindgen_test]
async fn use_sign_in_runs_the_flows_steps_typed() {
    if option_env!("HALLPASS_TEST_FRONTEND_API").is_none() {
        return; // needs the server that `cargo xtask test` starts
    }
    use hallpass::client::Options;
    use hallpass::yew::HallpassProvider;
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let email = format!("yew-code-{}@example.com", js_sys::Math::random().to_bits());
    #[yew::function_component]
    fn Wrapper(props: &ProbeProps) -> yew::Html {
        yew::html! {
            <HallpassProvider options={Options::new(API)}>
                <SignInProbe email={props.email.clone()} />
            </HallpassProvider>
        }
    }
    yew::Renderer::<Wrapper>::with_root_and_props(root.clone(), ProbeProps { email }).render();
    wait_for_text(&root, "tries").await;
    assert_eq!(
        root.text_content().unwrap_or_default(),
        "needs_first_factor by email_code; refused form_code_incorrect; tries 1"
    );
}

/// What `use_ui_provider()` gave each render of the probe below.
#[derive(yew::Properties, PartialEq)]
struct UiProbeProps {
    seen: std::rc::Rc<std::cell::RefCell<Vec<wasm_bindgen::JsValue>>>,
}

#[yew::function_component]
fn UiProbe(props: &UiProbeProps) -> yew::Html {
    props.seen.borrow_mut().push(hallpass::yew::use_ui_provider());
    yew::Html::default()
}

#[wasm_bindgen_test]
async fn use_ui_provider_hands_the_elements_the_providers_client_appearance_and_localization() {
    use hallpass::client::Options;
    use hallpass::yew::HallpassProvider;
    use js_sys::{Function, Object, Reflect};
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(yew::Properties, PartialEq)]
    struct WrapperProps {
        seen: Rc<RefCell<Vec<wasm_bindgen::JsValue>>>,
        outside: Rc<RefCell<Vec<wasm_bindgen::JsValue>>>,
        appearance: wasm_bindgen::JsValue,
        localization: wasm_bindgen::JsValue,
    }
    #[yew::function_component]
    fn Wrapper(props: &WrapperProps) -> yew::Html {
        yew::html! {
            <>
                <HallpassProvider options={Options::new(API)} appearance={props.appearance.clone()} localization={props.localization.clone()}>
                    <UiProbe seen={props.seen.clone()} />
                </HallpassProvider>
                <UiProbe seen={props.outside.clone()} />
            </>
        }
    }
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let (appearance, localization) = (Object::new(), Object::new());
    let (seen, outside) = (Rc::<RefCell<Vec<_>>>::default(), Rc::<RefCell<Vec<_>>>::default());
    yew::Renderer::<Wrapper>::with_root_and_props(
        root,
        WrapperProps {
            seen: seen.clone(),
            outside: outside.clone(),
            appearance: appearance.clone().into(),
            localization: localization.clone().into(),
        },
    )
    .render();
    let get = |object: &wasm_bindgen::JsValue, key: &str| Reflect::get(object, &key.into()).unwrap();
    let loaded = |ui: &wasm_bindgen::JsValue| get(ui, "client").is_object();
    for _ in 0..200 {
        if seen.borrow().iter().any(loaded) {
            break;
        }
        sleep(50).await;
    }
    let seen = seen.borrow();
    let ui = seen.iter().find(|ui| loaded(ui)).expect("the client never loaded").clone();
    // The client is the JavaScript SDK's instance (what hallpass/ui calls): signed out, here.
    let use_auth: Function = get(&get(&ui, "client"), "useAuth").dyn_into().unwrap();
    let auth = use_auth.call0(&get(&ui, "client")).unwrap();
    assert_eq!(get(&auth, "isSignedIn"), wasm_bindgen::JsValue::FALSE);
    assert!(Object::is(&get(&ui, "appearance"), &appearance));
    assert!(Object::is(&get(&ui, "localization"), &localization));
    // Every render after the load saw the same object: an element is not given it again needlessly.
    assert!(seen.iter().filter(|ui| loaded(ui)).all(|other| Object::is(other, &ui)));
    // Outside a provider: nothing (the elements then use the page's `configure()`).
    assert!(outside.borrow().iter().all(|ui| ui.is_null()));
}

//! The page an email link opens (`/v1/verify`). `GET ?token=` only shows a button; its form `POST`s
//! the token, which uses the link — so a mail scanner or a link preview that fetches the URL uses
//! nothing up. Using it verifies the sign-up, sign-in or address it was sent for: the tab that asked
//! learns of it on its next poll (`GET …/sign_ups/{id}`, `GET …/sign_ins/{id}`) and is signed in
//! there; this browser is not (no session credential is in the link or in this page). Afterwards the
//! page sends the browser to the `redirect_url` given when the link was asked for, with
//! `hallpass_status=verified|expired|failed`, or says itself what happened.
//!
//! The page carries the token, so it is sent with `referrer-policy: no-referrer`, `cache-control:
//! no-store`, a CSP allowing nothing but its inline style and a form to itself (and on to the link's
//! redirect URL, where the form's answer sends the browser), and no framing.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::email::templates::escape;
use crate::state::AppState;
use crate::store::CheckOutcome;
use crate::verification::{link_hash, link_token_well_formed};

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
}

/// `GET /v1/verify?token=…`: the button.
pub async fn show(State(state): State<AppState>, Query(q): Query<TokenParam>) -> Response {
    let app = escape(&app_name(&state).await);
    if !link_token_well_formed(&q.token) {
        return page(
            StatusCode::BAD_REQUEST,
            &app,
            "This link is not valid",
            "Check that you opened the whole link from the email.",
            "",
        );
    }
    let form = format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\" style=\"padding:10px 18px;font-size:16px\">Continue</button></form>",
        hallpass_protocol::paths::VERIFY,
        escape(&q.token)
    );
    let mut res = page(StatusCode::OK, &app, "Confirm it is you", "Press Continue to use this link.", &form);
    // Once used, the link sends the browser on to its redirect URL with a 303 — and browsers hold a
    // form's redirects to `form-action` too (Chromium blocks them otherwise): that origin is allowed.
    let target = state.store.email_link_redirect(&link_hash(&q.token)).await.ok().flatten();
    let origin = target.and_then(|u| url::Url::parse(&u).ok()).map(|u| u.origin().ascii_serialization());
    if let Some(origin) = origin.filter(|o| o.starts_with("http"))
        && let Ok(csp) =
            HeaderValue::from_str(&CSP.replace("form-action 'self'", &format!("form-action 'self' {origin}")))
    {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    res
}

/// `POST /v1/verify` (form: `token`): uses the link.
pub async fn confirm(State(state): State<AppState>, Form(q): Form<TokenParam>) -> Response {
    let app = escape(&app_name(&state).await);
    if !link_token_well_formed(&q.token) {
        return page(
            StatusCode::BAD_REQUEST,
            &app,
            "This link is not valid",
            "Check that you opened the whole link from the email.",
            "",
        );
    }
    let used = match state.store.use_email_link(&link_hash(&q.token), state.now_ms()).await {
        Ok(used) => used,
        Err(e) => {
            tracing::error!(error = %e, "email link: storage failed");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &app,
                "Something went wrong",
                "Try the link again in a moment.",
                "",
            );
        }
    };
    let Some((verification, outcome)) = used else {
        return page(
            StatusCode::NOT_FOUND,
            &app,
            "This link is not valid any more",
            "A newer link was sent, or this one was never sent. Ask for a new one.",
            "",
        );
    };
    let (status, title, text) = match outcome {
        CheckOutcome::Verified => (
            "verified",
            "Done",
            if verification.owner_id.starts_with(hallpass_protocol::id_prefix::EMAIL_ADDRESS) {
                "Your email address is verified. You can close this tab."
            } else {
                "You can close this tab and return to the one where you asked for the link: it continues there."
            },
        ),
        CheckOutcome::Expired => {
            ("expired", "This link has expired", "Links work for 10 minutes. Ask for a new one.")
        }
        CheckOutcome::AlreadyVerified => (
            "failed",
            "This link was used already",
            "Each link works once. Ask for a new one if you need to.",
        ),
        _ => ("failed", "This link cannot be used", "Ask for a new one."),
    };
    if let Some(url) = verification.redirect_url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
        let mut url = url;
        url.query_pairs_mut().append_pair("hallpass_status", status);
        if let Ok(location) = HeaderValue::from_str(url.as_str()) {
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(header::LOCATION, location);
            harden(&mut res);
            return res;
        }
    }
    let code = if status == "verified" { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(code, &app, title, text, "")
}

/// The instance name in force; the flags' when the settings cannot be read (the page still says
/// what it can).
async fn app_name(state: &AppState) -> String {
    match state.auth().await {
        Ok(settings) => settings.instance_name.clone(),
        Err(e) => {
            tracing::error!(error = %e, "email link: reading the instance settings failed");
            state.settings.flags().instance_name.clone()
        }
    }
}

/// A small page (`app` is already escaped; `title` and `text` are the code's own).
fn page(status: StatusCode, app: &str, title: &str, text: &str, extra: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{title} — {app}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:480px;margin:48px auto;padding:0 16px\">\
         <p style=\"font-weight:bold\">{app}</p><h1 style=\"font-size:22px\">{title}</h1><p>{text}</p>{extra}</body></html>",
        title = escape(title),
        text = escape(text),
    );
    let mut res = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    harden(&mut res);
    // A used or unknown link's page is an error status, and still the page the person should see.
    res.extensions_mut().insert(super::PageForPeople);
    res
}

fn harden(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
}

/// The pages' content security policy: nothing but their inline style and a form to this server.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

//! `hallpass-server`: the self-hosted Hallpass backend — users, sessions, rotating refresh tokens,
//! RS256 session tokens and their JWKS, JWT templates, on an embedded SQLite file or on PostgreSQL
//! (shared by any number of replicas).
//!
//! Module map:
//! - [`config`]: every setting, as a flag and a `HALLPASS_*` environment variable.
//! - [`state`]: [`AppState`] — opens the store, loads or creates keys and secrets.
//! - [`routes`]: the router ([`app`]), Frontend API (`/v1/client/…`, CORS allow-list), Backend API
//!   (`/v1/…`, secret key), JWKS, and the cross-cutting middleware (server time, error shape).
//! - [`store`]: all SQL, behind one type, organised by resource; SQLite and PostgreSQL.
//! - [`housekeeping`]: the background purge of sessions, refresh tokens and webhook events past their
//!   retention, refilled rate-limit budgets, and the retirement of replaced signing keys.
//! - [`webhooks`]: events about users, sessions and organizations, delivered to the app's endpoints
//!   by a background worker — signing, retries, the address policy, the HTTP client.
//! - [`email`]: codes, links and invitations by email — templates, the SMTP transport, the mail
//!   worker with its retries, the development mailbox; [`verification`]: one-time codes and link
//!   tokens; [`auth_settings`]: which sign-up and sign-in steps the instance has (`GET
//!   /v1/environment`) and the rules they keep; [`instance_settings`]: the ones in force on every
//!   replica, as the flags and the Backend API (`PATCH /v1/instance`) set them.
//! - [`refresh`]: refresh tokens — hashing and the derived successor used by the grace window.
//! - [`jwt`]: RS256 signing (aws-lc-rs) and verification pinned to RS256; [`session_token`]: the
//!   claims of session tokens, with the active organization; [`keyring`]: the signing keys at run
//!   time (reloaded from the database, leases, bounded signing); [`key_rotation`]: the
//!   `hallpass-server keys rotate|list` commands.
//! - [`jwt_template`]: JWT templates — rules, Clerk shortcode rendering, custom signing keys, minting.
//! - [`serve`]: the accept loop — connection caps, header-read timeout, the open-files limit.
//! - [`organization_rules`]: names, slugs, role and permission keys of organizations; the instance's
//!   organization settings.
//! - [`password`]: Argon2id as a bounded resource. [`validate`]: email/password/name/metadata rules,
//!   with [`common_passwords`] (the list compiled in).
//! - [`ratelimit`]: rate limits and sign-in lockout; [`client_addr`]: the client's address behind
//!   trusted proxies; [`security_log`]: the structured security events; [`user_agent`]: the device
//!   a session was started on, and what its `User-Agent` says of it.
//! - [`at_rest`]: private files, and sealing keys at rest with `HALLPASS_KEY_ENCRYPTION_KEY`.
//! - [`image_type`]: which image an uploaded profile image is, by its first bytes.
//! - [`origins`], [`extract`], [`error`], [`secret`], [`clock`]: the supporting cast.
//!
//! Test seams: [`app`] for in-process tests (`tower::ServiceExt::oneshot`), [`run`] for a real
//! socket, [`clock::ManualClock`] to move time.

pub mod at_rest;
pub mod auth_settings;
pub mod client_addr;
pub mod clock;
pub mod common_passwords;
pub mod config;
pub mod email;
pub mod error;
pub mod extract;
pub mod housekeeping;
pub mod image_type;
pub mod instance_settings;
pub mod jwt;
pub mod jwt_template;
pub mod key_rotation;
pub mod keyring;
pub mod organization_rules;
pub mod origins;
pub mod password;
pub mod ratelimit;
pub mod refresh;
pub mod routes;
pub mod secret;
pub mod security_log;
pub mod serve;
pub mod session_token;
pub mod state;
pub mod store;
pub mod user_agent;
pub mod validate;
pub mod verification;
pub mod webhooks;

pub use config::Config;
pub use routes::app;
pub use state::{AppState, StartError};

/// Serves `state` on `listener` until `shutdown` completes, then finishes in-flight requests, with
/// the connection caps and timeouts of [`serve`]; runs [`housekeeping`], the webhook
/// [`webhooks::worker`], the [`email::worker`] and the signing keys' reload ([`keyring::spawn_poller`])
/// meanwhile.
///
/// Without a configured public URL, the tokens' issuer becomes `http://<listener address>`.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.set_bound_addr(listener.local_addr()?);
    if state.config.demo_dir.is_some() {
        routes::demo_webhooks::subscribe(&state).await;
    }
    let (stop_background, stop) = housekeeping::stop_signal();
    let poller = keyring::spawn_poller(state.clone(), stop.clone());
    let housekeeper = housekeeping::spawn(state.clone(), stop.clone());
    let deliverer = webhooks::worker::spawn(state.clone(), stop.clone());
    let mail = email::worker::spawn(state.clone(), stop);
    let served = serve::serve(listener, state, async move {
        shutdown.await;
        stop_background.stop();
    })
    .await;
    // Stopped by the signal above, or (if serving failed) by its handle being dropped with the future;
    // either way they end after the batch or the attempts in progress.
    let _ = housekeeper.await;
    let _ = deliverer.await;
    let _ = poller.await;
    let _ = mail.await;
    served
}

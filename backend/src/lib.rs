//! `hallpass-backend`: Hallpass for Rust app backends — what `hallpass/server` is for JavaScript.
//!
//! - [`Verifier`]: session tokens checked offline, with a local key or the instance's JWKS behind a
//!   cache ([`jwks`]: max age, unknown `kid`s refetch with a cooldown, stale keys keep verifying when
//!   the server is down); [`Verifier::authenticate`] turns a request's headers into an [`Auth`].
//! - [`Auth`] and [`Auth::has`]: Clerk's auth object and `has()` ([`Check`]: role, permission,
//!   feature), from the token's claims as the protocol crate decodes them.
//! - `axum` (default feature): the [`Auth`] and [`SignedIn`] extractors, [`axum::HallpassLayer`]
//!   with public-route matching ([`RouteMatcher`]), and [`axum::ProtectLayer`].
//! - [`HallpassClient`]: the Backend API (`current_user`, users, metadata).
//! - [`verify_webhook`]: Standard Webhooks signatures, as Svix signs them.
//!
//! Every request it makes has a deadline; nothing here panics on outside data.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use hallpass_backend::{Auth, Check, RouteMatcher, SignedIn, Verifier};
//! use hallpass_backend::axum::{HallpassLayer, ProtectLayer};
//!
//! # async fn run() -> Result<(), hallpass_backend::Error> {
//! let verifier = Verifier::publishable_key("pk_test_…")?.authorized_parties(["https://app.example.com"]).build();
//! let app: Router = Router::new()
//!     .route("/api/me", get(|user: SignedIn| async move { user.user_id }))
//!     .route("/api/admin", get(|| async { "admins only" }).route_layer(ProtectLayer::new(Check::role("org:admin"))))
//!     .route("/", get(|auth: Auth| async move { format!("signed in: {}", auth.is_signed_in()) }))
//!     .layer(HallpassLayer::new(verifier).protect_all_except(RouteMatcher::new(["/", "/pricing"])));
//! # let _ = app; Ok(()) }
//! ```

mod api;
mod auth;
#[cfg(feature = "axum")]
pub mod axum;
mod claims;
mod error;
mod http;
pub mod jwks;
mod request;
mod routes;
mod verify;
mod webhooks;

pub use api::{DEFAULT_TIMEOUT, HallpassClient};
pub use auth::{Auth, Check, SignedIn, SignedOut};
pub use error::{Error, Result};
pub use http::Http;
pub use jwks::JwksOptions;
pub use request::{SESSION_COOKIE, bearer_token, cookie};
pub use routes::RouteMatcher;
pub use verify::{DEFAULT_CLOCK_SKEW, VerifiedToken, Verifier, VerifierBuilder};
pub use webhooks::{WEBHOOK_TOLERANCE_SECS, WebhookSecret, verify_webhook};

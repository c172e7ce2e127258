//! axum: [`HallpassLayer`] authenticates every request (Bearer token, else the `__session` cookie)
//! and puts its [`Auth`] in the request's extensions — optionally refusing signed-out requests to
//! every route but the public ones ([`RouteMatcher`], Clerk's patterns) — and [`ProtectLayer`]
//! guards routes by [`Check`] (role, permission, feature). Handlers take [`Auth`] (any state) or
//! [`SignedIn`] (refuses signed-out requests) as extractors.
//!
//! Refusals are JSON in the Hallpass server's error shape: `401 authentication_invalid` for a
//! signed-out request (with the reason in `meta.reason`), `404 resource_not_found` for a signed-in
//! one that fails a check — as Clerk's `protect()` answers, so a route's existence is not revealed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hallpass_protocol::{ApiError, ErrorBody, ErrorCode, Metadata};
use tower_layer::Layer;
use tower_service::Service;

use crate::auth::{Auth, Check, SignedIn};
use crate::routes::RouteMatcher;
use crate::verify::Verifier;

/// Why a request was refused.
#[derive(Debug)]
pub enum Rejection {
    /// Signed out, with the reason.
    SignedOut(String),
    /// Signed in, but the route's check failed.
    NotFound,
    /// An extractor ran without [`HallpassLayer`] in front of the route.
    MissingLayer,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, code, message, reason) = match self {
            Rejection::SignedOut(reason) => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::AuthenticationInvalid,
                "Sign in to continue.",
                Some(reason),
            ),
            Rejection::NotFound => (StatusCode::NOT_FOUND, ErrorCode::ResourceNotFound, "Not found.", None),
            Rejection::MissingLayer => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "HallpassLayer is not installed in front of this route.",
                None,
            ),
        };
        let mut meta = Metadata::default();
        if let Some(reason) = reason {
            meta.insert("reason".into(), serde_json::Value::String(reason));
        }
        let body = ErrorBody {
            errors: vec![ApiError {
                code: code.as_str().into(),
                message: message.into(),
                long_message: String::new(),
                meta,
            }],
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (status, [(http::header::CONTENT_TYPE, "application/json")], json).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The auth state the layer found (any state).
impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        parts.extensions.get::<Auth>().cloned().ok_or(Rejection::MissingLayer)
    }
}

/// The signed-in user; a signed-out request is refused with 401.
impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        match parts.extensions.get::<Auth>() {
            Some(Auth::SignedIn(s)) => Ok((**s).clone()),
            Some(Auth::SignedOut(out)) => Err(Rejection::SignedOut(out.reason.clone())),
            None => Err(Rejection::MissingLayer),
        }
    }
}

/// Authenticates every request; see the module doc.
#[derive(Clone, Debug)]
pub struct HallpassLayer {
    verifier: Verifier,
    /// When set, signed-out requests to any other route are refused.
    public: Option<Arc<RouteMatcher>>,
}

impl HallpassLayer {
    /// Authenticates every request and refuses none (Clerk's `clerkMiddleware()` with no handler):
    /// routes decide with the extractors and [`ProtectLayer`].
    pub fn new(verifier: Verifier) -> HallpassLayer {
        HallpassLayer { verifier, public: None }
    }

    /// Refuses signed-out requests to every route but these patterns (`/`, `/sign-in(.*)`, …).
    pub fn protect_all_except(mut self, public: RouteMatcher) -> HallpassLayer {
        self.public = Some(Arc::new(public));
        self
    }
}

impl<S> Layer<S> for HallpassLayer {
    type Service = HallpassService<S>;

    fn layer(&self, inner: S) -> HallpassService<S> {
        HallpassService { inner, layer: self.clone() }
    }
}

/// [`HallpassLayer`]'s service.
#[derive(Clone, Debug)]
pub struct HallpassService<S> {
    inner: S,
    layer: HallpassLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for HallpassService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let auth = layer.verifier.authenticate(req.headers()).await;
            if let (Auth::SignedOut(out), Some(public)) = (&auth, &layer.public)
                && !public.matches(req.uri().path())
            {
                return Ok(Rejection::SignedOut(out.reason.clone()).into_response());
            }
            req.extensions_mut().insert(auth);
            inner.call(req).await
        })
    }
}

/// Guards routes by a [`Check`]: 401 when signed out, 404 when the check fails. Needs
/// [`HallpassLayer`] in front (outermost).
#[derive(Clone, Debug)]
pub struct ProtectLayer {
    check: Option<Arc<Check>>,
}

impl ProtectLayer {
    /// Signed in, nothing more.
    pub fn signed_in() -> ProtectLayer {
        ProtectLayer { check: None }
    }

    /// Signed in and passing `check` (`Check::role("org:admin")`, `Check::permission(…)`).
    pub fn new(check: Check) -> ProtectLayer {
        ProtectLayer { check: Some(Arc::new(check)) }
    }
}

impl<S> Layer<S> for ProtectLayer {
    type Service = ProtectService<S>;

    fn layer(&self, inner: S) -> ProtectService<S> {
        ProtectService { inner, check: self.check.clone() }
    }
}

/// [`ProtectLayer`]'s service.
#[derive(Clone, Debug)]
pub struct ProtectService<S> {
    inner: S,
    check: Option<Arc<Check>>,
}

impl<S, B> Service<Request<B>> for ProtectService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let refusal = match req.extensions().get::<Auth>() {
            None => Some(Rejection::MissingLayer),
            Some(Auth::SignedOut(out)) => Some(Rejection::SignedOut(out.reason.clone())),
            Some(auth) => self.check.as_deref().filter(|check| !auth.has(check)).map(|_| Rejection::NotFound),
        };
        if let Some(refusal) = refusal {
            return Box::pin(async move { Ok(refusal.into_response()) });
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(req).await })
    }
}

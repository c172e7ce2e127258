//! The HTTP surface: the router, its layers, and the cross-cutting middleware.
//!
//! Layering, outermost first: trace → `x-hallpass-server-time` on every response → turn any non-JSON
//! error (axum's own 404/405/408/413/415…) into an [`ErrorBody`](hallpass_protocol::ErrorBody) → the
//! request deadline and the body-read deadline → per-API layers. The Frontend API adds CORS (allow-list), a guard (origin check, per-IP limit, no secret
//! keys) and the body limit, in that order, so a browser can read even a 413; the Backend API adds the
//! secret-key check, then the body limit, and no CORS at all; the JWKS is readable from any origin.

mod account;
mod active_organization;
mod backend;
mod backend_organizations;
pub mod demo;
pub mod demo_mailbox;
pub mod demo_webhooks;
mod email_addresses;
mod email_link;
mod email_steps;
mod emails;
mod environment;
mod frontend;
mod images;
mod instance;
mod jwt_templates;
pub mod org_access;
mod org_errors;
mod organization_roles;
mod organizations;
mod password_check;
mod session_auth;
mod sign_ins;
mod sign_ups;
mod template_tokens;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use hallpass_protocol::{ErrorCode, Image, SERVER_TIME_HEADER, paths};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::ratelimit::retry_after_secs;
use crate::security_log;
use crate::state::AppState;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let frontend = Router::new()
        .route(paths::ENVIRONMENT, get(environment::get))
        .route(paths::SIGN_UPS, post(sign_ups::create))
        .route(paths::SIGN_UP, get(sign_ups::get))
        .route(paths::SIGN_UP_PREPARE_VERIFICATION, post(sign_ups::prepare_verification))
        .route(paths::SIGN_UP_ATTEMPT_VERIFICATION, post(sign_ups::attempt_verification))
        .route(paths::SIGN_INS, post(sign_ins::create))
        .route(paths::SIGN_IN, get(sign_ins::get))
        .route(paths::SIGN_IN_PREPARE_FIRST_FACTOR, post(sign_ins::prepare_first_factor))
        .route(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, post(sign_ins::attempt_first_factor))
        .route(paths::SIGN_IN_RESET_PASSWORD, post(sign_ins::reset_password))
        .route(paths::MY_EMAIL_ADDRESSES, post(email_addresses::create))
        .route(paths::MY_EMAIL_ADDRESS, get(email_addresses::get).delete(email_addresses::delete))
        .route(paths::MY_EMAIL_ADDRESS_PREPARE_VERIFICATION, post(email_addresses::prepare_verification))
        .route(paths::MY_EMAIL_ADDRESS_ATTEMPT_VERIFICATION, post(email_addresses::attempt_verification))
        .route(paths::REFRESH, post(frontend::refresh))
        .route(paths::SIGN_OUT, post(frontend::sign_out))
        .route(paths::ME, get(frontend::me).patch(frontend::update_me).delete(account::delete_me))
        .route(paths::MY_PASSWORD, post(account::change_password))
        .route(paths::SESSIONS, get(frontend::list_sessions))
        .route(paths::SESSION_REVOKE, post(frontend::revoke_session))
        .route(paths::SESSION_TEMPLATE_TOKEN, post(template_tokens::mint))
        .route(paths::SESSION_TOUCH, post(active_organization::touch))
        .route(paths::SESSION_TOKENS, post(active_organization::token_for_organization))
        .route(paths::CLIENT_ORGANIZATIONS, post(organizations::create_organization))
        .route(
            paths::CLIENT_ORGANIZATION,
            get(organizations::get_organization)
                .patch(organizations::update_organization)
                .delete(organizations::delete_organization),
        )
        .route(paths::CLIENT_ORGANIZATION_MEMBERSHIPS, get(organizations::list_members))
        .route(
            paths::CLIENT_ORGANIZATION_MEMBERSHIP,
            patch(organizations::change_role).delete(organizations::remove_member),
        )
        .route(
            paths::CLIENT_ORGANIZATION_INVITATIONS,
            get(organizations::list_invitations).post(organizations::invite),
        )
        .route(paths::CLIENT_ORGANIZATION_INVITATION_REVOKE, post(organizations::revoke_invitation))
        .route(paths::CLIENT_ORGANIZATION_ROLES, get(organizations::list_roles))
        .route(paths::MY_ORGANIZATION_MEMBERSHIPS, get(organizations::my_memberships))
        .route(paths::MY_ORGANIZATION_MEMBERSHIP, delete(organizations::leave))
        .route(paths::MY_ORGANIZATION_INVITATIONS, get(organizations::my_invitations))
        .route(paths::MY_ORGANIZATION_INVITATION_ACCEPT, post(organizations::accept_invitation))
        .route(paths::MY_ORGANIZATION_INVITATION_DECLINE, post(organizations::decline_invitation))
        // Inside CORS, so that even a 413 is readable by the browser that caused it.
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), frontend_guard))
        .layer(frontend_cors(&state));
    // The one Frontend API route with a larger body: an image, read up to its own limit.
    let image_upload = Router::new()
        .route(paths::MY_PROFILE_IMAGE, post(images::upload).delete(images::remove))
        .layer(axum::extract::DefaultBodyLimit::max(Image::MAX_BYTES))
        .layer(RequestBodyLimitLayer::new(Image::MAX_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), frontend_guard))
        .layer(frontend_cors(&state));

    let backend = Router::new()
        .route(paths::USERS, get(backend::list_users))
        .route(paths::USER, get(backend::get_user).patch(backend::update_user).delete(backend::delete_user))
        .route(paths::USER_METADATA, patch(backend::update_metadata))
        .route(paths::BACKEND_SESSIONS, get(backend::list_sessions))
        .route(paths::BACKEND_SESSION, get(backend::get_session))
        .route(paths::BACKEND_SESSION_REVOKE, post(backend::revoke_session))
        .route(paths::JWT_TEMPLATES, get(jwt_templates::list).post(jwt_templates::create))
        .route(
            paths::JWT_TEMPLATE,
            get(jwt_templates::get).patch(jwt_templates::update).delete(jwt_templates::delete),
        )
        .route(
            paths::ORGANIZATIONS,
            get(backend_organizations::list).post(backend_organizations::create_organization),
        )
        .route(
            paths::ORGANIZATION,
            get(backend_organizations::get)
                .patch(backend_organizations::update)
                .delete(backend_organizations::delete),
        )
        .route(paths::ORGANIZATION_METADATA, patch(backend_organizations::merge_metadata))
        .route(
            paths::ORGANIZATION_MEMBERSHIPS,
            get(backend_organizations::list_memberships).post(backend_organizations::create_membership),
        )
        .route(
            paths::ORGANIZATION_MEMBERSHIP,
            patch(backend_organizations::update_membership).delete(backend_organizations::delete_membership),
        )
        .route(
            paths::ORGANIZATION_MEMBERSHIP_METADATA,
            patch(backend_organizations::merge_membership_metadata),
        )
        .route(
            paths::ORGANIZATION_INVITATIONS,
            get(backend_organizations::list_invitations).post(backend_organizations::create_invitation),
        )
        .route(paths::ORGANIZATION_INVITATION, get(backend_organizations::get_invitation))
        .route(paths::ORGANIZATION_INVITATION_REVOKE, post(backend_organizations::revoke_invitation))
        .route(paths::USER_ORGANIZATION_MEMBERSHIPS, get(backend_organizations::user_memberships))
        .route(paths::ORGANIZATION_SETTINGS, get(backend_organizations::settings))
        .route(paths::INSTANCE, get(instance::get).patch(instance::update))
        .route(
            paths::ORGANIZATION_ROLES,
            get(organization_roles::list_roles).post(organization_roles::create_role),
        )
        .route(
            paths::ORGANIZATION_ROLE,
            get(organization_roles::get_role)
                .patch(organization_roles::update_role)
                .delete(organization_roles::delete_role),
        )
        .route(
            paths::ORGANIZATION_ROLE_PERMISSION,
            post(organization_roles::add_role_permission).delete(organization_roles::remove_role_permission),
        )
        .route(
            paths::ORGANIZATION_PERMISSIONS,
            get(organization_roles::list_permissions).post(organization_roles::create_permission),
        )
        .route(
            paths::ORGANIZATION_PERMISSION,
            get(organization_roles::get_permission)
                .patch(organization_roles::update_permission)
                .delete(organization_roles::delete_permission),
        )
        .route(paths::WEBHOOK_ENDPOINTS, get(webhooks::list).post(webhooks::create))
        .route(paths::WEBHOOK_ENDPOINT, get(webhooks::get).patch(webhooks::update).delete(webhooks::delete))
        .route(paths::WEBHOOK_ENDPOINT_ROTATE_SECRET, post(webhooks::rotate_secret))
        .route(paths::WEBHOOK_ENDPOINT_DELIVERIES, get(webhooks::deliveries))
        .route(paths::WEBHOOK_DELIVERY_RESEND, post(webhooks::resend))
        .route(paths::WEBHOOK_ENDPOINT_ATTEMPTS, get(webhooks::attempts))
        .route(paths::WEBHOOK_ENDPOINT_RECOVER, post(webhooks::recover))
        .route(paths::EMAILS, get(emails::list))
        .route(paths::EMAIL, get(emails::get))
        .route(paths::EMAIL_RETRY, post(emails::retry))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), backend::require_secret_key));

    let public = Router::new().route(paths::JWKS, get(jwks)).layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET])
            .expose_headers([HeaderName::from_static(SERVER_TIME_HEADER)]),
    );

    // The email link's page: opened by a browser from an email (no Origin to check, no CORS), its form
    // posted by itself; rate-limited per address like the Frontend API.
    let link_page = Router::new()
        .route(paths::VERIFY, get(email_link::show).post(email_link::confirm))
        .layer(RequestBodyLimitLayer::new(4096))
        .layer(middleware::from_fn_with_state(state.clone(), per_ip_budget));

    // Images, public (an <img> on any page), within each address's request budget.
    let image_files = Router::new()
        .route(paths::IMAGE, get(images::serve))
        .layer(middleware::from_fn_with_state(state.clone(), per_ip_budget));

    let mut router = Router::new()
        .merge(frontend)
        .merge(image_upload)
        .merge(backend)
        .merge(public)
        .merge(image_files)
        .merge(link_page);
    if let Some(www) = &state.config.demo_dir {
        router = router.merge(demo::router(www, state.config.demo_package_dir.as_deref()));
    }
    router
        // No `method_not_allowed_fallback`: it would replace the per-route fallbacks that the CORS
        // layer wraps (and so break preflights); `normalize_errors` shapes axum's 405 instead.
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        // Slow clients: the whole body must arrive within its deadline (a body trickled one byte at
        // a time is cut off; the extractor answers 408), and every request is answered within
        // `request_timeout_secs` (408 too). Reading the headers is bounded by the connection's own
        // header-read timeout (`crate::serve`).
        .layer(RequestBodyDeadlineLayer::new(Duration::from_secs(state.config.body_read_timeout_secs.max(1))))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.request_timeout_secs.max(1)),
        ))
        .layer(middleware::map_response(normalize_errors))
        .layer(middleware::map_response_with_state(state.clone(), server_time))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn frontend_cors(state: &AppState) -> CorsLayer {
    let origins = state.origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| origins.allows(o))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static(SERVER_TIME_HEADER), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Frontend API guard: a browser Origin must be on the allow-list, a secret key is never accepted,
/// and every client IP has an overall request budget.
async fn frontend_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| state.origins.allows(o));
        if !allowed {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::OriginNotAllowed,
                "This origin may not call the Frontend API",
            )
            .with_long_message("Add the origin to HALLPASS_ALLOWED_ORIGINS to allow it.")
            .into_response();
        }
    }
    if crate::extract::bearer(req.headers()).is_some_and(hallpass_protocol::keys::is_secret_key) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::SecretKeyNotAllowed,
            "Secret keys must never be used from a browser",
        )
        .with_long_message(
            "The Frontend API takes session tokens; secret keys belong to the Backend API, on servers.",
        )
        .into_response();
    }
    per_ip_budget(State(state), req, next).await
}

/// Every client address's overall request budget (`--rate-limit-requests-per-ip`).
async fn per_ip_budget(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let addr = ClientAddr::of(req.extensions(), req.headers(), &state.trusted_proxies);
    match state.limits.request(&addr.limit_key(), state.now_ms()).await {
        Ok(Ok(())) => {}
        Ok(Err(ms)) => {
            let secs = retry_after_secs(ms);
            security_log::rate_limited(addr, "requests_per_ip", req.uri().path(), secs);
            return ApiError::rate_limited(secs).into_response();
        }
        Err(e) => return ApiError::internal(e).into_response(),
    }
    next.run(req).await
}

async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = axum::Json(state.keys.jwks()).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res
}

async fn not_found() -> ApiError {
    ApiError::not_found("Resource")
}

async fn server_time(State(state): State<AppState>, mut res: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&state.now_ms().to_string()) {
        res.headers_mut().insert(HeaderName::from_static(SERVER_TIME_HEADER), v);
    }
    res
}

/// Marks an error response whose body is meant for a person, not for an API client (the email
/// link's pages): [`normalize_errors`] passes it on as it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PageForPeople;

/// Any error response that is not already our JSON shape (rejections and fallbacks produced by
/// axum and tower-http) is rewritten into an `ErrorBody`, keeping its status and headers — except
/// the pages marked [`PageForPeople`].
async fn normalize_errors(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || res.extensions().get::<PageForPeople>().is_some()
    {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::RequestBodyTooLarge, "The request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorCode::UnsupportedMediaType, "Unsupported content type"),
        StatusCode::NOT_FOUND => (ErrorCode::ResourceNotFound, "Resource not found"),
        StatusCode::METHOD_NOT_ALLOWED => (ErrorCode::MethodNotAllowed, "Method not allowed on this path"),
        StatusCode::UNAUTHORIZED => (ErrorCode::AuthenticationInvalid, "Authentication required"),
        StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "Too many requests"),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::RequestTimeout, "The request took too long"),
        StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::ServerBusy, "The server is busy"),
        s if s.is_client_error() => (ErrorCode::RequestBodyInvalid, "The request is invalid"),
        _ => (ErrorCode::InternalError, "Something went wrong"),
    };
    let (mut parts, _) = res.into_parts();
    let fresh = ApiError::new(status, code, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    let (fresh_parts, body) = fresh.into_parts();
    for (name, value) in fresh_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

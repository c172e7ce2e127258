//! The Hallpass wire protocol: every JSON body that the SDK and `hallpass-server` exchange.
//!
//! Both sides use these types, so they can never disagree about a field. Conventions (ARCHITECTURE.md):
//! field names are snake_case, timestamps are integer milliseconds since the Unix epoch, ids carry a
//! prefix (`user_…`, `sess_…`, `idn_…`, `jtmp_…`), and resources are shaped like Clerk's so that code
//! written for Clerk ports easily.
//!
//! Module map:
//! - [`resources`]: `User`, `EmailAddress`, `Image`, `Session`, `JwtTemplate` — what the Frontend and Backend
//!   APIs return.
//! - [`organizations`]: `Organization`, `OrganizationMembership`, `OrganizationInvitation`, `Role`,
//!   `Permission`, `OrganizationSettings`, and the system permissions and default roles.
//! - [`api`]: request bodies and response envelopes of both APIs, and their paths.
//! - [`claims`]: the session token's JWT claims (Clerk v2 shape) and the encoding of the active
//!   organization's permissions in them.
//! - [`error`]: the error body and the stable error codes.
//! - [`keys`]: publishable keys (`pk_…`) that encode the Frontend API URL.
//! - [`metadata`]: the free-form JSON `Metadata` type (a serde_json map natively, the JS value in wasm).
//! - [`secret`]: [`Secret`], the redacting string of every password, token and key, on both sides.
//! - [`wire`]: what `#[derive(Wire)]` adds to each type — its wire names, and in wasm32 its readers
//!   and writers for the browser's JSON values (the SDK's only ones).
//! - [`webhooks`]: the event types and envelope, and the Backend API's webhook endpoints,
//!   deliveries and attempts.
//! - [`attempts`]: multi-step sign-up and sign-in (email verification, email code and link, password
//!   reset): the attempts, their verifications, the requests that move them on.
//! - [`environment`]: the instance's settings as clients read them (`GET /v1/environment`).
//! - [`emails`]: the emails the server writes (Backend API, `email.created`).
//! - [`instance`]: the instance and the settings the Backend API changes (`GET`/`PATCH /v1/instance`).

pub mod api;
pub mod attempts;
pub mod claims;
pub mod emails;
pub mod environment;
pub mod error;
pub mod instance;
pub mod keys;
pub mod metadata;
pub mod organizations;
pub mod resources;
pub mod secret;
pub mod webhooks;
pub mod wire;

// The derive's generated code names this crate by its path, here as in the SDK.
extern crate self as hallpass_protocol;

pub use api::*;
pub use attempts::{
    AttemptVerificationRequest, CreateEmailAddressRequest, PrepareVerificationRequest, ResetPasswordRequest,
    SignInAttempt, SignInFactor, SignInResponse, SignInStatus, SignUpAttempt, SignUpResponse, SignUpStatus,
    SignUpVerifications, Strategy, Verification, VerificationStatus,
};
pub use claims::{OrgClaims, OrgClaimsV2, SessionClaims};
pub use emails::{Email, EmailStatus};
pub use environment::{Environment, PasswordSettings, SignInSettings, SignUpSettings};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use hallpass_protocol_derive::Wire;
pub use instance::{Instance, UpdateInstanceRequest};
pub use metadata::Metadata;
pub use organizations::{
    InvitationStatus, Organization, OrganizationInvitation, OrganizationMembership, OrganizationSettings,
    Permission, PermissionType, PublicOrganizationData, PublicUserData, Role,
};
pub use resources::{
    DeviceType, EmailAddress, Image, JwtAlgorithm, JwtTemplate, Session, SessionActivity, SessionStatus,
    SessionWithActivities, User,
};
pub use secret::Secret;
pub use webhooks::{
    CreateWebhookEndpointRequest, DeliveryStatus, DisabledReason, EventType, RecoverWebhookRequest,
    UpdateWebhookEndpointRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent,
    WebhookRecovery,
};
pub use wire::Wire;

/// Id prefixes, as Clerk uses them.
pub mod id_prefix {
    pub const USER: &str = "user_";
    pub const SESSION: &str = "sess_";
    pub const EMAIL_ADDRESS: &str = "idn_";
    pub const ORGANIZATION: &str = "org_";
    pub const ORGANIZATION_MEMBERSHIP: &str = "orgmem_";
    pub const ORGANIZATION_INVITATION: &str = "orginv_";
    pub const ROLE: &str = "role_";
    pub const PERMISSION: &str = "perm_";
    pub const EVENT: &str = "evt_";
    /// A webhook endpoint (Svix's prefix).
    pub const WEBHOOK_ENDPOINT: &str = "ep_";
    /// One delivery attempt of a webhook (Svix's prefix).
    pub const WEBHOOK_ATTEMPT: &str = "atmpt_";
    /// This Hallpass instance (the events' `instance_id`).
    pub const INSTANCE: &str = "ins_";
    pub const JWT_TEMPLATE: &str = "jtmp_";
    pub const SIGN_UP_ATTEMPT: &str = "sua_";
    pub const SIGN_IN_ATTEMPT: &str = "sia_";
    /// A code or link verification (never on the wire: attempts carry their verification inline).
    pub const VERIFICATION: &str = "ver_";
    pub const EMAIL: &str = "ema_";
    /// An uploaded image (a profile image).
    pub const IMAGE: &str = "img_";
}

/// The response header that carries the server's clock (milliseconds since the epoch) on every
/// response, so the SDK can judge token expiry on the server's clock rather than the device's.
pub const SERVER_TIME_HEADER: &str = "x-hallpass-server-time";

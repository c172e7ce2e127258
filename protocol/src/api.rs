//! Request bodies and response envelopes of the Frontend API (`/v1/client/…`, called by the SDK from
//! the browser) and the Backend API (`/v1/…`, called by app backends with a secret key).
//!
//! Requests reject unknown fields (`deny_unknown_fields`), so a misspelt field is a clear error
//! instead of a silently ignored one. Responses accept unknown fields, so an older SDK keeps working
//! against a newer server.

use serde::{Deserialize, Serialize};

use crate::organizations::InvitationStatus;
use crate::{JwtAlgorithm, Metadata, OrgClaims, Secret, Session, User, Wire};

/// Paths, relative to the server's base URL.
pub mod paths {
    /// `POST` (`SignUpRequest`) → `SignUpResponse`: complete at once (with the session) when a
    /// password is given and no verification is required; otherwise `missing_requirements`.
    pub const SIGN_UPS: &str = "/v1/client/sign_ups";
    /// `POST` (`SignInRequest`) → `SignInResponse`: complete at once with a right password; with an
    /// identifier alone `needs_first_factor`.
    pub const SIGN_INS: &str = "/v1/client/sign_ins";
    /// `GET` → `SignUpResponse`: the attempt; once its email link was opened (in any tab or
    /// browser), the first `GET` completes it and carries the session (the asking tab polls this).
    pub const SIGN_UP: &str = "/v1/client/sign_ups/{id}";
    /// `POST` (`PrepareVerificationRequest`) → `SignUpResponse`: sends the code or link.
    pub const SIGN_UP_PREPARE_VERIFICATION: &str = "/v1/client/sign_ups/{id}/prepare_verification";
    /// `POST` (`AttemptVerificationRequest`) → `SignUpResponse` (complete, with the session).
    pub const SIGN_UP_ATTEMPT_VERIFICATION: &str = "/v1/client/sign_ups/{id}/attempt_verification";
    /// `GET` → `SignInResponse` (polling for an email link, as [`SIGN_UP`]).
    pub const SIGN_IN: &str = "/v1/client/sign_ins/{id}";
    /// `POST` (`PrepareVerificationRequest`) → `SignInResponse`: sends the code or link.
    pub const SIGN_IN_PREPARE_FIRST_FACTOR: &str = "/v1/client/sign_ins/{id}/prepare_first_factor";
    /// `POST` (`AttemptVerificationRequest`) → `SignInResponse`.
    pub const SIGN_IN_ATTEMPT_FIRST_FACTOR: &str = "/v1/client/sign_ins/{id}/attempt_first_factor";
    /// `POST` (`ResetPasswordRequest`) → `SignInResponse` (complete; the user's other sessions are
    /// revoked).
    pub const SIGN_IN_RESET_PASSWORD: &str = "/v1/client/sign_ins/{id}/reset_password";
    /// `GET` → `Environment` (no session needed).
    pub const ENVIRONMENT: &str = "/v1/environment";
    /// The page an email link opens: `GET ?token=` shows a button, whose `POST` (a form) uses the
    /// link. A mail scanner that fetches links therefore uses nothing up.
    pub const VERIFY: &str = "/v1/verify";
    /// `POST` (`CreateEmailAddressRequest`) → `EmailAddress` (unverified, not yet the user's).
    /// Bearer session token.
    pub const MY_EMAIL_ADDRESSES: &str = "/v1/client/me/email_addresses";
    /// `GET` → `EmailAddress`; `DELETE` → `DeletedObject` (not the primary address).
    pub const MY_EMAIL_ADDRESS: &str = "/v1/client/me/email_addresses/{id}";
    /// `POST` (`PrepareVerificationRequest`) → `EmailAddress`.
    pub const MY_EMAIL_ADDRESS_PREPARE_VERIFICATION: &str =
        "/v1/client/me/email_addresses/{id}/prepare_verification";
    /// `POST` (`AttemptVerificationRequest`) → `EmailAddress` (verified: now one of the user's).
    pub const MY_EMAIL_ADDRESS_ATTEMPT_VERIFICATION: &str =
        "/v1/client/me/email_addresses/{id}/attempt_verification";
    /// Backend API: `GET` (`?status=&to=&limit=&offset=`) → `ListResponse<Email>`, newest first —
    /// the development mailbox, and every email's delivery state.
    pub const EMAILS: &str = "/v1/emails";
    /// Backend API: `GET` → `Email`.
    pub const EMAIL: &str = "/v1/emails/{id}";
    /// Backend API: `POST` (no body) → `Email`: a failed email queued again.
    pub const EMAIL_RETRY: &str = "/v1/emails/{id}/retry";
    /// Exchanges a refresh token for a new session token and a rotated refresh token.
    pub const REFRESH: &str = "/v1/client/refresh";
    /// Ends the session of the presented refresh token (`RefreshRequest`; answers the `Session`, now
    /// `ended`). Needs no session token, and signing out an already-ended session is not an error.
    pub const SIGN_OUT: &str = "/v1/client/sign_out";
    /// `GET`: the current user and session; `PATCH`: update own profile (`UpdateProfileRequest`).
    /// Both answer `MeResponse`. `DELETE`: deletes the account (Clerk's `user.delete()`) as the
    /// Backend API's `DELETE /v1/users/{id}` does → `DeletedObject` (`object: "user"`); 403
    /// `delete_self_disabled` when the instance's `delete_self_enabled` is off. Bearer session token.
    pub const ME: &str = "/v1/client/me";
    /// `POST` (`ChangePasswordRequest`) → `User` (Clerk's `user.updatePassword()`): sets or changes
    /// the password; `current_password` is required iff the user has one. Bearer session token.
    pub const MY_PASSWORD: &str = "/v1/client/me/change_password";
    /// `POST` with the image itself as the body (`Content-Type` `image/png`, `image/jpeg`,
    /// `image/gif` or `image/webp`, at most [`crate::Image::MAX_BYTES`]) → `Image`; the user's
    /// `image_url` becomes its `public_url` (Clerk's `user.setProfileImage({ file })`). `DELETE` →
    /// `DeletedObject` (`object: "image"`), `image_url` empty again (`setProfileImage({ file: null })`).
    /// Bearer session token.
    pub const MY_PROFILE_IMAGE: &str = "/v1/client/me/profile_image";
    /// `GET` → the image's bytes, with its stored type; public (no session), cached as immutable.
    pub const IMAGE: &str = "/v1/images/{id}";
    /// `GET`: own active sessions, each a `SessionWithActivities` (the device it was started on).
    /// Bearer session token.
    pub const SESSIONS: &str = "/v1/client/sessions";
    /// `POST /v1/client/sessions/{id}/revoke`: one of the caller's own sessions; answers it as a
    /// `SessionWithActivities`.
    /// Bearer session token.
    pub const SESSION_REVOKE: &str = "/v1/client/sessions/{id}/revoke";
    /// `POST`: a token minted from the JWT template called `{template_name}` for the session
    /// `{session_id}`; answers `TemplateTokenResponse`. Needs no body. Bearer session token of that
    /// same session (as Clerk's `getToken({ template })`).
    pub const SESSION_TEMPLATE_TOKEN: &str = "/v1/client/sessions/{session_id}/tokens/{template_name}";
    /// `POST` (`TouchSessionRequest`): sets the session's active organization — an id, a slug, or
    /// `null` for the personal account — and answers `SessionTokenResponse` with a session token
    /// carrying it (Clerk's `setActive({ organization })`). Bearer session token of that session.
    pub const SESSION_TOUCH: &str = "/v1/client/sessions/{session_id}/touch";
    /// `POST` (`SessionTokenRequest`): a session token for another organization of the user (or
    /// none) without changing the active one; answers `TemplateTokenResponse` (Clerk's
    /// `getToken({ organizationId })`). Bearer session token of that session.
    pub const SESSION_TOKENS: &str = "/v1/client/sessions/{session_id}/tokens";

    // --- Frontend API: organizations (Bearer session token; see server/README.md for each route's
    // permission: non-members get 404, members without the permission 403) ---
    /// `POST` (`CreateOrganizationRequest`): creates an organization with the caller as its member
    /// of the creator role; answers `Organization`. Does not make it active.
    pub const CLIENT_ORGANIZATIONS: &str = "/v1/client/organizations";
    /// `GET` (any member) → `Organization`; `PATCH` (`UpdateOrganizationRequest`,
    /// `org:sys_profile:manage`) → `Organization`; `DELETE` (`org:sys_profile:delete`) →
    /// `DeletedObject`.
    pub const CLIENT_ORGANIZATION: &str = "/v1/client/organizations/{organization_id}";
    /// `GET` (`MembershipListParams`; `org:sys_memberships:read`) →
    /// `ListResponse<OrganizationMembership>`.
    pub const CLIENT_ORGANIZATION_MEMBERSHIPS: &str =
        "/v1/client/organizations/{organization_id}/memberships";
    /// `PATCH` (`UpdateMembershipRequest`) and `DELETE` (`org:sys_memberships:manage`; a member may
    /// always remove themself, i.e. leave) → `OrganizationMembership`.
    pub const CLIENT_ORGANIZATION_MEMBERSHIP: &str =
        "/v1/client/organizations/{organization_id}/memberships/{user_id}";
    /// `GET` (`InvitationListParams`; `org:sys_memberships:read`) →
    /// `ListResponse<OrganizationInvitation>`; `POST` (`CreateInvitationRequest`;
    /// `org:sys_memberships:manage`) → `OrganizationInvitation`.
    pub const CLIENT_ORGANIZATION_INVITATIONS: &str =
        "/v1/client/organizations/{organization_id}/invitations";
    /// `POST` (no body; `org:sys_memberships:manage`) → the `OrganizationInvitation`, `revoked`.
    pub const CLIENT_ORGANIZATION_INVITATION_REVOKE: &str =
        "/v1/client/organizations/{organization_id}/invitations/{invitation_id}/revoke";
    /// `GET` (`org:sys_memberships:read`) → `ListResponse<Role>`: the roles a member can be given.
    pub const CLIENT_ORGANIZATION_ROLES: &str = "/v1/client/organizations/{organization_id}/roles";
    /// `GET` (`?limit=&offset=`) → `ListResponse<OrganizationMembership>`: the caller's own
    /// memberships, each with its organization.
    pub const MY_ORGANIZATION_MEMBERSHIPS: &str = "/v1/client/me/organization_memberships";
    /// `DELETE`: leaves the organization → the `OrganizationMembership` that ended.
    pub const MY_ORGANIZATION_MEMBERSHIP: &str = "/v1/client/me/organization_memberships/{organization_id}";
    /// `GET` (`InvitationListParams`) → `ListResponse<OrganizationInvitation>`: invitations
    /// addressed to the caller's email addresses.
    pub const MY_ORGANIZATION_INVITATIONS: &str = "/v1/client/me/organization_invitations";
    /// `POST` (no body) → `OrganizationMembership`: accepts one of the caller's invitations.
    pub const MY_ORGANIZATION_INVITATION_ACCEPT: &str =
        "/v1/client/me/organization_invitations/{invitation_id}/accept";
    /// `POST` (no body) → the `OrganizationInvitation`, now `revoked`: declines it.
    pub const MY_ORGANIZATION_INVITATION_DECLINE: &str =
        "/v1/client/me/organization_invitations/{invitation_id}/decline";

    pub const JWKS: &str = "/.well-known/jwks.json";
    /// Backend API (secret key).
    pub const USERS: &str = "/v1/users";
    /// `GET` → `User`, `PATCH` (`UpdateUserRequest`) → `User`, `DELETE` → `DeletedObject`.
    pub const USER: &str = "/v1/users/{id}";
    pub const USER_METADATA: &str = "/v1/users/{id}/metadata";
    /// `GET ?user_id=&status=` → `ListResponse<SessionWithActivities>`.
    pub const BACKEND_SESSIONS: &str = "/v1/sessions";
    /// `GET` → `SessionWithActivities` (so is `POST …/revoke`).
    pub const BACKEND_SESSION: &str = "/v1/sessions/{id}";
    pub const BACKEND_SESSION_REVOKE: &str = "/v1/sessions/{id}/revoke";
    /// `GET`: `ListResponse<JwtTemplate>` (`?limit=&offset=`); `POST`: `CreateJwtTemplateRequest`.
    pub const JWT_TEMPLATES: &str = "/v1/jwt_templates";
    /// `GET`, `PATCH` (`UpdateJwtTemplateRequest`), `DELETE` (`DeletedObject`).
    pub const JWT_TEMPLATE: &str = "/v1/jwt_templates/{id}";
    /// `GET`: `ListResponse<WebhookEndpoint>` (`?limit=&offset=`); `POST`:
    /// `CreateWebhookEndpointRequest` → `WebhookEndpoint` with its `secret`.
    pub const WEBHOOK_ENDPOINTS: &str = "/v1/webhook_endpoints";
    /// `GET`, `PATCH` (`UpdateWebhookEndpointRequest`), `DELETE` (`DeletedObject`).
    pub const WEBHOOK_ENDPOINT: &str = "/v1/webhook_endpoints/{id}";
    /// `POST`, no body: a new secret (answered once, in `secret`); the previous one keeps signing
    /// beside it for 24 h.
    pub const WEBHOOK_ENDPOINT_ROTATE_SECRET: &str = "/v1/webhook_endpoints/{id}/rotate_secret";
    /// `GET`: `ListResponse<WebhookDelivery>`, newest event first (`?status=&limit=&offset=`).
    pub const WEBHOOK_ENDPOINT_DELIVERIES: &str = "/v1/webhook_endpoints/{id}/deliveries";
    /// `POST`, no body: queue the event for this endpoint again; answers the `WebhookDelivery`.
    pub const WEBHOOK_DELIVERY_RESEND: &str = "/v1/webhook_endpoints/{id}/deliveries/{event_id}/resend";
    /// `GET`: `ListResponse<WebhookAttempt>`, newest first (`?event_id=&limit=&offset=`).
    pub const WEBHOOK_ENDPOINT_ATTEMPTS: &str = "/v1/webhook_endpoints/{id}/attempts";
    /// `POST` `RecoverWebhookRequest` → `WebhookRecovery`.
    pub const WEBHOOK_ENDPOINT_RECOVER: &str = "/v1/webhook_endpoints/{id}/recover";

    /// `path` with its `{…}` placeholders replaced by `values`, in order; a placeholder without a
    /// value is left out. The values must already be safe in a path (ids, template names).
    ///
    /// ```
    /// use hallpass_protocol::paths;
    ///
    /// assert_eq!(
    ///     paths::fill(paths::SESSION_TEMPLATE_TOKEN, &["sess_1", "supabase"]),
    ///     "/v1/client/sessions/sess_1/tokens/supabase"
    /// );
    /// ```
    pub fn fill(path: &str, values: &[&str]) -> String {
        let mut out = Vec::with_capacity(path.len() + 64);
        let mut values = values.iter();
        let mut in_placeholder = false;
        // Byte by byte, without string searching or slicing: nothing here can panic, and it is
        // a few hundred bytes smaller in the SDK's wasm than `split`/`find` (which bring the
        // string-search machinery) or pushing `char`s.
        for &b in path.as_bytes() {
            match b {
                b'{' => {
                    in_placeholder = true;
                    out.extend_from_slice(values.next().copied().unwrap_or_default().as_bytes());
                }
                b'}' => in_placeholder = false,
                _ if !in_placeholder => out.push(b),
                _ => {}
            }
        }
        // SAFETY: `out` is `path` with whole placeholders (`{…}`, delimited by ASCII bytes, so cut at
        // character boundaries) replaced by whole `&str`s: valid UTF-8.
        unsafe { String::from_utf8_unchecked(out) }
    }

    // --- Backend API: organizations (secret key) ---
    /// `GET` (`OrganizationListParams`) → `ListResponse<Organization>`; `POST`
    /// (`BackendCreateOrganizationRequest`) → `Organization`.
    pub const ORGANIZATIONS: &str = "/v1/organizations";
    /// `{organization_id}` is an id or a slug. `GET` → `Organization`; `PATCH`
    /// (`BackendUpdateOrganizationRequest`) → `Organization`; `DELETE` → `DeletedObject`.
    pub const ORGANIZATION: &str = "/v1/organizations/{organization_id}";
    /// `PATCH` (`UpdateOrganizationMetadataRequest`, deep merge, `null` deletes) → `Organization`.
    pub const ORGANIZATION_METADATA: &str = "/v1/organizations/{organization_id}/metadata";
    /// `GET` (`MembershipListParams`) → `ListResponse<OrganizationMembership>`; `POST`
    /// (`CreateMembershipRequest`) → `OrganizationMembership`.
    pub const ORGANIZATION_MEMBERSHIPS: &str = "/v1/organizations/{organization_id}/memberships";
    /// `PATCH` (`UpdateMembershipRequest`) and `DELETE` → `OrganizationMembership`.
    pub const ORGANIZATION_MEMBERSHIP: &str = "/v1/organizations/{organization_id}/memberships/{user_id}";
    /// `PATCH` (`UpdateOrganizationMetadataRequest`, deep merge) → `OrganizationMembership`.
    pub const ORGANIZATION_MEMBERSHIP_METADATA: &str =
        "/v1/organizations/{organization_id}/memberships/{user_id}/metadata";
    /// `GET` (`InvitationListParams`) → `ListResponse<OrganizationInvitation>`; `POST`
    /// (`BackendCreateInvitationRequest`) → `OrganizationInvitation`.
    pub const ORGANIZATION_INVITATIONS: &str = "/v1/organizations/{organization_id}/invitations";
    /// `GET` → `OrganizationInvitation`.
    pub const ORGANIZATION_INVITATION: &str =
        "/v1/organizations/{organization_id}/invitations/{invitation_id}";
    /// `POST` (no body) → the `OrganizationInvitation`, `revoked`.
    pub const ORGANIZATION_INVITATION_REVOKE: &str =
        "/v1/organizations/{organization_id}/invitations/{invitation_id}/revoke";
    /// `GET` (`?limit=&offset=`) → `ListResponse<OrganizationMembership>` of the user.
    pub const USER_ORGANIZATION_MEMBERSHIPS: &str = "/v1/users/{id}/organization_memberships";
    /// `GET` (`RoleListParams`) → `ListResponse<Role>`; `POST` (`CreateRoleRequest`) → `Role`.
    pub const ORGANIZATION_ROLES: &str = "/v1/organization_roles";
    /// `GET` → `Role`; `PATCH` (`UpdateRoleRequest`) → `Role`; `DELETE` → `DeletedObject`.
    pub const ORGANIZATION_ROLE: &str = "/v1/organization_roles/{id}";
    /// `POST` (no body) adds, `DELETE` removes a permission (by id) → `Role`.
    pub const ORGANIZATION_ROLE_PERMISSION: &str = "/v1/organization_roles/{id}/permissions/{permission_id}";
    /// `GET` (`RoleListParams`) → `ListResponse<Permission>`; `POST` (`CreatePermissionRequest`) →
    /// `Permission`.
    pub const ORGANIZATION_PERMISSIONS: &str = "/v1/organization_permissions";
    /// `GET` → `Permission`; `PATCH` (`UpdatePermissionRequest`) → `Permission`; `DELETE` →
    /// `DeletedObject`. System permissions answer `organization_system_permission_immutable`.
    pub const ORGANIZATION_PERMISSION: &str = "/v1/organization_permissions/{id}";
    /// `GET` → `OrganizationSettings`.
    pub const ORGANIZATION_SETTINGS: &str = "/v1/instance/organization_settings";
    /// `GET` → `Instance`; `PATCH` (`UpdateInstanceRequest`) → `Instance`, the settings now in force.
    pub const INSTANCE: &str = "/v1/instance";
}

/// `POST /v1/client/sign_ups`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct SignUpRequest {
    pub email_address: String,
    /// Empty or absent: a passwordless sign-up (allowed when an email first factor is on; the email
    /// address is then always verified).
    #[serde(default)]
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
}

impl SignUpRequest {
    /// A sign-up with an email address and a password.
    pub fn new(email_address: impl Into<String>, password: impl Into<String>) -> Self {
        SignUpRequest {
            email_address: email_address.into(),
            password: Secret::new(password),
            ..Self::default()
        }
    }

    pub fn with_name(mut self, first_name: Option<String>, last_name: Option<String>) -> Self {
        self.first_name = first_name;
        self.last_name = last_name;
        self
    }

    pub fn with_unsafe_metadata(mut self, metadata: Metadata) -> Self {
        self.unsafe_metadata = Some(metadata);
        self
    }
}

/// `POST /v1/client/sign_ins`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct SignInRequest {
    /// The email address.
    pub identifier: String,
    /// With a password the sign-in completes in this request (or fails); without one it waits for a
    /// first factor (`prepare_first_factor` sends a code or link).
    #[serde(default)]
    pub password: Secret,
}

/// `POST /v1/client/refresh` and `POST /v1/client/sign_out`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: Secret,
}

/// `PATCH /v1/client/me`: absent fields stay as they are; `null` clears a name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct UpdateProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub first_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub last_name: Option<Option<String>>,
    /// Replaces the whole `unsafe_metadata` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
    /// Makes this address (`idn_…`, one of the user's, verified) the primary one (Clerk's
    /// `user.update({ primaryEmailAddressId })`): 404 `resource_not_found` when the user has no such
    /// address, 422 `email_address_not_verified` when it is not verified; both with `param_name:
    /// "primary_email_address_id"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address_id: Option<String>,
}

/// `POST /v1/client/me/change_password` (Clerk's `updatePassword({ currentPassword, newPassword,
/// signOutOfOtherSessions })`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
#[wire(params)]
pub struct ChangePasswordRequest {
    /// Required when the user has a password (`password_enabled`); a wrong one is
    /// `form_password_incorrect` (`param_name: "current_password"`). Ignored when the user has none
    /// (an account made without a password sets its first one this way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<Secret>,
    /// Meets the instance's password rules (as at sign-up).
    pub new_password: Secret,
    /// Revokes the user's other sessions (not the one making the request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_out_of_other_sessions: Option<bool>,
}

/// What sign-up, sign-in and refresh return: the session, its user, a fresh session token and the
/// next refresh token.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct AuthResponse {
    pub user: User,
    pub session: Session,
    /// The session token (a JWT) to send as `Authorization: Bearer`.
    pub jwt: Secret,
    /// Seconds until `jwt` expires, counted from `server_time`.
    pub expires_in: u32,
    /// The next refresh token; the one just presented is used up.
    pub refresh_token: Secret,
    /// The server's clock when it answered, in milliseconds.
    pub server_time: i64,
    /// The organization `jwt` carries (the session's active one, as the membership stands now),
    /// decoded: `orgId`, `orgSlug`, `orgRole`, `orgPermissions` without reading the token. `None`
    /// for the personal account — or when the user is no longer a member of the session's active
    /// organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaims>,
}

/// `GET /v1/client/me`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct MeResponse {
    pub user: User,
    pub session: Session,
}

/// A page of a list (`GET /v1/users`, `GET /v1/client/sessions`, `GET /v1/sessions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub total_count: i64,
}

/// `PATCH /v1/users/{id}/metadata` (Backend API): each given object is deep-merged into the stored one;
/// a key set to `null` is removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateMetadataRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
}

/// `PATCH /v1/users/{id}` (Backend API, Clerk's `updateUser`): absent fields stay as they are; `null`
/// clears a name; a metadata object given replaces the stored one whole (deep merge is
/// `UpdateMetadataRequest`'s).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub first_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub last_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
    /// The user's new primary address, by the rules of `UpdateProfileRequest`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address_id: Option<String>,
}

/// `DELETE /v1/users/{id}` (Clerk's `DeletedObject`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct DeletedObject {
    pub object: String,
    pub id: String,
    pub deleted: bool,
}

/// `POST /v1/jwt_templates` (Backend API). Absent optional fields take their defaults: `lifetime` 60,
/// `allowed_clock_skew` 5, no custom signing key (the instance's RS256 key signs).
///
/// With `custom_signing_key: true`, both `signing_algorithm` and `signing_key` are required:
/// `HS256`/`HS384`/`HS512` with a shared secret of at least 32 bytes, or `RS256` with an RSA
/// private key (2048 bits or more) in PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE
/// KEY`) PEM.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct CreateJwtTemplateRequest {
    pub name: String,
    pub claims: Metadata,
    /// Seconds, 30 to 315 360 000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<i64>,
    /// Seconds, 0 to 300.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_clock_skew: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_signing_key: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<JwtAlgorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<Secret>,
}

/// `PATCH /v1/jwt_templates/{id}` (Backend API): absent fields stay as they are. `claims` replaces
/// the whole object. `custom_signing_key: false` drops a custom key (the instance key signs again);
/// switching to a custom key, or to an algorithm the stored key cannot serve, needs `signing_key`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateJwtTemplateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_clock_skew: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_signing_key: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<JwtAlgorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<Secret>,
}

/// A token minted on request: from a JWT template (`POST /v1/client/sessions/{session_id}/tokens/
/// {template_name}`), or a session token for a named organization (`POST /v1/client/sessions/
/// {session_id}/tokens`). Clerk's `{ object: "token", jwt }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct TemplateTokenResponse {
    /// Always `"token"`.
    #[serde(default = "token_object")]
    pub object: String,
    /// The JWT. A template's: its rendered claims plus `sub`, `sid`, `iss`, `azp`, `iat`, `nbf`,
    /// `exp` and `jti`. A session token: [`crate::SessionClaims`].
    pub jwt: Secret,
    /// Seconds until `jwt` expires, counted from the response's `x-hallpass-server-time`.
    pub expires_in: u32,
}

fn token_object() -> String {
    "token".into()
}

/// `POST /v1/client/sessions/{session_id}/touch`: Clerk's `setActive({ organization })`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct TouchSessionRequest {
    /// An organization id (`org_…`) or slug of one of the user's organizations; `null` for the
    /// personal account; absent keeps the active one (the answer is then just a fresh token).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub active_organization_id: Option<Option<String>>,
}

/// What setting the active organization answers: the session (its `last_active_organization_id`
/// updated) and at once a session token carrying the new organization, so the SDK swaps tokens
/// without a refresh. The refresh token is unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct SessionTokenResponse {
    pub session: Session,
    /// The session token (a JWT) with the new `o` claim (none for the personal account).
    pub jwt: Secret,
    /// Seconds until `jwt` expires, counted from `server_time`.
    pub expires_in: u32,
    /// The server's clock when it answered, in milliseconds.
    pub server_time: i64,
    /// The organization `jwt` carries, decoded (as in [`AuthResponse::organization`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaims>,
}

/// `POST /v1/client/sessions/{session_id}/tokens`: a session token for a given organization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct SessionTokenRequest {
    /// An organization id or slug of one of the user's organizations; `null` for a token without
    /// one; absent for the session's active organization.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub organization_id: Option<Option<String>>,
}

/// `POST /v1/client/organizations` (Frontend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// 1 to 256 characters.
    pub name: String,
    /// Made from the name when absent; see [`crate::organizations::Organization::slug`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}

/// `PATCH /v1/client/organizations/{organization_id}` (Frontend API): absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}

/// `POST /v1/organizations` (Backend API).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendCreateOrganizationRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// A user id: that user becomes a member with the creator role. Without it the organization
    /// starts with no members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `0` for no limit; the instance's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
}

/// `PATCH /v1/organizations/{organization_id}` (Backend API): absent fields stay; metadata given here
/// replaces the stored object (`…/metadata` merges).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendUpdateOrganizationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// `0` for no limit. Lowering it below the member count keeps the members and refuses new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
}

/// `PATCH …/metadata` of an organization or a membership (Backend API): each given object is
/// deep-merged into the stored one; a key set to `null` is removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationMetadataRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
}

/// `POST /v1/organizations/{organization_id}/memberships` (Backend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMembershipRequest {
    pub user_id: String,
    /// A role key; the instance's default role when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// `PATCH …/memberships/{user_id}` (both APIs): the member's new role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct UpdateMembershipRequest {
    /// A role key, e.g. `org:member`.
    pub role: String,
}

/// `POST /v1/client/organizations/{organization_id}/invitations` (Frontend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    pub email_address: String,
    /// A role key; the instance's default role when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/invitations` (Backend API).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendCreateInvitationRequest {
    pub email_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A member of the organization who sends it (recorded only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_user_id: Option<String>,
    /// 1 to 365; the instance's `invitation_expiry_days` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
}

/// `POST /v1/organization_roles` (Backend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// `org:<name>`: lower-case letters, digits, `_` and `-`, at most 64 after the prefix. Unique and
    /// never changed.
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permission keys (`org:sys_memberships:read`, `org:invoices:read`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// `PATCH /v1/organization_roles/{id}` (Backend API): absent fields stay; `permissions` replaces the
/// whole set; `description: null` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// `POST /v1/organization_permissions` (Backend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePermissionRequest {
    /// `org:<feature>:<action>`: each part lower-case letters, digits, `_` and `-`, at most 64; the
    /// feature may not start with `sys_`. Unique and never changed.
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /v1/organization_permissions/{id}` (Backend API): absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePermissionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Query of a plain list: `?limit=&offset=` (`GET /v1/client/me/organization_memberships`, the
/// roles of an organization, a user's memberships in the Backend API).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// 1 to 500; 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /v1/organizations`: `?limit=&offset=&query=&order_by=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationListParams {
    /// 1 to 500; 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Part of the name, slug or id, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `created_at`, `name` or `members_count`, with `-` for descending (`-created_at` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
}

/// Query of the membership lists: `?limit=&offset=&query=&role=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct MembershipListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Part of the member's email address, first or last name, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Only members with this role key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Query of the invitation lists: `?limit=&offset=&status=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(deny_unknown_fields)]
pub struct InvitationListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Only invitations in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
}

/// Query of `GET /v1/organization_roles` and `GET /v1/organization_permissions`:
/// `?limit=&offset=&query=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Part of the key or name, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// Serde helper: tells a missing field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn jwt_template_requests_parse_and_never_debug_the_key() {
        let req: CreateJwtTemplateRequest = serde_json::from_str(
            r#"{"name":"supabase","claims":{"role":"authenticated"},"custom_signing_key":true,
                "signing_algorithm":"HS256","signing_key":"super-secret-jwt-token-with-at-least-32"}"#,
        )
        .unwrap();
        assert_eq!(req.signing_algorithm, Some(JwtAlgorithm::Hs256));
        assert_eq!(req.lifetime, None);
        let debug = format!("{req:?}");
        assert!(debug.contains("Some(Secret([redacted]))") && !debug.contains("super-secret"), "{debug}");
        let patch = UpdateJwtTemplateRequest { signing_key: Some("hunter2".into()), ..Default::default() };
        assert!(!format!("{patch:?}").contains("hunter2"));
        assert!(
            serde_json::from_str::<CreateJwtTemplateRequest>(r#"{"name":"x","claims":{},"k":1}"#).is_err()
        );
        assert!(
            serde_json::from_str::<CreateJwtTemplateRequest>(
                r#"{"name":"x","claims":{},"signing_algorithm":"none"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn paths_are_filled_in_order_and_never_panic() {
        assert_eq!(paths::fill(paths::SESSION_REVOKE, &["sess_1"]), "/v1/client/sessions/sess_1/revoke");
        assert_eq!(paths::fill(paths::ME, &["unused"]), paths::ME);
        assert_eq!(paths::fill(paths::SESSION_TEMPLATE_TOKEN, &["s"]), "/v1/client/sessions/s/tokens/");
        assert_eq!(paths::fill("/a/{x", &["é"]), "/a/é");
        assert_eq!(paths::fill("/ü/{x}/}{", &["1", "2"]), "/ü/1/2");
    }

    #[test]
    fn sign_up_builders_fill_the_request() {
        let r = SignUpRequest::new("a@b.co", "pw").with_name(Some("Ada".into()), None);
        assert_eq!((r.email_address.as_str(), r.password.expose()), ("a@b.co", "pw"));
        assert_eq!((r.first_name.as_deref(), r.last_name), (Some("Ada"), None));
        assert!(r.unsafe_metadata.is_none());
    }

    #[test]
    fn template_token_response_wire_shape() {
        let res = TemplateTokenResponse { object: "token".into(), jwt: Secret::new("a.b.c"), expires_in: 60 };
        assert_eq!(
            serde_json::to_value(&res).unwrap(),
            serde_json::json!({"object": "token", "jwt": "a.b.c", "expires_in": 60})
        );
    }
}

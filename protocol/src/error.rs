//! The error body (`{"errors":[{"code","message","long_message","meta"}]}`) and the stable error codes.
//!
//! Codes are part of the public contract: apps match on them, so a code is never renamed or reused.

use serde::{Deserialize, Serialize};

use crate::{Metadata, Wire};

/// The body of every error response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct ErrorBody {
    pub errors: Vec<ApiError>,
}

/// One error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct ApiError {
    /// A stable code from [`ErrorCode`] (an SDK may meet codes newer than itself).
    pub code: String,
    /// A short message for people.
    pub message: String,
    /// A longer explanation for people.
    #[serde(default)]
    pub long_message: String,
    /// Details, e.g. `{"param_name":"email_address"}` or `{"retry_after":30}`.
    #[serde(default)]
    pub meta: Metadata,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal ),* $(,)?) => {
        /// Every error code Hallpass produces, server and SDK.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire. Always inlined and `const`: with a constant
            /// code it is that code's text alone, so a caller that names a few codes (the SDK) does
            /// not ship the table of them all.
            #[inline(always)]
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The code for a wire string, if it is one this version knows. A scan of [`Self::ALL`]
            /// rather than a `match` on strings: the wasm then holds each code's text once.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|code| code.as_str() == s)
            }
        }
    };
}

error_codes! {
    // --- request shape ---
    /// The body is not valid JSON or does not have the expected shape.
    RequestBodyInvalid = "request_body_invalid",
    /// The body is larger than the server accepts.
    RequestBodyTooLarge = "request_body_too_large",
    /// The Content-Type is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type",
    /// A required field is missing.
    FormParamMissing = "form_param_missing",
    /// A field has the wrong format (e.g. an invalid email address).
    FormParamFormatInvalid = "form_param_format_invalid",
    /// A string field is longer than allowed.
    FormParamTooLong = "form_param_too_long",
    /// A field that is not part of the request.
    FormParamUnknown = "form_param_unknown",
    /// A field has the right type but a value that is not allowed (out of range, an unsupported
    /// algorithm, a key that cannot be used).
    FormParamValueInvalid = "form_param_value_invalid",
    // --- sign-up / sign-in ---
    /// An account with that email address already exists, or (`param_name: "slug"`) an organization
    /// with that slug.
    FormIdentifierExists = "form_identifier_exists",
    /// The password is shorter than the minimum.
    FormPasswordTooShort = "form_password_length_too_short",
    /// The password fails a rule (e.g. it equals the email address).
    FormPasswordValidationFailed = "form_password_validation_failed",
    /// Unknown email address or wrong password (deliberately the same answer for both).
    FormPasswordIncorrect = "form_password_incorrect",
    // --- authentication ---
    /// No credentials, or credentials that are malformed, expired or signed by another key.
    AuthenticationInvalid = "authentication_invalid",
    /// A secret key was sent to the Frontend API (it must never be in a browser).
    SecretKeyNotAllowed = "secret_key_not_allowed",
    /// The Backend API needs a secret key (`sk_…`).
    SecretKeyRequired = "secret_key_required",
    /// The request's Origin is not on the allow-list.
    OriginNotAllowed = "origin_not_allowed",
    /// The password is on the list of common and breached passwords the server ships (Clerk's code).
    FormPasswordPwned = "form_password_pwned",
    /// The password is too easy to guess (e.g. one character repeated, too few different characters).
    FormPasswordNotStrongEnough = "form_password_not_strong_enough",
    /// The password is nothing but spaces (or other whitespace).
    FormPasswordWhitespaceOnly = "form_password_whitespace_only",
    /// 422: the code is wrong (`meta.attempts_left`). Clerk's code.
    FormCodeIncorrect = "form_code_incorrect",
    /// 422: the code or link is past its 10 minutes: prepare a new one. Clerk's code.
    VerificationExpired = "verification_expired",
    /// 422: too many wrong codes: prepare a new one. Clerk's code.
    VerificationFailed = "verification_failed",
    /// 422: nothing to attempt yet — no code or link was prepared for this strategy, or (reset) the
    /// reset code was not verified first.
    VerificationMissing = "verification_missing",
    /// 422: the code or link was used already (single use). Clerk's code.
    VerificationAlreadyVerified = "verification_already_verified",
    /// The email address contains invisible characters or mixes scripts so that it can pass for
    /// another address (e.g. a Cyrillic `а` among Latin letters).
    FormIdentifierConfusable = "form_identifier_confusable",
    // --- sessions and refresh tokens (authoritative: the session is over) ---
    /// The refresh token is unknown or malformed.
    RefreshTokenInvalid = "refresh_token_invalid",
    /// An already-used refresh token was presented outside the grace window: the session was revoked.
    RefreshTokenReused = "refresh_token_reused",
    /// The session was revoked.
    SessionRevoked = "session_revoked",
    /// The session was signed out.
    SessionEnded = "session_ended",
    /// The session passed its idle timeout or absolute lifetime.
    SessionExpired = "session_expired",
    // --- Backend API resources ---
    /// A resource with that unique value (e.g. a JWT template name) already exists.
    DuplicateRecord = "duplicate_record",
    /// A JWT template's `claims` sets a claim that the server always sets itself (`sub`, `iat`,
    /// `exp`, `nbf`, `iss`, `azp`, `sid`, `jti`, `v`, `o`).
    JwtTemplateReservedClaim = "jwt_template_reserved_claim",
    /// A JWT template rendered for this user is larger than the server signs (64 KiB of claims):
    /// the template repeats large shortcodes or the user's metadata is large.
    JwtTemplateTooLarge = "jwt_template_too_large",
    // --- organizations ---
    /// 403: the caller is a member of the organization but their role lacks the permission this call
    /// needs (`meta.permission`, e.g. `org:sys_memberships:manage`). Non-members get 404
    /// `resource_not_found` instead, as for an organization that does not exist.
    OrganizationPermissionMissing = "organization_permission_missing",
    /// 403: the change would leave the organization without a member holding
    /// `org:sys_memberships:manage` (demoting, removing or the leaving of its last admin). Clerk's code.
    OrganizationMinimumPermissionsNeeded = "organization_minimum_permissions_needed",
    /// 403: the organization has `max_allowed_memberships` members (counting pending invitations when
    /// inviting). Clerk's code.
    OrganizationMembershipQuotaExceeded = "organization_membership_quota_exceeded",
    /// 422: that user (or the owner of that email address) is a member already. Clerk's code.
    AlreadyAMemberInOrganization = "already_a_member_in_organization",
    /// 403: the user belongs to as many organizations as the instance lets a user create from the
    /// Frontend API (`create_organizations_limit`).
    OrganizationCreateLimitExceeded = "organization_create_limit_exceeded",
    /// 403: this organization's `admin_delete_enabled` is off; only the Backend API may delete it.
    OrganizationAdminDeleteDisabled = "organization_admin_delete_disabled",
    /// 422: the invitation is no longer pending (`meta.status`: accepted, revoked or expired).
    OrganizationInvitationNotPending = "organization_invitation_not_pending",
    /// 409: the role is in use — members or pending invitations have it, or it is the instance's
    /// creator or default role — or (`param_name: "permissions"`) it is the creator role and would
    /// lose `org:sys_memberships:manage`.
    OrganizationRoleInUse = "organization_role_in_use",
    /// 422: system permissions (`org:sys_…`) cannot be changed or deleted, nor custom ones created
    /// under `sys_`.
    OrganizationSystemPermissionImmutable = "organization_system_permission_immutable",
    /// 403: the instance holds `max_allowed_roles` roles already.
    OrganizationRoleQuotaExceeded = "organization_role_quota_exceeded",
    /// 403: the instance holds `max_allowed_permissions` custom permissions already.
    OrganizationPermissionQuotaExceeded = "organization_permission_quota_exceeded",
    // --- users ---
    /// 403: the instance's `delete_self_enabled` is off: users cannot delete their own account (the
    /// Backend API still can).
    DeleteSelfDisabled = "delete_self_disabled",
    /// 422: only a verified address can become the user's primary one (`param_name:
    /// "primary_email_address_id"`): verify it first.
    EmailAddressNotVerified = "email_address_not_verified",
    // --- other server answers ---
    /// Too many requests; see `Retry-After`.
    RateLimited = "rate_limited",
    /// The server is at capacity for this kind of work (password hashing, connections); see
    /// `Retry-After`. Nothing was done: the same request can be sent again.
    ServerBusy = "server_busy",
    /// The request (its headers or its body) did not arrive in time, or took too long to answer. The
    /// SDK gives it too when no answer came within its request timeout (`requestTimeoutMs`; the
    /// request may have reached the server). Transient, like `network_error`: the session is kept and
    /// refreshes are retried.
    RequestTimeout = "request_timeout",
    /// No such resource.
    ResourceNotFound = "resource_not_found",
    /// The method is not allowed on this path.
    MethodNotAllowed = "method_not_allowed",
    /// Something went wrong on the server; details are in its log.
    InternalError = "internal_error",
    // --- produced by the SDK itself ---
    /// The request did not reach the server or no answer came back.
    NetworkError = "network_error",
    /// The browser is offline; the SDK resumes when it is back online.
    Offline = "offline",
    /// The server's answer could not be understood.
    InvalidResponse = "invalid_response",
    /// The operation needs a signed-in session.
    NotSignedIn = "not_signed_in",
    /// The options passed to the SDK are invalid.
    InvalidOptions = "invalid_options",
    /// Browser storage failed; the SDK continues in memory.
    StorageUnavailable = "storage_unavailable",
    /// The user signed out while the request was in flight; its result was dropped.
    SignedOutDuringRequest = "signed_out_during_request",
}

impl ErrorCode {
    /// True when the server has said, authoritatively, that the session is over: the SDK signs the
    /// user out. Network errors, 5xx and 429 never are.
    pub fn ends_session(self) -> bool {
        matches!(
            self,
            ErrorCode::RefreshTokenInvalid
                | ErrorCode::RefreshTokenReused
                | ErrorCode::SessionRevoked
                | ErrorCode::SessionEnded
                | ErrorCode::SessionExpired
        )
    }

    /// The code for wire string `code` when it is one that ends the session ([`Self::ends_session`]),
    /// else `None`. For a client that keeps the server's codes as the strings they came as (the
    /// SDK): it knows these five without the table of every code that [`Self::parse`] scans.
    pub fn ending(code: &str) -> Option<ErrorCode> {
        const INVALID: &str = ErrorCode::RefreshTokenInvalid.as_str();
        const REUSED: &str = ErrorCode::RefreshTokenReused.as_str();
        const REVOKED: &str = ErrorCode::SessionRevoked.as_str();
        const ENDED: &str = ErrorCode::SessionEnded.as_str();
        const EXPIRED: &str = ErrorCode::SessionExpired.as_str();
        Some(match code {
            INVALID => ErrorCode::RefreshTokenInvalid,
            REUSED => ErrorCode::RefreshTokenReused,
            REVOKED => ErrorCode::SessionRevoked,
            ENDED => ErrorCode::SessionEnded,
            EXPIRED => ErrorCode::SessionExpired,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn only_authoritative_codes_end_a_session() {
        let ending: Vec<ErrorCode> = ErrorCode::ALL.iter().copied().filter(|c| c.ends_session()).collect();
        assert_eq!(ending.len(), 5);
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::ending(code.as_str()), code.ends_session().then_some(*code), "{code}");
        }
        assert_eq!(ErrorCode::ending("Session_revoked"), None);
        assert!(ErrorCode::RefreshTokenReused.ends_session());
        assert!(ErrorCode::SessionRevoked.ends_session());
        assert!(!ErrorCode::RateLimited.ends_session());
        assert!(!ErrorCode::ServerBusy.ends_session());
        assert!(!ErrorCode::RequestTimeout.ends_session());
        assert!(!ErrorCode::NetworkError.ends_session());
        assert!(!ErrorCode::InternalError.ends_session());
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn error_body_matches_wire_shape() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"errors":[{"code":"rate_limited","message":"m","long_message":"l","meta":{"retry_after":3}}]}"#,
        )
        .unwrap();
        assert_eq!(body.errors[0].code, "rate_limited");
        assert_eq!(body.errors[0].meta["retry_after"], 3);
    }
}

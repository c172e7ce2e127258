//! How the store's refusals inside organizations, roles and permissions become API errors, for both
//! APIs (each code is documented in `hallpass_protocol::ErrorCode`).

use axum::http::StatusCode;
use hallpass_protocol::ErrorCode;

use crate::error::ApiError;
use crate::store::{OrgWriteError, RoleWriteError};

impl From<OrgWriteError> for ApiError {
    fn from(e: OrgWriteError) -> Self {
        match e {
            OrgWriteError::OrganizationNotFound => ApiError::not_found("Organization"),
            OrgWriteError::UserNotFound => ApiError::not_found("User"),
            OrgWriteError::MembershipNotFound => ApiError::not_found("Membership"),
            OrgWriteError::InvitationNotFound => ApiError::not_found("Invitation"),
            OrgWriteError::SlugTaken => slug_taken(),
            OrgWriteError::AlreadyMember => ApiError::unprocessable(
                ErrorCode::AlreadyAMemberInOrganization,
                "That user is already a member of this organization",
            ),
            OrgWriteError::MembershipQuota { max } => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::OrganizationMembershipQuotaExceeded,
                "This organization has reached its limit of members",
            )
            .with_long_message(format!(
                "This organization allows {max} members (pending invitations count when inviting)."
            ))
            .with_meta("max_allowed_memberships", max),
            OrgWriteError::CreateLimit { limit } => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::OrganizationCreateLimitExceeded,
                "You cannot create more organizations",
            )
            .with_long_message(format!(
                "A user who belongs to {limit} organizations cannot create another one."
            ))
            .with_meta("create_organizations_limit", limit),
            OrgWriteError::LastAdmin => last_admin(),
            OrgWriteError::InvitationNotPending(status) => ApiError::unprocessable(
                ErrorCode::OrganizationInvitationNotPending,
                format!("This invitation is {}", status.as_str()),
            )
            .with_long_message("Only a pending invitation can be accepted, declined or revoked.")
            .with_meta("status", status.as_str()),
            OrgWriteError::InvitationPending => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::DuplicateRecord,
                "That email address has a pending invitation already",
            )
            .param("email_address"),
            OrgWriteError::Store(e) => e.into(),
        }
    }
}

/// A role or permission write refused; `quota` is the code for [`RoleWriteError::Quota`] (roles and
/// permissions have one each).
pub fn role_error(e: RoleWriteError, quota: ErrorCode) -> ApiError {
    match e {
        RoleWriteError::NotFound => ApiError::not_found("Resource"),
        RoleWriteError::KeyTaken => {
            ApiError::new(StatusCode::CONFLICT, ErrorCode::DuplicateRecord, "That key is taken").param("key")
        }
        RoleWriteError::UnknownPermission(key) => ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            format!("There is no permission `{key}`"),
        )
        .param("permissions"),
        RoleWriteError::InUse(why) => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::OrganizationRoleInUse,
            format!("This role cannot be deleted: {why}"),
        ),
        RoleWriteError::CreatorRoleNeedsManage => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::OrganizationRoleInUse,
            "The creator role must keep org:sys_memberships:manage",
        )
        .with_long_message(
            "It is the instance's creator role: a new organization's only member must be able to manage it.",
        )
        .param("permissions"),
        RoleWriteError::LeavesNoAdmin => last_admin()
            .with_long_message(
                "Some organization's only members holding org:sys_memberships:manage have this role.",
            )
            .param("permissions"),
        RoleWriteError::SystemPermission => ApiError::unprocessable(
            ErrorCode::OrganizationSystemPermissionImmutable,
            "System permissions cannot be changed or deleted",
        ),
        RoleWriteError::Quota(max) => ApiError::new(
            StatusCode::FORBIDDEN,
            quota,
            format!("This instance holds {max} of them, the most it allows"),
        )
        .with_meta("max", max),
        RoleWriteError::Store(e) => e.into(),
    }
}

pub fn slug_taken() -> ApiError {
    ApiError::unprocessable(ErrorCode::FormIdentifierExists, "That slug is taken. Please try another.")
        .param("slug")
}

fn last_admin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::OrganizationMinimumPermissionsNeeded,
        "An organization needs at least one member who can manage its members",
    )
    .with_long_message(
        "This would leave the organization without a member holding org:sys_memberships:manage.",
    )
}

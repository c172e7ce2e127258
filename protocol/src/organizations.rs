//! Organizations, Clerk-shaped: the organization, a membership, an invitation, roles and permissions,
//! and the instance's organization settings — the resources both APIs return (same field names and
//! `object` values as Clerk's Backend API JSON). The requests that change them are in [`crate::api`].
//!
//! What the browser never gets: `private_metadata` (of organizations, memberships and invitations) is
//! present only in Backend API answers; the Frontend API leaves it out (`None`, skipped).
//!
//! Roles and permissions: a role (`org:admin`, `org:member`, or a custom `org:<name>`) is a set of
//! permissions. Permissions are the four system permissions Hallpass itself enforces ([`system`]) and
//! custom `org:<feature>:<action>` ones an app defines through the Backend API and checks with
//! `has({ permission })`.

use serde::{Deserialize, Serialize};

use crate::{Metadata, Wire};

/// The permissions Hallpass enforces on the Frontend API (Clerk's system permissions), and the
/// default roles.
pub mod system {
    /// Update the organization's name and slug.
    pub const PROFILE_MANAGE: &str = "org:sys_profile:manage";
    /// Delete the organization.
    pub const PROFILE_DELETE: &str = "org:sys_profile:delete";
    /// List members and invitations.
    pub const MEMBERSHIPS_READ: &str = "org:sys_memberships:read";
    /// Invite, change roles, remove members, revoke invitations. An organization always keeps at
    /// least one member holding it (its "admin").
    pub const MEMBERSHIPS_MANAGE: &str = "org:sys_memberships:manage";
    /// All of them.
    pub const ALL: [&str; 4] = [PROFILE_MANAGE, PROFILE_DELETE, MEMBERSHIPS_READ, MEMBERSHIPS_MANAGE];

    /// The default admin role: every system permission. The creator of an organization gets it
    /// unless the instance names another creator role.
    pub const ADMIN_ROLE: &str = "org:admin";
    /// The default member role: `org:sys_memberships:read`.
    pub const MEMBER_ROLE: &str = "org:member";
}

/// An organization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct Organization {
    /// Always `"organization"`.
    #[serde(default = "organization_object")]
    pub object: String,
    /// `org_…`
    pub id: String,
    pub name: String,
    /// Unique; lower-case letters, digits and single hyphens (`acme-inc`), 2 to 64 characters.
    pub slug: String,
    /// Empty when there is none.
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub has_image: bool,
    #[serde(default)]
    pub members_count: i64,
    /// Invitations still pending (not accepted, revoked or expired).
    #[serde(default)]
    pub pending_invitations_count: i64,
    /// Most members (pending invitations count towards it when inviting); `0` means no limit.
    #[serde(default)]
    pub max_allowed_memberships: i64,
    /// Whether members holding `org:sys_profile:delete` may delete it from the Frontend API.
    #[serde(default)]
    pub admin_delete_enabled: bool,
    /// Readable by members, writable by the Backend API only.
    #[serde(default)]
    pub public_metadata: Metadata,
    /// Backend API only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    /// The user who created it (`None` when the Backend API created it without `created_by`, or that
    /// user was deleted).
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn organization_object() -> String {
    "organization".into()
}

/// The public part of a member's user (Clerk's `public_user_data`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct PublicUserData {
    pub user_id: String,
    /// The user's primary email address.
    #[serde(default)]
    pub identifier: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub has_image: bool,
}

/// The public part of an organization, as an invitee sees it (Clerk's `public_organization_data`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct PublicOrganizationData {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub has_image: bool,
}

/// A user's membership of an organization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct OrganizationMembership {
    /// Always `"organization_membership"`.
    #[serde(default = "membership_object")]
    pub object: String,
    /// `orgmem_…`
    pub id: String,
    pub organization: Organization,
    pub public_user_data: PublicUserData,
    /// The role's key, e.g. `org:admin`.
    pub role: String,
    /// The role's display name, e.g. `Admin`.
    #[serde(default)]
    pub role_name: String,
    /// Every permission the role grants (system ones included), e.g. `org:sys_memberships:read`.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Readable by the member and the organization, writable by the Backend API only.
    #[serde(default)]
    pub public_metadata: Metadata,
    /// Backend API only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn membership_object() -> String {
    "organization_membership".into()
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    #[default]
    Pending,
    /// The invitee accepted it and became a member.
    Accepted,
    /// Revoked by the organization, or declined by the invitee (Clerk has no separate status).
    Revoked,
    /// Not answered before `expires_at`.
    Expired,
}

/// An invitation to join an organization, addressed to an email address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct OrganizationInvitation {
    /// Always `"organization_invitation"`.
    #[serde(default = "invitation_object")]
    pub object: String,
    /// `orginv_…`
    pub id: String,
    /// Normalised like a sign-up's address (trimmed, lower-case, IDNA domain).
    pub email_address: String,
    /// The role the invitee gets on accepting, e.g. `org:member`.
    pub role: String,
    #[serde(default)]
    pub role_name: String,
    pub organization_id: String,
    /// The organization's name and slug, for the invitee's list.
    #[serde(default)]
    pub public_organization_data: Option<PublicOrganizationData>,
    #[serde(default)]
    pub status: InvitationStatus,
    #[serde(default)]
    pub public_metadata: Metadata,
    /// Backend API only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    /// No invitation link is sent yet (Clerk's field; always `null`).
    #[serde(default)]
    pub url: Option<String>,
    /// After this (ms), a pending invitation is `expired`.
    #[serde(default)]
    pub expires_at: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn invitation_object() -> String {
    "organization_invitation".into()
}

/// Whether a permission is one of Hallpass's own or defined by the app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum PermissionType {
    /// `org:sys_…`: enforced by Hallpass, cannot be changed or deleted.
    System,
    /// `org:<feature>:<action>`, defined through the Backend API.
    #[default]
    User,
}

/// A permission (Backend API `/v1/organization_permissions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Permission {
    /// Always `"permission"`.
    #[serde(default = "permission_object")]
    pub object: String,
    /// `perm_…`
    pub id: String,
    /// `org:<feature>:<action>`, e.g. `org:invoices:read`.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "type")]
    pub kind: PermissionType,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn permission_object() -> String {
    "permission".into()
}

/// A role: a named set of permissions (Backend API `/v1/organization_roles`; members see the list
/// at `/v1/client/organizations/{id}/roles` to pick one when inviting).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Role {
    /// Always `"role"`.
    #[serde(default = "role_object")]
    pub object: String,
    /// `role_…`
    pub id: String,
    /// `org:<name>`, e.g. `org:admin`; never changes.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Whether it could be the creator role: it grants `org:sys_memberships:manage`, so a new
    /// organization's only member can administer it.
    #[serde(default)]
    pub is_creator_eligible: bool,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn role_object() -> String {
    "role".into()
}

/// The instance's organization settings (Backend API `GET /v1/instance/organization_settings`), set
/// with the server's `HALLPASS_ORGANIZATION_*` flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct OrganizationSettings {
    /// Always `"organization_settings"`.
    #[serde(default = "settings_object")]
    pub object: String,
    /// Always `true`: organizations are part of every Hallpass instance.
    pub enabled: bool,
    /// `max_allowed_memberships` of a new organization when its creator does not say (`0`: no limit).
    pub max_allowed_memberships: i64,
    /// Most roles the instance holds (the two default ones included).
    pub max_allowed_roles: i64,
    /// Most custom permissions the instance holds (the system ones not counted).
    pub max_allowed_permissions: i64,
    /// The role the creator of an organization gets.
    pub creator_role: String,
    /// The role a new member gets when an invitation or the Backend API names none.
    pub default_role: String,
    /// Clerk's name for the role of members who join through a verified domain; Hallpass has no
    /// verified domains and reports [`OrganizationSettings::default_role`] here.
    pub domains_default_role: String,
    /// `admin_delete_enabled` of a new organization.
    pub admin_delete_enabled: bool,
    /// Most organizations a user may belong to and still create another from the Frontend API
    /// (`0`: no limit).
    pub create_organizations_limit: i64,
    /// Days a Frontend API invitation stays pending.
    pub invitation_expiry_days: i64,
    /// Always `false` (no verified domains yet).
    pub domains_enabled: bool,
    /// Always `false`: every organization has a slug.
    pub slug_disabled: bool,
    /// Always empty (no verified domains yet).
    #[serde(default)]
    pub domains_enrollment_modes: Vec<String>,
}

fn settings_object() -> String {
    "organization_settings".into()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn membership_wire_shape_matches_clerk() {
        let value = json!({
            "object": "organization_membership", "id": "orgmem_1",
            "organization": {
                "object": "organization", "id": "org_1", "name": "Acme", "slug": "acme", "image_url": "",
                "has_image": false, "members_count": 2, "pending_invitations_count": 1,
                "max_allowed_memberships": 0, "admin_delete_enabled": true, "public_metadata": {"plan": "pro"},
                "created_by": "user_1", "created_at": 1, "updated_at": 2
            },
            "public_user_data": {"user_id": "user_1", "identifier": "ada@example.com", "first_name": "Ada",
                                 "last_name": null, "image_url": "", "has_image": false},
            "role": "org:admin", "role_name": "Admin",
            "permissions": ["org:sys_profile:manage"], "public_metadata": {}, "created_at": 1, "updated_at": 2
        });
        let m: OrganizationMembership = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(m.organization.private_metadata, None);
        assert_eq!(serde_json::to_value(&m).unwrap(), value, "no private metadata appears on the way out");
    }

    #[test]
    fn invitation_status_and_permission_type_names() {
        for name in InvitationStatus::NAMES {
            let s = InvitationStatus::parse(name).unwrap();
            assert_eq!(serde_json::to_value(s).unwrap(), *name);
        }
        assert_eq!(InvitationStatus::NAMES, ["pending", "accepted", "revoked", "expired"]);
        assert_eq!(PermissionType::parse("system"), Some(PermissionType::System));
        assert_eq!(InvitationStatus::parse("declined"), None);
        let p: Permission = serde_json::from_value(json!({
            "object": "permission", "id": "perm_1", "key": "org:sys_profile:manage", "name": "Manage",
            "description": "", "type": "system", "created_at": 0, "updated_at": 0
        }))
        .unwrap();
        assert_eq!(p.kind, PermissionType::System);
        assert_eq!(serde_json::to_value(&p).unwrap()["type"], "system");
        assert!(system::ALL.iter().all(|k| k.starts_with("org:sys_")));
    }
}

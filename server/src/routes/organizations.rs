//! Frontend API organization handlers (`/v1/client/organizations…`, `/v1/client/me/organization_…`):
//! what a signed-in user does in their organizations, each call authorised by [`super::org_access`].
//! The pieces the Backend API shares (creating an organization, naming a role) are here too.
//!
//! Every change is one store transaction (so an outbox row can join it later), and answers never
//! hold private metadata (of the organization, a membership or an invitation).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use hallpass_protocol::{
    CreateInvitationRequest, CreateOrganizationRequest, DeletedObject, ErrorCode, InvitationListParams,
    ListResponse, MembershipListParams, Metadata, Organization, OrganizationInvitation,
    OrganizationMembership, PageParams, Role, UpdateMembershipRequest, UpdateOrganizationRequest, id_prefix,
};

use super::org_access::{self, authorize};
use super::org_errors::slug_taken;
use super::session_auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::organization_rules as rules;
use crate::secret::{new_id, random_base62};
use crate::state::AppState;
use crate::store::{
    Creator, InvitationRecord, MembershipRecord, NewInvitation, NewOrganization, OrgWriteError,
    OrganizationRecord, RoleRecord,
};
use crate::validate;

/// How many made-up slugs are tried when the one made from the name is taken.
const SLUG_ATTEMPTS: usize = 4;

/// What a new organization is made of (both APIs).
pub(super) struct OrganizationDraft {
    pub name: String,
    /// Given by the caller: taken means an error. `None`: made from the name, with a random suffix
    /// when taken.
    pub slug: Option<String>,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub public_metadata: Metadata,
    pub private_metadata: Metadata,
}

/// Creates an organization (with its creator as a member of the creator role, when there is one).
pub(super) async fn create(
    state: &AppState,
    draft: OrganizationDraft,
    creator_user_id: Option<&str>,
    create_limit: Option<i64>,
) -> ApiResult<OrganizationRecord> {
    let creator = match creator_user_id {
        Some(user_id) => Some(Creator {
            membership_id: new_id(id_prefix::ORGANIZATION_MEMBERSHIP)?,
            user_id: user_id.to_owned(),
            role_id: role_named(state, Some(&state.config.organization_creator_role), "role").await?.id,
            create_limit,
        }),
        None => None,
    };
    let given = draft.slug.is_some();
    let base = draft.slug.clone().unwrap_or_else(|| rules::slug_from_name(&draft.name));
    let mut slug = base.clone();
    for attempt in 0..=SLUG_ATTEMPTS {
        let org = NewOrganization {
            id: new_id(id_prefix::ORGANIZATION)?,
            name: draft.name.clone(),
            slug: slug.clone(),
            max_allowed_memberships: draft.max_allowed_memberships,
            admin_delete_enabled: draft.admin_delete_enabled,
            public_metadata: draft.public_metadata.clone(),
            private_metadata: draft.private_metadata.clone(),
            now: state.now_ms(),
        };
        match state.store.create_organization(&org, creator.as_ref()).await {
            Ok(record) => {
                tracing::info!(organization_id = %record.id, created_by = ?creator_user_id, "organization created");
                return Ok(record);
            }
            Err(OrgWriteError::SlugTaken) if !given && attempt < SLUG_ATTEMPTS => {
                slug = rules::slug_with_suffix(&base, &random_base62(6)?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(slug_taken())
}

/// The role with this key, or the instance's default role for `None`; an unknown key is
/// `form_param_value_invalid` on `param`.
pub(super) async fn role_named(state: &AppState, key: Option<&str>, param: &str) -> ApiResult<RoleRecord> {
    let key = key.map(str::trim).unwrap_or(&state.config.organization_default_role);
    state.store.role_by_key(key).await?.ok_or_else(|| {
        ApiError::unprocessable(ErrorCode::FormParamValueInvalid, format!("There is no role `{key}`"))
            .param(param)
    })
}

/// An invitation to create for `email` (normalised here) with the role `role` (the default one when
/// `None`), expiring after `days`.
pub(super) async fn new_invitation(
    state: &AppState,
    organization_id: &str,
    email: &str,
    role: Option<&str>,
    days: i64,
) -> ApiResult<NewInvitation> {
    let now = state.now_ms();
    Ok(NewInvitation {
        id: new_id(id_prefix::ORGANIZATION_INVITATION)?,
        organization_id: organization_id.to_owned(),
        email_address: validate::email(email, "email_address")?,
        role_id: role_named(state, role, "role").await?.id,
        inviter_user_id: None,
        public_metadata: Metadata::new(),
        private_metadata: Metadata::new(),
        expires_at: now.saturating_add(days.saturating_mul(24 * 3600 * 1000)),
        now,
    })
}

/// `(limit, offset)` of a list.
pub(super) fn page(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    validate::page(limit, offset)
}

fn memberships(rows: &[MembershipRecord], total_count: i64) -> Json<ListResponse<OrganizationMembership>> {
    Json(ListResponse { data: rows.iter().map(MembershipRecord::to_frontend).collect(), total_count })
}

fn invitations(
    rows: &[InvitationRecord],
    total_count: i64,
    now: i64,
) -> Json<ListResponse<OrganizationInvitation>> {
    Json(ListResponse { data: rows.iter().map(|i| i.to_frontend(now)).collect(), total_count })
}

/// `POST /v1/client/organizations`: the caller creates one and becomes its member with the creator
/// role (it does not become the active one: `touch` does that).
pub async fn create_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateOrganizationRequest>,
) -> ApiResult<Json<Organization>> {
    let session = authenticate(&state, &headers).await?;
    let draft = OrganizationDraft {
        name: rules::name(&req.name, "name")?,
        slug: req.slug.as_deref().map(rules::slug).transpose()?,
        max_allowed_memberships: state.config.organization_max_allowed_memberships,
        admin_delete_enabled: state.config.organization_admin_delete_enabled,
        public_metadata: Metadata::new(),
        private_metadata: Metadata::new(),
    };
    let limit = Some(state.config.organization_create_limit);
    let org = create(&state, draft, Some(&session.user_id), limit).await?;
    Ok(Json(org.to_frontend()))
}

/// `GET /v1/client/organizations/{organization_id}` (any member).
pub async fn get_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
) -> ApiResult<Json<Organization>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::GET_ORGANIZATION).await?;
    let org = state
        .store
        .organization(&grant.organization_id, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))?;
    Ok(Json(org.to_frontend()))
}

/// `PATCH /v1/client/organizations/{organization_id}`: name and slug (`org:sys_profile:manage`).
pub async fn update_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<UpdateOrganizationRequest>,
) -> ApiResult<Json<Organization>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::UPDATE_ORGANIZATION).await?;
    let name = req.name.as_deref().map(|n| rules::name(n, "name")).transpose()?;
    let slug = req.slug.as_deref().map(rules::slug).transpose()?;
    let org = state
        .store
        .update_organization(&grant.organization_id, state.now_ms(), |o| {
            if let Some(name) = name {
                o.name = name;
            }
            if let Some(slug) = slug {
                o.slug = slug;
            }
            Ok::<(), ApiError>(())
        })
        .await??;
    Ok(Json(org.to_frontend()))
}

/// `DELETE /v1/client/organizations/{organization_id}` (`org:sys_profile:delete`, and the
/// organization's `admin_delete_enabled`).
pub async fn delete_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    let (session, grant) =
        authorize(&state, &headers, &organization, &org_access::DELETE_ORGANIZATION).await?;
    let now = state.now_ms();
    let org = state
        .store
        .organization(&grant.organization_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))?;
    if !org.admin_delete_enabled {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            ErrorCode::OrganizationAdminDeleteDisabled,
            "This organization can only be deleted by the application",
        ));
    }
    state
        .store
        .delete_organization(&org.id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))?;
    tracing::info!(organization_id = %org.id, user_id = %session.user_id, "organization deleted");
    Ok(Json(DeletedObject { object: "organization".into(), id: org.id, deleted: true }))
}

/// `GET /v1/client/organizations/{organization_id}/memberships` (`org:sys_memberships:read`).
pub async fn list_members(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    Query(params): Query<MembershipListParams>,
) -> ApiResult<Json<ListResponse<OrganizationMembership>>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::LIST_MEMBERS).await?;
    let query = rules::search_pattern(params.query.as_deref())?;
    let (rows, total) = state
        .store
        .organization_members(
            &grant.organization_id,
            query.as_deref(),
            params.role.as_deref(),
            page(params.limit, params.offset),
            state.now_ms(),
        )
        .await?;
    Ok(memberships(&rows, total))
}

/// `PATCH /v1/client/organizations/{organization_id}/memberships/{user_id}`: another role
/// (`org:sys_memberships:manage`; the last admin cannot be demoted).
pub async fn change_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((organization, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateMembershipRequest>,
) -> ApiResult<Json<OrganizationMembership>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::CHANGE_ROLE).await?;
    let role = role_named(&state, Some(&req.role), "role").await?;
    let m =
        state.store.change_member_role(&grant.organization_id, &user_id, &role.id, state.now_ms()).await?;
    Ok(Json(m.to_frontend()))
}

/// `DELETE /v1/client/organizations/{organization_id}/memberships/{user_id}`: removes a member
/// (`org:sys_memberships:manage`), or — the caller's own user id — leaves (any member). Their
/// sessions lose it as the active organization.
pub async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((organization, user_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationMembership>> {
    let session = authenticate(&state, &headers).await?;
    let rule = if user_id == session.user_id { &org_access::LEAVE } else { &org_access::REMOVE_MEMBER };
    let grant = org_access::membership(&state, &session, &organization, rule).await?;
    let gone = state.store.remove_member(&grant.organization_id, &user_id, state.now_ms()).await?;
    tracing::info!(organization_id = %grant.organization_id, user_id = %user_id, by = %session.user_id, "member removed");
    Ok(Json(gone.to_frontend()))
}

/// `DELETE /v1/client/me/organization_memberships/{organization_id}`: leaves the organization.
pub async fn leave(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
) -> ApiResult<Json<OrganizationMembership>> {
    let (session, grant) = authorize(&state, &headers, &organization, &org_access::LEAVE).await?;
    let gone = state.store.remove_member(&grant.organization_id, &session.user_id, state.now_ms()).await?;
    tracing::info!(organization_id = %grant.organization_id, user_id = %session.user_id, "member left");
    Ok(Json(gone.to_frontend()))
}

/// `GET /v1/client/organizations/{organization_id}/invitations` (`org:sys_memberships:read`).
pub async fn list_invitations(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    Query(params): Query<InvitationListParams>,
) -> ApiResult<Json<ListResponse<OrganizationInvitation>>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::LIST_INVITATIONS).await?;
    let now = state.now_ms();
    let (rows, total) = state
        .store
        .organization_invitations(
            &grant.organization_id,
            params.status,
            page(params.limit, params.offset),
            now,
        )
        .await?;
    Ok(invitations(&rows, total, now))
}

/// `POST /v1/client/organizations/{organization_id}/invitations` (`org:sys_memberships:manage`): an
/// email address and a role; it expires after the instance's `invitation_expiry_days`.
pub async fn invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let (session, grant) = authorize(&state, &headers, &organization, &org_access::INVITE).await?;
    let mut inv = new_invitation(
        &state,
        &grant.organization_id,
        &req.email_address,
        req.role.as_deref(),
        state.config.organization_invitation_expiry_days,
    )
    .await?;
    inv.inviter_user_id = Some(session.user_id.clone());
    let auth = state.auth().await?;
    let created = state
        .store
        .create_invitation(&inv, &|invitation, inviter| {
            Ok(crate::email::outgoing::invitation(&state, &auth, invitation, inviter)?)
        })
        .await?;
    tracing::info!(organization_id = %grant.organization_id, invitation_id = %created.id, "invitation created");
    Ok(Json(created.to_frontend(inv.now)))
}

/// `POST /v1/client/organizations/{organization_id}/invitations/{invitation_id}/revoke`
/// (`org:sys_memberships:manage`).
pub async fn revoke_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((organization, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let (_, grant) = authorize(&state, &headers, &organization, &org_access::REVOKE_INVITATION).await?;
    let now = state.now_ms();
    let inv = state.store.revoke_invitation(&grant.organization_id, &invitation_id, now).await?;
    Ok(Json(inv.to_frontend(now)))
}

/// `GET /v1/client/organizations/{organization_id}/roles` (`org:sys_memberships:read`): the roles a
/// member can be given.
pub async fn list_roles(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(organization): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<Role>>> {
    authorize(&state, &headers, &organization, &org_access::LIST_ROLES).await?;
    let (roles, total_count) = state.store.list_roles(None, page(params.limit, params.offset)).await?;
    Ok(Json(ListResponse { data: roles.iter().map(RoleRecord::to_wire).collect(), total_count }))
}

/// `GET /v1/client/me/organization_memberships`: the caller's memberships, oldest first.
pub async fn my_memberships(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<OrganizationMembership>>> {
    let session = authenticate(&state, &headers).await?;
    let (rows, total) = state
        .store
        .user_memberships(&session.user_id, page(params.limit, params.offset), state.now_ms())
        .await?;
    Ok(memberships(&rows, total))
}

/// `GET /v1/client/me/organization_invitations`: invitations addressed to the caller's email
/// addresses (any status unless `status` says), newest first.
pub async fn my_invitations(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<InvitationListParams>,
) -> ApiResult<Json<ListResponse<OrganizationInvitation>>> {
    let session = authenticate(&state, &headers).await?;
    let now = state.now_ms();
    let (rows, total) = state
        .store
        .user_invitations(&session.user_id, params.status, page(params.limit, params.offset), now)
        .await?;
    Ok(invitations(&rows, total, now))
}

/// `POST /v1/client/me/organization_invitations/{invitation_id}/accept`: the caller joins with the
/// invitation's role.
pub async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<OrganizationMembership>> {
    let session = authenticate(&state, &headers).await?;
    let membership_id = new_id(id_prefix::ORGANIZATION_MEMBERSHIP)?;
    let m = state
        .store
        .accept_invitation(&invitation_id, &session.user_id, &membership_id, state.now_ms())
        .await?;
    tracing::info!(organization_id = %m.organization.id, user_id = %session.user_id, "invitation accepted");
    Ok(Json(m.to_frontend()))
}

/// `POST /v1/client/me/organization_invitations/{invitation_id}/decline`: it becomes `revoked`.
pub async fn decline_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let session = authenticate(&state, &headers).await?;
    let now = state.now_ms();
    let inv = state.store.decline_invitation(&invitation_id, &session.user_id, now).await?;
    Ok(Json(inv.to_frontend(now)))
}

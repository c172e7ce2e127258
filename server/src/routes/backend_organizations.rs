//! Backend API organization handlers (secret key), on Clerk's paths: organizations (`{organization_id}`
//! is an id or a slug), their memberships and invitations with private metadata, a user's
//! memberships, and the instance's organization settings. Roles and permissions are in
//! [`super::organization_roles`].
//!
//! The Backend API may do anything a member may, in any organization; the invariants (a slug is
//! unique, `max_allowed_memberships`, at least one admin) hold here too.

use axum::Json;
use axum::extract::{Path, Query, State};
use hallpass_protocol::{
    BackendCreateInvitationRequest, BackendCreateOrganizationRequest, BackendUpdateOrganizationRequest,
    CreateMembershipRequest, DeletedObject, ErrorCode, InvitationListParams, ListResponse,
    MembershipListParams, Metadata, Organization, OrganizationInvitation, OrganizationListParams,
    OrganizationMembership, OrganizationSettings, PageParams, UpdateMembershipRequest,
    UpdateOrganizationMetadataRequest, id_prefix,
};

use super::backend::deep_merge;
use super::organizations::{OrganizationDraft, create, new_invitation, page, role_named};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::organization_rules as rules;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::{MembershipRecord, OrganizationOrder, OrganizationRecord, OrganizationSearch};
use crate::validate;

/// The organization a path names (id or slug).
async fn resolve(state: &AppState, organization: &str) -> ApiResult<OrganizationRecord> {
    state
        .store
        .organization_by_ref(organization, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))
}

fn metadata_or_empty(m: Option<Metadata>, param: &str) -> ApiResult<Metadata> {
    let m = m.unwrap_or_default();
    validate::metadata(&m, param)?;
    Ok(m)
}

/// `GET /v1/organizations?limit=&offset=&query=&order_by=`
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<OrganizationListParams>,
) -> ApiResult<Json<ListResponse<Organization>>> {
    let query = rules::search_pattern(params.query.as_deref())?;
    let order = match params.order_by.as_deref() {
        None => OrganizationOrder::CreatedAt { descending: true },
        Some(o) => OrganizationOrder::parse(o).ok_or_else(|| {
            ApiError::unprocessable(
                ErrorCode::FormParamValueInvalid,
                "`order_by` must be created_at, name or members_count, optionally after + or -",
            )
            .param("order_by")
        })?,
    };
    let (limit, offset) = page(params.limit, params.offset);
    let raw = params.query.as_deref().map(str::trim).unwrap_or_default();
    let search = query.as_deref().map(|pattern| OrganizationSearch { pattern, id: raw });
    let (rows, total_count) =
        state.store.list_organizations(search, order, limit, offset, state.now_ms()).await?;
    Ok(Json(ListResponse { data: rows.iter().map(OrganizationRecord::to_backend).collect(), total_count }))
}

/// `POST /v1/organizations`: with `created_by`, that user becomes its member with the creator role.
pub async fn create_organization(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<BackendCreateOrganizationRequest>,
) -> ApiResult<Json<Organization>> {
    let draft = OrganizationDraft {
        name: rules::name(&req.name, "name")?,
        slug: req.slug.as_deref().map(rules::slug).transpose()?,
        max_allowed_memberships: rules::max_allowed_memberships(
            req.max_allowed_memberships.unwrap_or(state.config.organization_max_allowed_memberships),
        )?,
        admin_delete_enabled: req
            .admin_delete_enabled
            .unwrap_or(state.config.organization_admin_delete_enabled),
        public_metadata: metadata_or_empty(req.public_metadata, "public_metadata")?,
        private_metadata: metadata_or_empty(req.private_metadata, "private_metadata")?,
    };
    let org = create(&state, draft, req.created_by.as_deref(), None).await?;
    Ok(Json(org.to_backend()))
}

/// `GET /v1/organizations/{organization_id}`
pub async fn get(
    State(state): State<AppState>,
    Path(organization): Path<String>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(resolve(&state, &organization).await?.to_backend()))
}

/// `PATCH /v1/organizations/{organization_id}`: absent fields stay; metadata given replaces.
pub async fn update(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<BackendUpdateOrganizationRequest>,
) -> ApiResult<Json<Organization>> {
    let id = resolve(&state, &organization).await?.id;
    let name = req.name.as_deref().map(|n| rules::name(n, "name")).transpose()?;
    let slug = req.slug.as_deref().map(rules::slug).transpose()?;
    let max = req.max_allowed_memberships.map(rules::max_allowed_memberships).transpose()?;
    for (m, param) in [(&req.public_metadata, "public_metadata"), (&req.private_metadata, "private_metadata")]
    {
        if let Some(m) = m {
            validate::metadata(m, param)?;
        }
    }
    let org = state
        .store
        .update_organization(&id, state.now_ms(), |o| {
            if let Some(v) = name {
                o.name = v;
            }
            if let Some(v) = slug {
                o.slug = v;
            }
            if let Some(v) = max {
                o.max_allowed_memberships = v;
            }
            if let Some(v) = req.admin_delete_enabled {
                o.admin_delete_enabled = v;
            }
            if let Some(v) = req.public_metadata {
                o.public_metadata = v;
            }
            if let Some(v) = req.private_metadata {
                o.private_metadata = v;
            }
            Ok::<(), ApiError>(())
        })
        .await??;
    Ok(Json(org.to_backend()))
}

/// `PATCH /v1/organizations/{organization_id}/metadata`: deep merge, `null` deletes a key.
pub async fn merge_metadata(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<UpdateOrganizationMetadataRequest>,
) -> ApiResult<Json<Organization>> {
    let id = resolve(&state, &organization).await?.id;
    let org = state
        .store
        .update_organization(&id, state.now_ms(), |o| {
            merge_both(&mut o.public_metadata, &mut o.private_metadata, &req)
        })
        .await??;
    Ok(Json(org.to_backend()))
}

/// Deep-merges the request's objects into the two stored ones, each within the size limit.
fn merge_both(
    public: &mut Metadata,
    private: &mut Metadata,
    req: &UpdateOrganizationMetadataRequest,
) -> Result<(), ApiError> {
    for (patch, target, name) in [
        (&req.public_metadata, public, "public_metadata"),
        (&req.private_metadata, private, "private_metadata"),
    ] {
        if let Some(patch) = patch {
            deep_merge(target, patch);
            validate::metadata(target, name)?;
        }
    }
    Ok(())
}

/// `DELETE /v1/organizations/{organization_id}`: with its memberships and invitations; sessions
/// that had it active have none.
pub async fn delete(
    State(state): State<AppState>,
    Path(organization): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    let id = resolve(&state, &organization).await?.id;
    state
        .store
        .delete_organization(&id, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))?;
    tracing::info!(organization_id = %id, "organization deleted");
    Ok(Json(DeletedObject { object: "organization".into(), id, deleted: true }))
}

fn membership_list(
    rows: &[MembershipRecord],
    total_count: i64,
) -> Json<ListResponse<OrganizationMembership>> {
    Json(ListResponse { data: rows.iter().map(MembershipRecord::to_backend).collect(), total_count })
}

/// `GET /v1/organizations/{organization_id}/memberships?limit=&offset=&query=&role=`
pub async fn list_memberships(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    Query(params): Query<MembershipListParams>,
) -> ApiResult<Json<ListResponse<OrganizationMembership>>> {
    let id = resolve(&state, &organization).await?.id;
    let query = rules::search_pattern(params.query.as_deref())?;
    let (rows, total) = state
        .store
        .organization_members(
            &id,
            query.as_deref(),
            params.role.as_deref(),
            page(params.limit, params.offset),
            state.now_ms(),
        )
        .await?;
    Ok(membership_list(&rows, total))
}

/// `POST /v1/organizations/{organization_id}/memberships`: `user_id` joins with `role` (the default
/// role when absent).
pub async fn create_membership(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<CreateMembershipRequest>,
) -> ApiResult<Json<OrganizationMembership>> {
    let id = resolve(&state, &organization).await?.id;
    let role = role_named(&state, req.role.as_deref(), "role").await?;
    let membership_id = new_id(id_prefix::ORGANIZATION_MEMBERSHIP)?;
    let m = state.store.add_membership(&membership_id, &id, &req.user_id, &role.id, state.now_ms()).await?;
    Ok(Json(m.to_backend()))
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}`: another role.
pub async fn update_membership(
    State(state): State<AppState>,
    Path((organization, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateMembershipRequest>,
) -> ApiResult<Json<OrganizationMembership>> {
    let id = resolve(&state, &organization).await?.id;
    let role = role_named(&state, Some(&req.role), "role").await?;
    let m = state.store.change_member_role(&id, &user_id, &role.id, state.now_ms()).await?;
    Ok(Json(m.to_backend()))
}

/// `DELETE /v1/organizations/{organization_id}/memberships/{user_id}`
pub async fn delete_membership(
    State(state): State<AppState>,
    Path((organization, user_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationMembership>> {
    let id = resolve(&state, &organization).await?.id;
    let gone = state.store.remove_member(&id, &user_id, state.now_ms()).await?;
    Ok(Json(gone.to_backend()))
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}/metadata`: deep merge.
pub async fn merge_membership_metadata(
    State(state): State<AppState>,
    Path((organization, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateOrganizationMetadataRequest>,
) -> ApiResult<Json<OrganizationMembership>> {
    let id = resolve(&state, &organization).await?.id;
    let m = state
        .store
        .update_membership_metadata(&id, &user_id, state.now_ms(), |public, private| {
            merge_both(public, private, &req)
        })
        .await??;
    Ok(Json(m.to_backend()))
}

/// `GET /v1/organizations/{organization_id}/invitations?limit=&offset=&status=`
pub async fn list_invitations(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    Query(params): Query<InvitationListParams>,
) -> ApiResult<Json<ListResponse<OrganizationInvitation>>> {
    let id = resolve(&state, &organization).await?.id;
    let now = state.now_ms();
    let (rows, total_count) = state
        .store
        .organization_invitations(&id, params.status, page(params.limit, params.offset), now)
        .await?;
    Ok(Json(ListResponse { data: rows.iter().map(|i| i.to_backend(now)).collect(), total_count }))
}

/// `POST /v1/organizations/{organization_id}/invitations`
pub async fn create_invitation(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    ApiJson(req): ApiJson<BackendCreateInvitationRequest>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let id = resolve(&state, &organization).await?.id;
    let days = rules::expires_in_days(
        req.expires_in_days.unwrap_or(state.config.organization_invitation_expiry_days),
    )?;
    let mut inv = new_invitation(&state, &id, &req.email_address, req.role.as_deref(), days).await?;
    if let Some(inviter) = req.inviter_user_id {
        // Recorded only, and only a member of the organization can be its inviter.
        if state.store.member_grant(&id, &inviter).await?.is_none() {
            return Err(ApiError::unprocessable(
                ErrorCode::FormParamValueInvalid,
                "`inviter_user_id` is not a member of this organization",
            )
            .param("inviter_user_id"));
        }
        inv.inviter_user_id = Some(inviter);
    }
    inv.public_metadata = metadata_or_empty(req.public_metadata, "public_metadata")?;
    inv.private_metadata = metadata_or_empty(req.private_metadata, "private_metadata")?;
    let auth = state.auth().await?;
    let created = state
        .store
        .create_invitation(&inv, &|invitation, inviter| {
            Ok(crate::email::outgoing::invitation(&state, &auth, invitation, inviter)?)
        })
        .await?;
    Ok(Json(created.to_backend(inv.now)))
}

/// `GET /v1/organizations/{organization_id}/invitations/{invitation_id}`
pub async fn get_invitation(
    State(state): State<AppState>,
    Path((organization, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let id = resolve(&state, &organization).await?.id;
    let now = state.now_ms();
    let inv = state
        .store
        .invitation(&id, &invitation_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Invitation"))?;
    Ok(Json(inv.to_backend(now)))
}

/// `POST /v1/organizations/{organization_id}/invitations/{invitation_id}/revoke`
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Path((organization, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let id = resolve(&state, &organization).await?.id;
    let now = state.now_ms();
    let inv = state.store.revoke_invitation(&id, &invitation_id, now).await?;
    Ok(Json(inv.to_backend(now)))
}

/// `GET /v1/users/{id}/organization_memberships?limit=&offset=`
pub async fn user_memberships(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<OrganizationMembership>>> {
    if state.store.user(&user_id).await?.is_none() {
        return Err(ApiError::not_found("User"));
    }
    let (rows, total) =
        state.store.user_memberships(&user_id, page(params.limit, params.offset), state.now_ms()).await?;
    Ok(membership_list(&rows, total))
}

/// `GET /v1/instance/organization_settings`
pub async fn settings(State(state): State<AppState>) -> Json<OrganizationSettings> {
    Json(rules::settings(&state.config))
}

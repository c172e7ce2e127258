//! Backend API roles and permissions (secret key), on Clerk's paths: `/v1/organization_roles` and
//! `/v1/organization_permissions`. System permissions (`org:sys_…`) are listed but never change;
//! the creator and default roles of the instance's settings cannot be deleted.

use axum::Json;
use axum::extract::{Path, Query, State};
use hallpass_protocol::{
    CreatePermissionRequest, CreateRoleRequest, DeletedObject, ErrorCode, ListResponse, Permission,
    PermissionType, Role, RoleListParams, UpdatePermissionRequest, UpdateRoleRequest, id_prefix,
};

use super::org_errors::role_error;
use super::organizations::page;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::organization_rules as rules;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::{NewRole, PermissionRecord, ProtectedRoles, RoleChange, RoleRecord, RoleWriteError};

fn protected(state: &AppState) -> ProtectedRoles<'_> {
    ProtectedRoles {
        creator: &state.config.organization_creator_role,
        default: &state.config.organization_default_role,
    }
}

fn role_err(e: RoleWriteError) -> ApiError {
    match e {
        RoleWriteError::NotFound => ApiError::not_found("Role"),
        e => role_error(e, ErrorCode::OrganizationRoleQuotaExceeded),
    }
}

fn permission_err(e: RoleWriteError) -> ApiError {
    match e {
        RoleWriteError::NotFound => ApiError::not_found("Permission"),
        e => role_error(e, ErrorCode::OrganizationPermissionQuotaExceeded),
    }
}

/// Permission keys of a role request: each well-formed (system ones allowed: roles may grant them).
fn permission_keys(keys: Vec<String>) -> ApiResult<Vec<String>> {
    keys.into_iter()
        .map(|k| {
            let k = k.trim().to_owned();
            if hallpass_protocol::organizations::system::ALL.contains(&k.as_str()) {
                Ok(k)
            } else {
                rules::permission_key(&k, "permissions")
            }
        })
        .collect()
}

/// `GET /v1/organization_roles?limit=&offset=&query=`
pub async fn list_roles(
    State(state): State<AppState>,
    Query(params): Query<RoleListParams>,
) -> ApiResult<Json<ListResponse<Role>>> {
    let query = rules::search_pattern(params.query.as_deref())?;
    let (roles, total_count) =
        state.store.list_roles(query.as_deref(), page(params.limit, params.offset)).await?;
    Ok(Json(ListResponse { data: roles.iter().map(RoleRecord::to_wire).collect(), total_count }))
}

/// `POST /v1/organization_roles`
pub async fn create_role(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateRoleRequest>,
) -> ApiResult<Json<Role>> {
    let role = NewRole {
        id: new_id(id_prefix::ROLE)?,
        key: rules::role_key(&req.key, "key")?,
        name: rules::name(&req.name, "name")?,
        description: req.description.as_deref().map(|d| rules::description(d, "description")).transpose()?,
        permissions: permission_keys(req.permissions.unwrap_or_default())?,
        now: state.now_ms(),
    };
    let created = state.store.create_role(&role).await.map_err(role_err)?;
    tracing::info!(role = %created.key, "organization role created");
    Ok(Json(created.to_wire()))
}

/// `GET /v1/organization_roles/{id}`
pub async fn get_role(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Role>> {
    let role = state.store.role(&id).await?.ok_or_else(|| ApiError::not_found("Role"))?;
    Ok(Json(role.to_wire()))
}

/// `PATCH /v1/organization_roles/{id}`: the key never changes; `permissions` replaces the set.
pub async fn update_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateRoleRequest>,
) -> ApiResult<Json<Role>> {
    let change = RoleChange {
        name: req.name.as_deref().map(|n| rules::name(n, "name")).transpose()?,
        description: match req.description {
            None => None,
            Some(None) => Some(None),
            Some(Some(d)) => Some(Some(rules::description(&d, "description")?)),
        },
        permissions: req.permissions.map(permission_keys).transpose()?,
    };
    let role =
        state.store.update_role(&id, change, protected(&state), state.now_ms()).await.map_err(role_err)?;
    Ok(Json(role.to_wire()))
}

/// `DELETE /v1/organization_roles/{id}`: refused while members or pending invitations have it, and
/// for the instance's creator and default roles.
pub async fn delete_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    state.store.delete_role(&id, protected(&state)).await.map_err(role_err)?;
    tracing::info!(role_id = %id, "organization role deleted");
    Ok(Json(DeletedObject { object: "role".into(), id, deleted: true }))
}

/// `POST /v1/organization_roles/{id}/permissions/{permission_id}`: grants one more permission.
pub async fn add_role_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    set_role_permission(&state, &id, &permission_id, true).await
}

/// `DELETE /v1/organization_roles/{id}/permissions/{permission_id}`: takes one away.
pub async fn remove_role_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    set_role_permission(&state, &id, &permission_id, false).await
}

async fn set_role_permission(
    state: &AppState,
    id: &str,
    permission_id: &str,
    grant: bool,
) -> ApiResult<Json<Role>> {
    if state.store.permission(permission_id).await?.is_none() {
        return Err(ApiError::not_found("Permission"));
    }
    let role = state
        .store
        .set_role_permission(id, permission_id, grant, protected(state), state.now_ms())
        .await
        .map_err(role_err)?;
    Ok(Json(role.to_wire()))
}

/// `GET /v1/organization_permissions?limit=&offset=&query=`
pub async fn list_permissions(
    State(state): State<AppState>,
    Query(params): Query<RoleListParams>,
) -> ApiResult<Json<ListResponse<Permission>>> {
    let query = rules::search_pattern(params.query.as_deref())?;
    let (rows, total_count) =
        state.store.list_permissions(query.as_deref(), page(params.limit, params.offset)).await?;
    Ok(Json(ListResponse { data: rows.iter().map(PermissionRecord::to_wire).collect(), total_count }))
}

/// `POST /v1/organization_permissions`: a custom `org:<feature>:<action>`.
pub async fn create_permission(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreatePermissionRequest>,
) -> ApiResult<Json<Permission>> {
    let now = state.now_ms();
    let permission = PermissionRecord {
        id: new_id(id_prefix::PERMISSION)?,
        key: rules::permission_key(&req.key, "key")?,
        name: rules::name(&req.name, "name")?,
        description: req
            .description
            .as_deref()
            .map(|d| rules::description(d, "description"))
            .transpose()?
            .unwrap_or_default(),
        permission_type: PermissionType::User,
        created_at: now,
        updated_at: now,
    };
    let created = state.store.create_permission(&permission).await.map_err(permission_err)?;
    tracing::info!(permission = %created.key, "organization permission created");
    Ok(Json(created.to_wire()))
}

/// `GET /v1/organization_permissions/{id}`
pub async fn get_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Permission>> {
    let p = state.store.permission(&id).await?.ok_or_else(|| ApiError::not_found("Permission"))?;
    Ok(Json(p.to_wire()))
}

/// `PATCH /v1/organization_permissions/{id}`: name and description (system ones refuse).
pub async fn update_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdatePermissionRequest>,
) -> ApiResult<Json<Permission>> {
    let name = req.name.as_deref().map(|n| rules::name(n, "name")).transpose()?;
    let description = req.description.as_deref().map(|d| rules::description(d, "description")).transpose()?;
    let p = state
        .store
        .update_permission(&id, name.as_deref(), description.as_deref(), state.now_ms())
        .await
        .map_err(permission_err)?;
    Ok(Json(p.to_wire()))
}

/// `DELETE /v1/organization_permissions/{id}`: the roles that had it lose it (system ones refuse).
pub async fn delete_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    state.store.delete_permission(&id).await.map_err(permission_err)?;
    tracing::info!(permission_id = %id, "organization permission deleted");
    Ok(Json(DeletedObject { object: "permission".into(), id, deleted: true }))
}

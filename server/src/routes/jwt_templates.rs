//! Backend API handlers for JWT templates (`/v1/jwt_templates…`, secret key): create, list, read,
//! update, delete. The rules are in [`crate::jwt_template`]; a custom signing key goes in and is
//! never given back (the resource says only `custom_signing_key: true`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hallpass_protocol::{
    CreateJwtTemplateRequest, DeletedObject, ErrorCode, JwtTemplate, ListResponse, UpdateJwtTemplateRequest,
    id_prefix,
};

use super::backend::Page;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::jwt_template::{self, Signing, SigningRequest, rules};
use crate::secret::{Secret, new_id};
use crate::state::AppState;
use crate::store::{JwtTemplateRecord, TemplateWriteError};

/// `POST /v1/jwt_templates`
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateJwtTemplateRequest>,
) -> ApiResult<Json<JwtTemplate>> {
    rules::name(&req.name)?;
    rules::claims(&req.claims)?;
    let lifetime = req.lifetime.map(rules::lifetime).transpose()?.unwrap_or(rules::DEFAULT_LIFETIME_SECS);
    let allowed_clock_skew =
        req.allowed_clock_skew.map(rules::clock_skew).transpose()?.unwrap_or(rules::DEFAULT_CLOCK_SKEW_SECS);
    let signing = jwt_template::signing(
        &Signing::instance(),
        SigningRequest {
            custom_signing_key: req.custom_signing_key,
            signing_algorithm: req.signing_algorithm,
            signing_key: req.signing_key.as_ref().map(Secret::expose),
        },
    )?;
    let now = state.now_ms();
    let id = new_id(id_prefix::JWT_TEMPLATE)?;
    let signing_key =
        signing.key.map(|k| state.template_keys.seal(&id, k)).transpose().map_err(ApiError::internal)?;
    let template = JwtTemplateRecord {
        id,
        name: req.name,
        claims: req.claims,
        lifetime,
        allowed_clock_skew,
        signing_algorithm: signing.algorithm,
        signing_key,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_jwt_template(&template).await.map_err(write_error)?;
    tracing::info!(
        template_id = %template.id,
        name = %template.name,
        custom_signing_key = template.signing_key.is_some(),
        "JWT template created"
    );
    Ok(Json(template.to_wire()))
}

/// `GET /v1/jwt_templates?limit=&offset=`
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ListResponse<JwtTemplate>>> {
    let (limit, offset) = page.bounds();
    let (templates, total_count) = state.store.list_jwt_templates(limit, offset).await?;
    Ok(Json(ListResponse { data: templates.iter().map(JwtTemplateRecord::to_wire).collect(), total_count }))
}

/// `GET /v1/jwt_templates/{id}`
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JwtTemplate>> {
    let template = state.store.jwt_template(&id).await?.ok_or_else(not_found)?;
    Ok(Json(template.to_wire()))
}

/// `PATCH /v1/jwt_templates/{id}`: absent fields stay; see `UpdateJwtTemplateRequest`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateJwtTemplateRequest>,
) -> ApiResult<Json<JwtTemplate>> {
    if let Some(name) = &req.name {
        rules::name(name)?;
    }
    if let Some(claims) = &req.claims {
        rules::claims(claims)?;
    }
    let lifetime = req.lifetime.map(rules::lifetime).transpose()?;
    let allowed_clock_skew = req.allowed_clock_skew.map(rules::clock_skew).transpose()?;
    let signing_request = SigningRequest {
        custom_signing_key: req.custom_signing_key,
        signing_algorithm: req.signing_algorithm,
        signing_key: req.signing_key.as_ref().map(Secret::expose),
    };
    // A key sent now is sealed for this template; a kept one is stored as it was.
    let new_key = req.signing_key.is_some();
    let template = state
        .store
        .update_jwt_template(&id, state.now_ms(), |t| {
            let current = Signing { algorithm: t.signing_algorithm, key: t.signing_key.clone() };
            let signing = jwt_template::signing(&current, signing_request)?;
            t.signing_algorithm = signing.algorithm;
            t.signing_key = match signing.key {
                Some(key) if new_key => {
                    Some(state.template_keys.seal(&t.id, key).map_err(ApiError::internal)?)
                }
                kept => kept,
            };
            if let Some(name) = req.name {
                t.name = name;
            }
            if let Some(claims) = req.claims {
                t.claims = claims;
            }
            if let Some(v) = lifetime {
                t.lifetime = v;
            }
            if let Some(v) = allowed_clock_skew {
                t.allowed_clock_skew = v;
            }
            Ok::<(), ApiError>(())
        })
        .await
        .map_err(write_error)??
        .ok_or_else(not_found)?;
    tracing::info!(template_id = %template.id, name = %template.name, "JWT template updated");
    Ok(Json(template.to_wire()))
}

/// `DELETE /v1/jwt_templates/{id}`
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    if !state.store.delete_jwt_template(&id).await? {
        return Err(not_found());
    }
    tracing::info!(template_id = %id, "JWT template deleted");
    Ok(Json(DeletedObject { object: "jwt_template".into(), id, deleted: true }))
}

fn not_found() -> ApiError {
    ApiError::not_found("JWT template")
}

fn write_error(e: TemplateWriteError) -> ApiError {
    match e {
        TemplateWriteError::NameTaken => {
            ApiError::new(StatusCode::CONFLICT, ErrorCode::DuplicateRecord, "That template name is taken")
                .with_long_message("Template names are unique: choose another name or update that template.")
                .param("name")
        }
        TemplateWriteError::Store(e) => e.into(),
    }
}

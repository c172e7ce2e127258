//! Backend API `GET` / `PATCH /v1/instance` (secret key): the instance, and the sign-up and sign-in
//! settings an operator changes while the server runs. A change is checked by the same rules as the
//! flags (`crate::auth_settings`), stored, in force on this replica from its answer on and on the
//! others within `crate::instance_settings::MAX_AGE`.

use axum::Json;
use axum::extract::State;
use hallpass_protocol::{ErrorCode, Instance, UpdateInstanceRequest};

use crate::auth_settings::{self, AuthSettings};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::instance_settings::{SettingsChange, StoredSettings};

/// `GET /v1/instance`
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Instance>> {
    let (settings, stored) = state.settings.current(&state.store).await?;
    Ok(Json(instance(&state, &settings, &stored)))
}

/// `PATCH /v1/instance`: answers the settings as this change left them.
pub async fn update(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<UpdateInstanceRequest>,
) -> ApiResult<Json<Instance>> {
    let invalid = |param: &str, why: String| {
        ApiError::unprocessable(ErrorCode::FormParamValueInvalid, format!("`{param}`: {why}")).param(param)
    };
    let instance_name = match req.instance_name {
        Some(Some(name)) => {
            Some(Some(auth_settings::instance_name(&name).map_err(|e| invalid("instance_name", e))?))
        }
        other => other,
    };
    let first_factors = match req.first_factors {
        Some(Some(list)) => {
            Some(Some(auth_settings::first_factors(&list).map_err(|e| invalid("first_factors", e))?))
        }
        other => other,
    };
    let change = SettingsChange {
        instance_name,
        first_factors,
        sign_up_requires_verified_email: req.sign_up_requires_verified_email,
        delete_self_enabled: req.delete_self_enabled,
    };
    let stored = state.store.update_instance_settings(&change, state.now_ms()).await?;
    tracing::info!(version = stored.version, overridden = ?overridden(&stored), "instance settings changed");
    // The answer is this write's row, even when a later change made here at the same moment is the
    // one this replica keeps.
    let answer = instance(&state, &state.settings.flags().with_stored(&stored), &stored);
    state.settings.keep(stored);
    Ok(Json(answer))
}

fn instance(state: &AppState, settings: &AuthSettings, stored: &StoredSettings) -> Instance {
    let live = state.secret_key.expose().starts_with("sk_live_");
    Instance {
        object: "instance".into(),
        id: state.instance_id.clone(),
        environment_type: if live { "production" } else { "development" }.into(),
        allowed_origins: state.config.allowed_origins.clone(),
        instance_name: settings.instance_name.clone(),
        first_factors: settings.first_factors.clone(),
        sign_up_requires_verified_email: settings.requires_verified_email,
        delete_self_enabled: settings.delete_self_enabled,
        overridden: overridden(stored),
        updated_at: stored.updated_at,
    }
}

/// The settings changed through the API (the flags decide the others).
fn overridden(stored: &StoredSettings) -> Vec<String> {
    [
        ("instance_name", stored.instance_name.is_some()),
        ("first_factors", stored.first_factors.is_some()),
        ("sign_up_requires_verified_email", stored.sign_up_requires_verified_email.is_some()),
        ("delete_self_enabled", stored.delete_self_enabled.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name.to_owned())
    .collect()
}

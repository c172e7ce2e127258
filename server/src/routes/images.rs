//! Profile images: the signed-in user uploads one (`POST /v1/client/me/profile_image`, the image
//! itself as the body — Clerk's `user.setProfileImage({ file })`) or removes it (`DELETE`), and anyone
//! fetches it by its unguessable address (`GET /v1/images/{id}`), which becomes the user's
//! `image_url`.
//!
//! Upload: the session and the declared `Content-Type` (one of `Image::TYPES`, 415 otherwise) are
//! checked before a byte of the body is read — nobody without a session makes the server buffer a
//! megabyte —, then the first bytes must be that type's signature (422), so what is served as an
//! image is one (`crate::image_type`). The body is read up to `Image::MAX_BYTES` (the router's own limit for this
//! route: a larger `Content-Length` is refused before anything is read, a larger chunked body as soon
//! as it passes the limit; 413) and within the body-read deadline (408). Serving: the stored type,
//! `nosniff`, a CSP that lets nothing run even if a browser rendered it as a document, and a year's
//! immutable caching (an image never changes; a new upload is a new id).

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallpass_protocol::{DeletedObject, ErrorCode, Image, id_prefix, paths};

use super::session_auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::extract::RawBody;
use crate::image_type;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::images::NewImage;

/// `POST /v1/client/me/profile_image` → `Image`.
pub async fn upload(State(state): State<AppState>, req: Request) -> ApiResult<Json<Image>> {
    let headers = req.headers();
    let session = authenticate(&state, headers).await?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(image_type::declared)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "A profile image is a PNG, JPEG, GIF or WebP image (`Content-Type: image/png`, …)",
            )
        })?;
    let RawBody(bytes) = RawBody::from_request(req, &state).await?;
    if bytes.len() > Image::MAX_BYTES {
        return Err(crate::extract::too_large());
    }
    if image_type::sniffed(&bytes) != Some(declared) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamFormatInvalid,
            format!("The body is not a {} image", image_type::extension(declared).to_ascii_uppercase()),
        )
        .param("file"));
    }
    let id = new_id(id_prefix::IMAGE)?;
    let public_url = state.url_of(&paths::fill(paths::IMAGE, &[&id]));
    let image = NewImage { id: &id, content_type: declared, bytes: &bytes, url: &public_url };
    state
        .store
        .set_profile_image(&session.user_id, &image, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    tracing::info!(user_id = %session.user_id, image_id = %id, bytes = bytes.len(), "profile image set");
    let name = format!("{id}.{}", image_type::extension(declared));
    Ok(Json(Image { object: "image".into(), id, name, public_url }))
}

/// `DELETE /v1/client/me/profile_image` → `{ object: "image", id, deleted: true }`; 404 when the user
/// has no uploaded image (`image_url` is then already empty).
pub async fn remove(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<DeletedObject>> {
    let session = authenticate(&state, &headers).await?;
    let (removed, _) = state
        .store
        .remove_profile_image(&session.user_id, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    let id = removed.ok_or_else(|| ApiError::not_found("Profile image"))?;
    tracing::info!(user_id = %session.user_id, image_id = %id, "profile image removed");
    Ok(Json(DeletedObject { object: "image".into(), id, deleted: true }))
}

/// `GET /v1/images/{id}`: the image's bytes, public.
pub async fn serve(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let well_formed = id.len() <= 64 && id.starts_with(id_prefix::IMAGE);
    let image = match well_formed {
        true => state.store.image(&id).await?,
        false => None,
    };
    let image = image.ok_or_else(|| ApiError::not_found("Image"))?;
    // Only the four types are ever stored; anything else in the row is served as opaque bytes.
    let content_type = image_type::declared(&image.content_type).unwrap_or("application/octet-stream");
    let mut res = image.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    // An app on another origin shows it with <img>, also under `Cross-Origin-Embedder-Policy`.
    h.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    Ok(res)
}

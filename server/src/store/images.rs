//! Uploaded images: a user's profile image, stored in the database (both engines) and served at
//! `GET /v1/images/{id}`. A user has at most one: setting a new one deletes the one before in the same
//! transaction that points `users.image_url` at the new one, and the image goes with its user (the
//! foreign key cascades). Emits `user.updated` for each change.

use hallpass_protocol::EventType;

use super::dialect::locked;
use super::users::read_in;
use super::{Store, StoreError, UserRecord};

/// An image to store (already checked: its type agrees with its bytes).
pub struct NewImage<'a> {
    pub id: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    /// Its public URL, which becomes the user's `image_url`.
    pub url: &'a str,
}

/// An image as served.
#[derive(sqlx::FromRow)]
pub struct StoredImage {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Makes `image` the profile image of `user_id` (the previous one deleted). `None` if the user is
    /// gone.
    pub async fn set_profile_image(
        &self,
        user_id: &str,
        image: &NewImage<'_>,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        if !lock_user(&mut tx, user_id).await? {
            return Ok(None);
        }
        sqlx::query("DELETE FROM images WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
        sqlx::query(
            "INSERT INTO images (id, user_id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(image.id)
        .bind(user_id)
        .bind(image.content_type)
        .bind(image.bytes.to_vec())
        .bind(now)
        .execute(tx.conn())
        .await?;
        let user = set_image_url(&mut tx, user_id, image.url, now).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Removes the profile image of `user_id`: `image_url` empty again. `None` if the user is gone;
    /// else the deleted image's id (`None`: there was none) and the user.
    pub async fn remove_profile_image(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Option<(Option<String>, UserRecord)>, StoreError> {
        let mut tx = self.write_tx().await?;
        if !lock_user(&mut tx, user_id).await? {
            return Ok(None);
        }
        let removed: Option<String> =
            sqlx::query_scalar("DELETE FROM images WHERE user_id = $1 RETURNING id")
                .bind(user_id)
                .fetch_optional(tx.conn())
                .await?;
        let Some(user) = set_image_url(&mut tx, user_id, "", now).await? else { return Ok(None) };
        tx.commit().await?;
        Ok(Some((removed, user)))
    }

    /// The image `id`.
    pub async fn image(&self, id: &str) -> Result<Option<StoredImage>, StoreError> {
        Ok(sqlx::query_as("SELECT content_type, bytes FROM images WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// Locks the user's row until `tx` ends (two uploads at once: one after the other, each deleting the
/// image before it); `false` if there is no such user.
async fn lock_user(tx: &mut super::WriteTx, user_id: &str) -> Result<bool, StoreError> {
    const LOCK: super::dialect::Sql = locked!("SELECT id FROM users WHERE id = $1");
    let found: Option<String> =
        sqlx::query_scalar(LOCK.get(tx.engine())).bind(user_id).fetch_optional(tx.conn()).await?;
    Ok(found.is_some())
}

async fn set_image_url(
    tx: &mut super::WriteTx,
    user_id: &str,
    url: &str,
    now: i64,
) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query("UPDATE users SET image_url = $1, updated_at = $2 WHERE id = $3")
        .bind(url)
        .bind(now)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    let user = read_in(tx, user_id).await?;
    if let Some(user) = &user {
        tx.emit(EventType::UserUpdated, &user.to_backend(), now)?;
    }
    Ok(user)
}

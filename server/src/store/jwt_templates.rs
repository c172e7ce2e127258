//! JWT templates in the store: create, read, list, update, delete. Names are unique; the database's
//! unique index decides, so two concurrent creates (or renames) onto one name cannot both succeed.

use hallpass_protocol::{JwtAlgorithm, JwtTemplate, Metadata};

use super::columns::json;
use super::dialect::{Sql, locked};
use super::{Store, StoreError};
use crate::secret::TemplateKey;

/// A JWT template as stored (with its custom signing key: never serialise this directly).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JwtTemplateRecord {
    pub id: String,
    pub name: String,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub claims: Metadata,
    /// Seconds.
    #[sqlx(try_from = "i64")]
    pub lifetime: u32,
    /// Seconds.
    #[sqlx(try_from = "i64")]
    pub allowed_clock_skew: u32,
    #[sqlx(try_from = "super::columns::NameText")]
    pub signing_algorithm: JwtAlgorithm,
    /// `None`: the instance's own key signs (and the algorithm is RS256).
    #[sqlx(try_from = "super::columns::SecretText")]
    pub signing_key: Option<TemplateKey>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JwtTemplateRecord {
    /// The template as the Backend API shows it: whether there is a custom key, never the key.
    pub fn to_wire(&self) -> JwtTemplate {
        JwtTemplate {
            object: "jwt_template".into(),
            id: self.id.clone(),
            name: self.name.clone(),
            claims: self.claims.clone(),
            lifetime: self.lifetime,
            allowed_clock_skew: self.allowed_clock_skew,
            custom_signing_key: self.signing_key.is_some(),
            signing_algorithm: self.signing_algorithm,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A template could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TemplateWriteError {
    #[error("a JWT template with that name already exists")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TemplateWriteError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => TemplateWriteError::NameTaken,
            _ => TemplateWriteError::Store(e.into()),
        }
    }
}

macro_rules! select_template {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, claims, lifetime, allowed_clock_skew, signing_algorithm, signing_key, created_at, \
             updated_at FROM jwt_templates ",
            $rest
        )
    };
}

impl Store {
    /// Inserts a new template.
    pub async fn insert_jwt_template(&self, t: &JwtTemplateRecord) -> Result<(), TemplateWriteError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO jwt_templates (id, name, claims, lifetime, allowed_clock_skew, signing_algorithm, \
             signing_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(json(&t.claims))
        .bind(i64::from(t.lifetime))
        .bind(i64::from(t.allowed_clock_skew))
        .bind(t.signing_algorithm.as_str())
        .bind(t.signing_key.as_ref().map(|k| k.expose()))
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(tx.conn())
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn jwt_template(&self, id: &str) -> Result<Option<JwtTemplateRecord>, StoreError> {
        Ok(sqlx::query_as(select_template!("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn jwt_template_by_name(&self, name: &str) -> Result<Option<JwtTemplateRecord>, StoreError> {
        Ok(sqlx::query_as(select_template!("WHERE name = $1")).bind(name).fetch_optional(&self.pool).await?)
    }

    /// A page of templates, newest first, and the total count.
    pub async fn list_jwt_templates(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<JwtTemplateRecord>, i64), StoreError> {
        let templates = sqlx::query_as(select_template!("ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_templates").fetch_one(&self.pool).await?;
        Ok((templates, total))
    }

    /// Read-modify-write of a template in one write transaction, its row locked meanwhile, as
    /// [`Store::update_user`]: `edit`
    /// changes the record or refuses with `Err` (nothing is written); `Ok(None)` if there is no such
    /// template. A rename onto a taken name is [`TemplateWriteError::NameTaken`].
    pub async fn update_jwt_template<E>(
        &self,
        id: &str,
        now: i64,
        edit: impl FnOnce(&mut JwtTemplateRecord) -> Result<(), E>,
    ) -> Result<Result<Option<JwtTemplateRecord>, E>, TemplateWriteError> {
        const LOCK: Sql = locked!(select_template!("WHERE id = $1"));
        let mut tx = self.write_tx().await?;
        let sql = LOCK.get(tx.engine());
        let found: Option<JwtTemplateRecord> =
            sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await.map_err(StoreError::from)?;
        let Some(mut template) = found else {
            return Ok(Ok(None));
        };
        if let Err(e) = edit(&mut template) {
            return Ok(Err(e));
        }
        template.updated_at = now;
        sqlx::query(
            "UPDATE jwt_templates SET name = $1, claims = $2, lifetime = $3, allowed_clock_skew = $4, \
             signing_algorithm = $5, signing_key = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&template.name)
        .bind(json(&template.claims))
        .bind(i64::from(template.lifetime))
        .bind(i64::from(template.allowed_clock_skew))
        .bind(template.signing_algorithm.as_str())
        .bind(template.signing_key.as_ref().map(|k| k.expose()))
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Ok(Some(template)))
    }

    /// The templates that have a custom key: their ids and stored keys.
    pub async fn template_keys(&self) -> Result<Vec<(String, TemplateKey)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, signing_key FROM jwt_templates WHERE signing_key IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, key)| (id, TemplateKey::new(key))).collect())
    }

    /// Stores `new` as template `id`'s key if it is still `old` (a replica may have done it, or the
    /// template changed, meanwhile); `false` when it was not.
    pub async fn replace_template_key(
        &self,
        id: &str,
        old: &TemplateKey,
        new: &TemplateKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE jwt_templates SET signing_key = $1 WHERE id = $2 AND signing_key = $3")
            .bind(new.expose())
            .bind(id)
            .bind(old.expose())
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Deletes a template; `false` if there was none.
    pub async fn delete_jwt_template(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM jwt_templates WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }
}

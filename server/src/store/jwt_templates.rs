//! JWT templates in the store: create, read, list, update, delete. Names are unique; the database's
//! unique index decides, so two concurrent creates of one name cannot both succeed.

use sqlx::Row;

use super::{JwtTemplateRecord, Store, StoreError, json};

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

const TEMPLATE_COLUMNS: &str =
    "id, name, claims, lifetime, allowed_clock_skew, signing_algorithm, signing_key, created_at, updated_at";

impl Store {
    /// Inserts a new template.
    pub async fn insert_jwt_template(&self, t: &JwtTemplateRecord) -> Result<(), TemplateWriteError> {
        let _turn = self.writer.lock().await;
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn jwt_template(&self, id: &str) -> Result<Option<JwtTemplateRecord>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(JwtTemplateRecord::from_row).transpose()
    }

    pub async fn jwt_template_by_name(&self, name: &str) -> Result<Option<JwtTemplateRecord>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(JwtTemplateRecord::from_row).transpose()
    }

    /// A page of templates, newest first, and the total count.
    pub async fn list_jwt_templates(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<JwtTemplateRecord>, i64), StoreError> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM jwt_templates ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let templates = rows.iter().map(JwtTemplateRecord::from_row).collect::<Result<Vec<_>, _>>()?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM jwt_templates")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok((templates, total))
    }

    /// Read-modify-write of a template in one write transaction, as [`Store::update_user`]: `edit`
    /// changes the record or refuses with `Err` (nothing is written); `Ok(None)` if there is no such
    /// template. A rename onto a taken name is [`TemplateWriteError::NameTaken`].
    pub async fn update_jwt_template<E>(
        &self,
        id: &str,
        now: i64,
        edit: impl FnOnce(&mut JwtTemplateRecord) -> Result<(), E>,
    ) -> Result<Result<Option<JwtTemplateRecord>, E>, TemplateWriteError> {
        let mut tx = self.write_tx().await?;
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE id = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?
        else {
            return Ok(Ok(None));
        };
        let mut template = JwtTemplateRecord::from_row(&row)?;
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
        .execute(&mut **tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Ok(Some(template)))
    }

    /// Deletes a template; `false` if there was none.
    pub async fn delete_jwt_template(&self, id: &str) -> Result<bool, StoreError> {
        let _turn = self.writer.lock().await;
        let n = sqlx::query("DELETE FROM jwt_templates WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}

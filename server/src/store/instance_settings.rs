//! The sign-up and sign-in settings changed through the Backend API (`PATCH /v1/instance`): one row
//! (the migration inserts it), whose NULL columns are settings never changed there — the server's
//! flags apply to those (`crate::auth_settings`). A change is one `UPDATE … RETURNING`: concurrent
//! changes are applied one after the other by the row lock, each answers the row as its own write
//! left it, and `version` counts them.

use hallpass_protocol::Strategy;

use super::{Store, StoreError};

/// The stored row: `None` for a setting the flags decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredSettings {
    pub instance_name: Option<String>,
    pub first_factors: Option<Vec<Strategy>>,
    pub sign_up_requires_verified_email: Option<bool>,
    pub delete_self_enabled: Option<bool>,
    /// How many changes were made (0: none yet).
    pub version: i64,
    pub updated_at: i64,
}

/// A change: per setting, `None` leaves it, `Some(None)` hands it back to the flags, `Some(Some(v))`
/// sets it. Already checked (`crate::auth_settings`).
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub instance_name: Option<Option<String>>,
    pub first_factors: Option<Option<Vec<Strategy>>>,
    pub sign_up_requires_verified_email: Option<Option<bool>>,
    pub delete_self_enabled: Option<Option<bool>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    instance_name: Option<String>,
    first_factors: Option<String>,
    sign_up_requires_verified_email: Option<i64>,
    delete_self_enabled: Option<i64>,
    version: i64,
    updated_at: i64,
}

impl TryFrom<Row> for StoredSettings {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<StoredSettings, StoreError> {
        let first_factors = row
            .first_factors
            .map(|json| {
                let names: Vec<String> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("instance_settings.first_factors: {e}")))?;
                names
                    .iter()
                    .map(|n| {
                        Strategy::parse(n).ok_or_else(|| {
                            StoreError::Corrupt(format!("instance_settings.first_factors: unknown `{n}`"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(StoredSettings {
            instance_name: row.instance_name,
            first_factors,
            sign_up_requires_verified_email: row.sign_up_requires_verified_email.map(|v| v != 0),
            delete_self_enabled: row.delete_self_enabled.map(|v| v != 0),
            version: row.version,
            updated_at: row.updated_at,
        })
    }
}

/// A setting's `(change it?, new value)` binds.
fn change<T>(c: &Option<Option<T>>) -> (i64, Option<&T>) {
    match c {
        None => (0, None),
        Some(v) => (1, v.as_ref()),
    }
}

impl Store {
    /// The stored settings.
    pub async fn instance_settings(&self) -> Result<StoredSettings, StoreError> {
        let row: Row = sqlx::query_as(
            "SELECT instance_name, first_factors, sign_up_requires_verified_email, delete_self_enabled, version, \
             updated_at \
             FROM instance_settings WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// Applies `change` and returns the row as this write left it.
    pub async fn update_instance_settings(
        &self,
        edit: &SettingsChange,
        now: i64,
    ) -> Result<StoredSettings, StoreError> {
        let (set_name, name) = change(&edit.instance_name);
        let factors = edit.first_factors.as_ref().map(|f| {
            f.as_ref().map(|list| {
                serde_json::Value::from(list.iter().map(|s| s.as_str()).collect::<Vec<_>>()).to_string()
            })
        });
        let (set_factors, factors) = change(&factors);
        let verified = edit.sign_up_requires_verified_email.map(|v| v.map(i64::from));
        let (set_verified, verified) = change(&verified);
        let delete_self = edit.delete_self_enabled.map(|v| v.map(i64::from));
        let (set_delete_self, delete_self) = change(&delete_self);
        let mut conn = self.write_one().await?;
        let row: Row = sqlx::query_as(
            "UPDATE instance_settings SET \
             instance_name = CASE WHEN $1 = 1 THEN $2 ELSE instance_name END, \
             first_factors = CASE WHEN $3 = 1 THEN $4 ELSE first_factors END, \
             sign_up_requires_verified_email = CASE WHEN $5 = 1 THEN $6 ELSE sign_up_requires_verified_email END, \
             delete_self_enabled = CASE WHEN $7 = 1 THEN $8 ELSE delete_self_enabled END, \
             version = version + 1, updated_at = $9 WHERE id = 1 \
             RETURNING instance_name, first_factors, sign_up_requires_verified_email, delete_self_enabled, \
             version, updated_at",
        )
        .bind(set_name)
        .bind(name.cloned())
        .bind(set_factors)
        .bind(factors.cloned())
        .bind(set_verified)
        .bind(verified.copied())
        .bind(set_delete_self)
        .bind(delete_self.copied())
        .bind(now)
        .fetch_one(conn.conn())
        .await?;
        row.try_into()
    }
}

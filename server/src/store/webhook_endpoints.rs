//! Webhook endpoints: create, read, list, update (enable, disable), delete, rotate the signing secret.
//! Their deliveries are in [`super::webhook_deliveries`]; deleting an endpoint deletes its deliveries
//! and attempts (the foreign keys cascade).

use hallpass_protocol::{DisabledReason, EventType, WebhookEndpoint};

use super::columns::event_types;
use super::dialect::{Sql, locked};
use super::{Store, StoreError};
use crate::webhooks::signature::WebhookSecret;

/// An endpoint as stored (with its secrets: never serialise this directly).
#[derive(Clone, sqlx::FromRow)]
pub struct EndpointRecord {
    pub id: String,
    pub url: String,
    pub description: String,
    /// `None`: every type.
    #[sqlx(try_from = "super::columns::EventTypesText")]
    pub event_types: Option<Vec<EventType>>,
    #[sqlx(try_from = "super::columns::Flag")]
    pub enabled: bool,
    #[sqlx(try_from = "super::columns::NullableNameText")]
    pub disabled_reason: Option<DisabledReason>,
    #[sqlx(try_from = "super::columns::SecretText")]
    pub secret: WebhookSecret,
    #[sqlx(try_from = "super::columns::SecretText")]
    pub previous_secret: Option<WebhookSecret>,
    pub previous_secret_expires_at: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for EndpointRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointRecord").field("id", &self.id).field("url", &self.url).finish_non_exhaustive()
    }
}

impl EndpointRecord {
    /// The endpoint as the Backend API shows it: without its secret (the create and rotate calls add
    /// it), with the previous secret's expiry only while it still signs at `now`.
    pub fn to_wire(&self, now: i64) -> WebhookEndpoint {
        WebhookEndpoint {
            object: "webhook_endpoint".into(),
            id: self.id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            secret: None,
            previous_secret_expires_at: self.previous_secret(now).and(self.previous_secret_expires_at),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The rotated-out secret, while it still signs at `now`.
    pub fn previous_secret(&self, now: i64) -> Option<&WebhookSecret> {
        self.previous_secret.as_ref().filter(|_| self.previous_secret_expires_at.is_some_and(|t| now < t))
    }

    /// The secrets that sign a delivery made at `now`: the current one, then the previous one while
    /// it is kept.
    pub fn signing_secrets(&self, now: i64) -> Vec<&WebhookSecret> {
        std::iter::once(&self.secret).chain(self.previous_secret(now)).collect()
    }

    /// Whether the endpoint receives events of `t`.
    pub fn receives(&self, t: EventType) -> bool {
        self.event_types.as_ref().is_none_or(|types| types.contains(&t))
    }
}

/// An endpoint to create.
pub struct NewEndpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Option<Vec<EventType>>,
    pub secret: WebhookSecret,
    pub now: i64,
}

/// The columns of an [`EndpointRecord`] (from `webhook_endpoints e`).
macro_rules! endpoint_columns {
    () => {
        "e.id, e.url, e.description, e.event_types, e.enabled, e.disabled_reason, e.secret, e.previous_secret, \
         e.previous_secret_expires_at, e.failing_since, e.created_at, e.updated_at"
    };
}
pub(super) use endpoint_columns;

const ENDPOINT_BY_ID: &str =
    concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints e WHERE e.id = $1");

impl Store {
    pub async fn create_webhook_endpoint(&self, e: &NewEndpoint) -> Result<EndpointRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
        )
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.description)
        .bind(event_types(e.event_types.as_deref()))
        .bind(e.secret.expose())
        .bind(e.now)
        .execute(tx.conn())
        .await?;
        let created = sqlx::query_as(ENDPOINT_BY_ID).bind(&e.id).fetch_one(tx.conn()).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn webhook_endpoint(&self, id: &str) -> Result<Option<EndpointRecord>, StoreError> {
        Ok(sqlx::query_as(ENDPOINT_BY_ID).bind(id).fetch_optional(&self.pool).await?)
    }

    /// A page of endpoints, oldest first, and the total count.
    pub async fn list_webhook_endpoints(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EndpointRecord>, i64), StoreError> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints e ORDER BY e.created_at, e.id LIMIT $1 OFFSET $2"
        );
        let endpoints = sqlx::query_as(sql).bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints").fetch_one(&self.pool).await?;
        Ok((endpoints, total))
    }

    /// Read-modify-write of an endpoint's URL, description, event types and enabled flag, its row
    /// locked meanwhile. `edit` changes the record or refuses with `Err` (nothing is written);
    /// `Ok(None)` if there is no such endpoint. Enabling clears the disabled reason and the failure
    /// streak; disabling by hand records [`DisabledReason::Manual`].
    pub async fn update_webhook_endpoint<E>(
        &self,
        id: &str,
        now: i64,
        edit: impl FnOnce(&mut EndpointRecord) -> Result<(), E>,
    ) -> Result<Result<Option<EndpointRecord>, E>, StoreError> {
        const LOCK: Sql =
            locked!(concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints e WHERE e.id = $1"));
        let mut tx = self.write_tx().await?;
        let sql = LOCK.get(tx.engine());
        let Some(mut endpoint): Option<EndpointRecord> =
            sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await?
        else {
            return Ok(Ok(None));
        };
        let was_enabled = endpoint.enabled;
        if let Err(e) = edit(&mut endpoint) {
            return Ok(Err(e));
        }
        match (was_enabled, endpoint.enabled) {
            (false, true) => {
                endpoint.disabled_reason = None;
                endpoint.failing_since = None;
            }
            (true, false) => endpoint.disabled_reason = Some(DisabledReason::Manual),
            _ => {}
        }
        endpoint.updated_at = now;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, enabled = $4, \
             disabled_reason = $5, failing_since = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&endpoint.url)
        .bind(&endpoint.description)
        .bind(event_types(endpoint.event_types.as_deref()))
        .bind(i64::from(endpoint.enabled))
        .bind(endpoint.disabled_reason.map(DisabledReason::as_str))
        .bind(endpoint.failing_since)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        if endpoint.enabled && !was_enabled {
            self.wake_webhooks();
        }
        Ok(Ok(Some(endpoint)))
    }

    /// Deletes an endpoint with its deliveries and attempts; `false` if absent.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Makes `secret` the endpoint's signing secret; the one it replaces keeps signing beside it until
    /// `previous_expires_at`. `None` if there is no such endpoint.
    pub async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &WebhookSecret,
        previous_expires_at: i64,
        now: i64,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(previous_expires_at)
        .bind(secret.expose())
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        let rotated = sqlx::query_as(ENDPOINT_BY_ID).bind(id).fetch_one(tx.conn()).await?;
        tx.commit().await?;
        Ok(Some(rotated))
    }
}

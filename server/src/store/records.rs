//! Rows as the store hands them out, and their conversion to the wire resources.

use hallpass_protocol::{EmailAddress, JwtAlgorithm, JwtTemplate, Metadata, Session, SessionStatus, User};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{StoreError, parse_metadata};
use crate::secret::TemplateKey;

/// A user as stored (with the password hash and private metadata: never serialise this directly).
#[derive(Clone)]
pub struct UserRecord {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub image_url: String,
    pub password_hash: Option<String>,
    pub email_id: Option<String>,
    pub email: Option<String>,
    pub public_metadata: Metadata,
    pub private_metadata: Metadata,
    pub unsafe_metadata: Metadata,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord").field("id", &self.id).finish_non_exhaustive()
    }
}

impl UserRecord {
    pub(super) fn from_row(row: &SqliteRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: row.try_get("id")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            image_url: row.try_get("image_url")?,
            password_hash: row.try_get("password_hash")?,
            email_id: row.try_get("primary_email_address_id")?,
            email: row.try_get("email_address")?,
            public_metadata: parse_metadata(row, "public_metadata")?,
            private_metadata: parse_metadata(row, "private_metadata")?,
            unsafe_metadata: parse_metadata(row, "unsafe_metadata")?,
            last_sign_in_at: row.try_get("last_sign_in_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The user as the browser sees it: no `private_metadata`.
    pub fn to_frontend(&self) -> User {
        let email_addresses = match (&self.email_id, &self.email) {
            (Some(id), Some(email)) => vec![EmailAddress {
                object: "email_address".into(),
                id: id.clone(),
                email_address: email.clone(),
            }],
            _ => Vec::new(),
        };
        User {
            object: "user".into(),
            id: self.id.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            image_url: self.image_url.clone(),
            primary_email_address_id: email_addresses.first().map(|e| e.id.clone()),
            email_addresses,
            public_metadata: self.public_metadata.clone(),
            unsafe_metadata: self.unsafe_metadata.clone(),
            private_metadata: None,
            password_enabled: self.password_hash.is_some(),
            last_sign_in_at: self.last_sign_in_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The user as the Backend API sees it: with `private_metadata`.
    pub fn to_backend(&self) -> User {
        User { private_metadata: Some(self.private_metadata.clone()), ..self.to_frontend() }
    }
}

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub status: SessionStatus,
    pub last_active_at: i64,
    pub expire_at: i64,
    pub abandon_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SessionRecord {
    pub(super) fn from_row(row: &SqliteRow) -> Result<Self, StoreError> {
        let status: String = row.try_get("status")?;
        Ok(SessionRecord {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            status: SessionStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
            last_active_at: row.try_get("last_active_at")?,
            expire_at: row.try_get("expire_at")?,
            abandon_at: row.try_get("abandon_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// Past the idle timeout or the absolute lifetime.
    pub fn is_past_deadline(&self, now: i64) -> bool {
        now >= self.expire_at || now >= self.abandon_at
    }

    pub fn to_wire(&self) -> Session {
        Session {
            object: "session".into(),
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            status: self.status,
            expire_at: self.expire_at,
            abandon_at: self.abandon_at,
            last_active_at: self.last_active_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A user to create at sign-up.
pub struct NewUser {
    pub id: String,
    pub email_id: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsafe_metadata: Metadata,
    pub now: i64,
}

/// A session to create at sign-up or sign-in.
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub now: i64,
    pub expire_at: i64,
    pub abandon_at: i64,
}

/// A JWT template as stored (with its custom signing key: never serialise this directly).
#[derive(Clone, Debug)]
pub struct JwtTemplateRecord {
    pub id: String,
    pub name: String,
    pub claims: Metadata,
    /// Seconds.
    pub lifetime: u32,
    /// Seconds.
    pub allowed_clock_skew: u32,
    pub signing_algorithm: JwtAlgorithm,
    /// `None`: the instance's own key signs (and the algorithm is RS256).
    pub signing_key: Option<TemplateKey>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JwtTemplateRecord {
    pub(super) fn from_row(row: &SqliteRow) -> Result<Self, StoreError> {
        let seconds = |col: &str| -> Result<u32, StoreError> {
            let v: i64 = row.try_get(col)?;
            u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("jwt_templates.{col} {v}")))
        };
        let alg: String = row.try_get("signing_algorithm")?;
        let key: Option<String> = row.try_get("signing_key")?;
        Ok(JwtTemplateRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            claims: parse_metadata(row, "claims")?,
            lifetime: seconds("lifetime")?,
            allowed_clock_skew: seconds("allowed_clock_skew")?,
            signing_algorithm: JwtAlgorithm::parse(&alg)
                .ok_or_else(|| StoreError::Corrupt(format!("jwt_templates.signing_algorithm {alg}")))?,
            signing_key: key.map(TemplateKey::new),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

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

//! Roles and permissions in the store: the two default roles and the four system permissions are
//! seeded by the migration; custom ones are created, changed and deleted through the Backend API.
//!
//! Rules kept here, under one write transaction each: a role in use (by a member or a pending
//! invitation) cannot be deleted; system permissions never change; the instance's creator role
//! keeps `org:sys_memberships:manage` (otherwise a new organization would start without an admin);
//! and a role loses `org:sys_memberships:manage` only where every organization keeps an admin with
//! another role. A role's row is its lock (`FOR UPDATE` here, `FOR SHARE` by the membership writes
//! that count admins).
//! The role and permission counts are bounded ([`MAX_ROLES`], [`MAX_PERMISSIONS`]): every role's
//! permissions travel in session tokens.

use std::collections::HashMap;

use hallpass_protocol::{Permission, PermissionType, Role};

use super::dialect::{Sql, locked};
use super::organizations::MANAGE_MEMBERSHIPS_PERMISSION_ID;
use super::{Store, StoreError, WriteTx};

/// Most roles an instance holds (the default ones included).
pub const MAX_ROLES: i64 = 50;
/// Most custom permissions an instance holds (the system ones not counted).
pub const MAX_PERMISSIONS: i64 = 100;

/// A permission as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PermissionRecord {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub permission_type: PermissionType,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PermissionRecord {
    pub fn to_wire(&self) -> Permission {
        Permission {
            object: "permission".into(),
            id: self.id.clone(),
            key: self.key.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            kind: self.permission_type,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A role as stored, with its permissions.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleRecord {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(skip)]
    pub permissions: Vec<PermissionRecord>,
}

impl RoleRecord {
    pub fn to_wire(&self) -> Role {
        Role {
            object: "role".into(),
            id: self.id.clone(),
            key: self.key.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            permissions: self.permissions.iter().map(PermissionRecord::to_wire).collect(),
            is_creator_eligible: self.permissions.iter().any(|p| p.id == MANAGE_MEMBERSHIPS_PERMISSION_ID),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Whether the role grants `org:sys_memberships:manage`.
    pub fn manages_memberships(&self) -> bool {
        self.permissions.iter().any(|p| p.id == MANAGE_MEMBERSHIPS_PERMISSION_ID)
    }
}

/// Why a role or permission write was refused.
#[derive(Debug, thiserror::Error)]
pub enum RoleWriteError {
    #[error("not found")]
    NotFound,
    #[error("the key is taken")]
    KeyTaken,
    #[error("no permission `{0}`")]
    UnknownPermission(String),
    #[error("the role is in use: {0}")]
    InUse(&'static str),
    #[error("the creator role must keep org:sys_memberships:manage")]
    CreatorRoleNeedsManage,
    #[error("an organization would be left without a member holding org:sys_memberships:manage")]
    LeavesNoAdmin,
    #[error("system permissions cannot change")]
    SystemPermission,
    #[error("the instance holds {0} of them, the most allowed")]
    Quota(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RoleWriteError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => RoleWriteError::KeyTaken,
            _ => RoleWriteError::Store(e.into()),
        }
    }
}

/// The roles the instance's settings name: neither may be deleted, and the creator role must keep
/// `org:sys_memberships:manage`.
#[derive(Clone, Copy, Debug)]
pub struct ProtectedRoles<'a> {
    pub creator: &'a str,
    pub default: &'a str,
}

/// A role to create.
pub struct NewRole {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// Permission keys.
    pub permissions: Vec<String>,
    pub now: i64,
}

/// A role's changes (absent: unchanged).
#[derive(Default)]
pub struct RoleChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    /// Permission keys, replacing the set.
    pub permissions: Option<Vec<String>>,
}

macro_rules! permission_columns {
    () => {
        "p.id, p.key, p.name, p.description, p.permission_type, p.created_at, p.updated_at"
    };
}

impl Store {
    /// Every role id with its permission keys (sorted): what memberships show and tokens carry.
    pub async fn role_permission_keys(&self) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT rp.role_id, p.key FROM organization_role_permissions rp \
             JOIN organization_permissions p ON p.id = rp.permission_id ORDER BY rp.role_id, p.key",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (role, key) in rows {
            map.entry(role).or_default().push(key);
        }
        Ok(map)
    }

    /// The role with this key, with its permissions.
    pub async fn role_by_key(&self, key: &str) -> Result<Option<RoleRecord>, StoreError> {
        let role: Option<RoleRecord> = sqlx::query_as(
            "SELECT id, key, name, description, created_at, updated_at FROM organization_roles WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        self.with_permissions(role).await
    }

    /// The role with this id, with its permissions.
    pub async fn role(&self, id: &str) -> Result<Option<RoleRecord>, StoreError> {
        let role: Option<RoleRecord> = sqlx::query_as(
            "SELECT id, key, name, description, created_at, updated_at FROM organization_roles WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        self.with_permissions(role).await
    }

    /// A page of roles by key, with their permissions; `query` (a `%…%` pattern) matches key or name.
    pub async fn list_roles(
        &self,
        query: Option<&str>,
        (limit, offset): (i64, i64),
    ) -> Result<(Vec<RoleRecord>, i64), StoreError> {
        let mut roles: Vec<RoleRecord> = sqlx::query_as(
            "SELECT id, key, name, description, created_at, updated_at FROM organization_roles \
             WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(key) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\') \
             ORDER BY key LIMIT $2 OFFSET $3",
        )
        .bind(query)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_roles \
             WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(key) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\')",
        )
        .bind(query)
        .fetch_one(&self.pool)
        .await?;
        let mut by_role: HashMap<String, Vec<PermissionRecord>> = HashMap::new();
        #[derive(sqlx::FromRow)]
        struct Row {
            role_id: String,
            #[sqlx(flatten)]
            permission: PermissionRecord,
        }
        let rows: Vec<Row> = sqlx::query_as(concat!(
            "SELECT rp.role_id, ",
            permission_columns!(),
            " FROM organization_role_permissions rp JOIN organization_permissions p ON p.id = rp.permission_id \
             ORDER BY p.key"
        ))
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            by_role.entry(row.role_id).or_default().push(row.permission);
        }
        for role in &mut roles {
            role.permissions = by_role.remove(&role.id).unwrap_or_default();
        }
        Ok((roles, total))
    }

    /// Creates a role with the permissions named by key.
    pub async fn create_role(&self, role: &NewRole) -> Result<RoleRecord, RoleWriteError> {
        let mut tx = self.write_tx().await?;
        // Serialises role creations on PostgreSQL, so two at once cannot both pass the count.
        lock_instance_row(&mut tx).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organization_roles").fetch_one(tx.conn()).await?;
        if count >= MAX_ROLES {
            return Err(RoleWriteError::Quota(MAX_ROLES));
        }
        sqlx::query(
            "INSERT INTO organization_roles (id, key, name, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&role.id)
        .bind(&role.key)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.now)
        .execute(tx.conn())
        .await?;
        set_permissions(&mut tx, &role.id, &role.permissions).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.role(&role.id).await?.ok_or(RoleWriteError::NotFound)
    }

    /// Changes a role's name, description or permission set. The creator role must keep
    /// `org:sys_memberships:manage`.
    pub async fn update_role(
        &self,
        id: &str,
        change: RoleChange,
        protected: ProtectedRoles<'_>,
        now: i64,
    ) -> Result<RoleRecord, RoleWriteError> {
        const LOCK: Sql = locked!("SELECT key FROM organization_roles WHERE id = $1");
        let mut tx = self.write_tx().await?;
        let key: Option<String> =
            sqlx::query_scalar(LOCK.get(tx.engine())).bind(id).fetch_optional(tx.conn()).await?;
        let key = key.ok_or(RoleWriteError::NotFound)?;
        if let Some(name) = &change.name {
            sqlx::query("UPDATE organization_roles SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        if let Some(description) = &change.description {
            sqlx::query("UPDATE organization_roles SET description = $1 WHERE id = $2")
                .bind(description)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        if let Some(permissions) = &change.permissions {
            let managed = role_manages(&mut tx, id).await?;
            sqlx::query("DELETE FROM organization_role_permissions WHERE role_id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
            set_permissions(&mut tx, id, permissions).await?;
            let manages = role_manages(&mut tx, id).await?;
            if key == protected.creator && !manages {
                return Err(RoleWriteError::CreatorRoleNeedsManage);
            }
            if managed && !manages && orphans_an_organization(&mut tx, id).await? {
                return Err(RoleWriteError::LeavesNoAdmin);
            }
        }
        sqlx::query("UPDATE organization_roles SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.role(id).await?.ok_or(RoleWriteError::NotFound)
    }

    /// Adds (`grant`) or removes one permission of a role, with the rule of [`Store::update_role`].
    pub async fn set_role_permission(
        &self,
        role_id: &str,
        permission_id: &str,
        grant: bool,
        protected: ProtectedRoles<'_>,
        now: i64,
    ) -> Result<RoleRecord, RoleWriteError> {
        let role = self.role(role_id).await?.ok_or(RoleWriteError::NotFound)?;
        let permission = self.permission(permission_id).await?.ok_or(RoleWriteError::NotFound)?;
        let mut keys: Vec<String> = role.permissions.iter().map(|p| p.key.clone()).collect();
        keys.retain(|k| *k != permission.key);
        if grant {
            keys.push(permission.key);
        }
        self.update_role(
            role_id,
            RoleChange { permissions: Some(keys), ..Default::default() },
            protected,
            now,
        )
        .await
    }

    /// Deletes a role nobody uses: not a member, not a pending invitation, not the instance's creator or
    /// default role. Its closed invitations go with it. `NotFound` if there is none.
    pub async fn delete_role(&self, id: &str, protected: ProtectedRoles<'_>) -> Result<(), RoleWriteError> {
        const LOCK: Sql = locked!("SELECT key FROM organization_roles WHERE id = $1");
        let mut tx = self.write_tx().await?;
        let key: Option<String> =
            sqlx::query_scalar(LOCK.get(tx.engine())).bind(id).fetch_optional(tx.conn()).await?;
        let key = key.ok_or(RoleWriteError::NotFound)?;
        if key == protected.creator {
            return Err(RoleWriteError::InUse("it is the instance's creator role"));
        }
        if key == protected.default {
            return Err(RoleWriteError::InUse("it is the instance's default role"));
        }
        let members: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM organization_memberships WHERE role_id = $1 LIMIT 1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        if members.is_some() {
            return Err(RoleWriteError::InUse("members have it"));
        }
        let pending: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM organization_invitations WHERE role_id = $1 AND status = 'pending' LIMIT 1",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        if pending.is_some() {
            return Err(RoleWriteError::InUse("pending invitations have it"));
        }
        let deleted =
            sqlx::query("DELETE FROM organization_roles WHERE id = $1").bind(id).execute(tx.conn()).await;
        match deleted {
            // A member who joined after the check above (on PostgreSQL, nothing locks the role
            // against a join): the foreign key refuses the delete.
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                return Err(RoleWriteError::InUse("members have it"));
            }
            other => {
                other?;
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn permission(&self, id: &str) -> Result<Option<PermissionRecord>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            permission_columns!(),
            " FROM organization_permissions p WHERE p.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A page of permissions by key; `query` (a `%…%` pattern) matches key or name.
    pub async fn list_permissions(
        &self,
        query: Option<&str>,
        (limit, offset): (i64, i64),
    ) -> Result<(Vec<PermissionRecord>, i64), StoreError> {
        let rows = sqlx::query_as(concat!(
            "SELECT ",
            permission_columns!(),
            " FROM organization_permissions p WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(p.key) LIKE $1 ESCAPE '\\' \
             OR LOWER(p.name) LIKE $1 ESCAPE '\\') ORDER BY p.key LIMIT $2 OFFSET $3"
        ))
        .bind(query)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_permissions p WHERE (CAST($1 AS TEXT) IS NULL \
             OR LOWER(p.key) LIKE $1 ESCAPE '\\' OR LOWER(p.name) LIKE $1 ESCAPE '\\')",
        )
        .bind(query)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, total))
    }

    /// Creates a custom permission (`key` already validated, never `org:sys_…`).
    pub async fn create_permission(&self, p: &PermissionRecord) -> Result<PermissionRecord, RoleWriteError> {
        let mut tx = self.write_tx().await?;
        lock_instance_row(&mut tx).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_permissions WHERE permission_type = 'user'",
        )
        .fetch_one(tx.conn())
        .await?;
        if count >= MAX_PERMISSIONS {
            return Err(RoleWriteError::Quota(MAX_PERMISSIONS));
        }
        sqlx::query(
            "INSERT INTO organization_permissions (id, key, name, description, permission_type, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'user', $5, $5)",
        )
        .bind(&p.id)
        .bind(&p.key)
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.created_at)
        .execute(tx.conn())
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.permission(&p.id).await?.ok_or(RoleWriteError::NotFound)
    }

    /// Renames or re-describes a custom permission (`SystemPermission` for a system one).
    pub async fn update_permission(
        &self,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        now: i64,
    ) -> Result<PermissionRecord, RoleWriteError> {
        let current = self.permission(id).await?.ok_or(RoleWriteError::NotFound)?;
        if current.permission_type == PermissionType::System {
            return Err(RoleWriteError::SystemPermission);
        }
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE organization_permissions SET name = COALESCE($1, name), description = COALESCE($2, description), \
             updated_at = $3 WHERE id = $4 AND permission_type = 'user'",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.permission(id).await?.ok_or(RoleWriteError::NotFound)
    }

    /// Deletes a custom permission; the roles that had it lose it.
    pub async fn delete_permission(&self, id: &str) -> Result<(), RoleWriteError> {
        let current = self.permission(id).await?.ok_or(RoleWriteError::NotFound)?;
        if current.permission_type == PermissionType::System {
            return Err(RoleWriteError::SystemPermission);
        }
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM organization_permissions WHERE id = $1 AND permission_type = 'user'")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn with_permissions(&self, role: Option<RoleRecord>) -> Result<Option<RoleRecord>, StoreError> {
        let Some(mut role) = role else { return Ok(None) };
        role.permissions = sqlx::query_as(concat!(
            "SELECT ",
            permission_columns!(),
            " FROM organization_role_permissions rp JOIN organization_permissions p ON p.id = rp.permission_id \
             WHERE rp.role_id = $1 ORDER BY p.key"
        ))
        .bind(&role.id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(role))
    }
}

/// Gives the role the permissions named by key (it has none of them yet).
async fn set_permissions(tx: &mut WriteTx, role_id: &str, keys: &[String]) -> Result<(), RoleWriteError> {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM organization_permissions WHERE key = $1")
            .bind(key)
            .fetch_optional(tx.conn())
            .await?;
        let id = id.ok_or_else(|| RoleWriteError::UnknownPermission(key.clone()))?;
        sqlx::query("INSERT INTO organization_role_permissions (role_id, permission_id) VALUES ($1, $2)")
            .bind(role_id)
            .bind(&id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Whether some organization has members with the role `role_id` but no member with another role
/// granting `org:sys_memberships:manage`: taking that permission from the role would leave it without
/// an admin. Inside `tx`, with the role locked `FOR UPDATE`: a membership write that counts admins
/// share-locks its members' roles first (`organizations::lock_member_roles`), so none is half-way.
async fn orphans_an_organization(tx: &mut WriteTx, role_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM organization_memberships m WHERE m.role_id = $1 AND NOT EXISTS ( \
         SELECT 1 FROM organization_memberships m2 JOIN organization_role_permissions rp ON rp.role_id = m2.role_id \
         WHERE m2.organization_id = m.organization_id AND m2.role_id <> $1 AND rp.permission_id = $2) LIMIT 1",
    )
    .bind(role_id)
    .bind(MANAGE_MEMBERSHIPS_PERMISSION_ID)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

async fn role_manages(tx: &mut WriteTx, role_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM organization_role_permissions WHERE role_id = $1 AND permission_id = $2",
    )
    .bind(role_id)
    .bind(MANAGE_MEMBERSHIPS_PERMISSION_ID)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// Serialises creations of roles and permissions on PostgreSQL (so a count and the insert after it
/// are exact): the seeded `org:admin` role's row is the lock. SQLite's writer already does.
async fn lock_instance_row(tx: &mut WriteTx) -> Result<(), StoreError> {
    const LOCK: Sql =
        locked!("SELECT id FROM organization_permissions WHERE id = 'perm_sys_memberships_manage'");
    sqlx::query(LOCK.get(tx.engine())).execute(tx.conn()).await?;
    Ok(())
}

//! Organization memberships in the store: joining (the Backend API, or accepting an invitation — see
//! [`super::invitations`]), role changes, removal (which clears the organization as the active one of
//! the removed member's sessions), metadata, and the lists: an organization's members (searchable)
//! and a user's organizations.
//!
//! The invariants, each checked under the organization's lock (see [`super::organizations`]):
//! `max_allowed_memberships` holds, and an organization keeps at least one member holding
//! `org:sys_memberships:manage` — so two admins demoting each other at the same instant leave one.
//!
//! Events ([`super::outbox`]): `organizationMembership.created` / `.updated` / `.deleted`, each with
//! the membership as the Backend API shows it, on the transaction of its change.

use hallpass_protocol::{EventType, Metadata, OrganizationMembership, PublicUserData};

use super::columns::json;
use super::dialect::{Sql, locked};
use super::organizations::{
    self, MANAGE_MEMBERSHIPS_PERMISSION_ID, OrgWriteError, OrganizationRecord, organization_columns,
};
use super::{Store, StoreError, WriteTx};

/// A membership as stored, with its organization, its member's public data and its role (with
/// private metadata: never serialise this directly).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MembershipRecord {
    #[sqlx(flatten)]
    pub organization: OrganizationRecord,
    pub membership_id: String,
    pub user_id: String,
    pub role_id: String,
    pub role_key: String,
    pub role_name: String,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub membership_public_metadata: Metadata,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub membership_private_metadata: Metadata,
    pub membership_created_at: i64,
    pub membership_updated_at: i64,
    pub user_identifier: Option<String>,
    pub user_first_name: Option<String>,
    pub user_last_name: Option<String>,
    pub user_image_url: String,
    /// The role's permission keys, sorted.
    #[sqlx(skip)]
    pub permissions: Vec<String>,
}

impl MembershipRecord {
    /// As members see it: no private metadata (of the membership or the organization).
    pub fn to_frontend(&self) -> OrganizationMembership {
        OrganizationMembership {
            object: "organization_membership".into(),
            id: self.membership_id.clone(),
            organization: self.organization.to_frontend(),
            public_user_data: PublicUserData {
                user_id: self.user_id.clone(),
                identifier: self.user_identifier.clone().unwrap_or_default(),
                first_name: self.user_first_name.clone(),
                last_name: self.user_last_name.clone(),
                image_url: self.user_image_url.clone(),
                has_image: !self.user_image_url.is_empty(),
            },
            role: self.role_key.clone(),
            role_name: self.role_name.clone(),
            permissions: self.permissions.clone(),
            public_metadata: self.membership_public_metadata.clone(),
            private_metadata: None,
            created_at: self.membership_created_at,
            updated_at: self.membership_updated_at,
        }
    }

    /// As the Backend API sees it: with both private metadata objects.
    pub fn to_backend(&self) -> OrganizationMembership {
        OrganizationMembership {
            organization: self.organization.to_backend(),
            private_metadata: Some(self.membership_private_metadata.clone()),
            ..self.to_frontend()
        }
    }
}

/// `SELECT <membership with its organization, role and user> …` then `$rest`; `$1` is "now".
macro_rules! select_membership {
    ($($rest:tt)*) => {
        concat!(
            "SELECT ",
            organization_columns!(),
            ", m.id AS membership_id, m.user_id, m.role_id, r.key AS role_key, r.name AS role_name, \
             m.public_metadata AS membership_public_metadata, m.private_metadata AS membership_private_metadata, \
             m.created_at AS membership_created_at, m.updated_at AS membership_updated_at, \
             e.email_address AS user_identifier, u.first_name AS user_first_name, u.last_name AS user_last_name, \
             u.image_url AS user_image_url \
             FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
             JOIN organization_roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id \
             LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id ",
            $($rest)*
        )
    };
}

/// The filter of an organization's member list: `$2` the organization, `$3` a search pattern or
/// NULL, `$4` a role key or NULL (the count in [`Store::organization_members`] spells it with `$1`…).
macro_rules! members_filter {
    () => {
        "WHERE m.organization_id = $2 \
         AND (CAST($3 AS TEXT) IS NULL OR LOWER(e.email_address) LIKE $3 ESCAPE '\\' \
              OR LOWER(u.first_name) LIKE $3 ESCAPE '\\' OR LOWER(u.last_name) LIKE $3 ESCAPE '\\') \
         AND (CAST($4 AS TEXT) IS NULL OR r.key = $4) "
    };
}

impl Store {
    /// The membership of `user_id` in `organization_id`.
    pub async fn membership(
        &self,
        organization_id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<Option<MembershipRecord>, StoreError> {
        let row: Option<MembershipRecord> =
            sqlx::query_as(select_membership!("WHERE m.organization_id = $2 AND m.user_id = $3"))
                .bind(now)
                .bind(organization_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        let mut rows: Vec<MembershipRecord> = row.into_iter().collect();
        self.attach_permissions(&mut rows).await?;
        Ok(rows.pop())
    }

    /// A page of an organization's members, oldest first, and the total; `query` (a `%…%` pattern,
    /// lower-case, escaped) matches the email address, first or last name; `role` a role key.
    pub async fn organization_members(
        &self,
        organization_id: &str,
        query: Option<&str>,
        role: Option<&str>,
        (limit, offset): (i64, i64),
        now: i64,
    ) -> Result<(Vec<MembershipRecord>, i64), StoreError> {
        let mut rows: Vec<MembershipRecord> = sqlx::query_as(select_membership!(
            members_filter!(),
            "ORDER BY m.created_at, m.id LIMIT $5 OFFSET $6"
        ))
        .bind(now)
        .bind(organization_id)
        .bind(query)
        .bind(role)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_memberships m JOIN organization_roles r ON r.id = m.role_id \
             JOIN users u ON u.id = m.user_id LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id \
             WHERE m.organization_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR LOWER(e.email_address) LIKE $2 ESCAPE '\\' \
                  OR LOWER(u.first_name) LIKE $2 ESCAPE '\\' OR LOWER(u.last_name) LIKE $2 ESCAPE '\\') \
             AND (CAST($3 AS TEXT) IS NULL OR r.key = $3)",
        )
        .bind(organization_id)
        .bind(query)
        .bind(role)
        .fetch_one(&self.pool)
        .await?;
        self.attach_permissions(&mut rows).await?;
        Ok((rows, total))
    }

    /// A page of a user's memberships, oldest first, each with its organization, and the total.
    pub async fn user_memberships(
        &self,
        user_id: &str,
        (limit, offset): (i64, i64),
        now: i64,
    ) -> Result<(Vec<MembershipRecord>, i64), StoreError> {
        let mut rows: Vec<MembershipRecord> = sqlx::query_as(select_membership!(
            "WHERE m.user_id = $2 ORDER BY m.created_at, m.id LIMIT $3 OFFSET $4"
        ))
        .bind(now)
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organization_memberships WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        self.attach_permissions(&mut rows).await?;
        Ok((rows, total))
    }

    /// Makes `user_id` a member with the role `role_id` (the Backend API). Refused when they are a
    /// member already or the organization is full.
    pub async fn add_membership(
        &self,
        membership_id: &str,
        organization_id: &str,
        user_id: &str,
        role_id: &str,
        now: i64,
    ) -> Result<MembershipRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        let max = organizations::lock(&mut tx, organization_id)
            .await?
            .ok_or(OrgWriteError::OrganizationNotFound)?;
        let user: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
        if user.is_none() {
            return Err(OrgWriteError::UserNotFound);
        }
        join(&mut tx, membership_id, organization_id, user_id, role_id, max, now).await?;
        let created = self.membership_in(&mut tx, organization_id, user_id, now).await?;
        tx.emit(EventType::OrganizationMembershipCreated, &created.to_backend(), now)?;
        tx.commit().await?;
        Ok(created)
    }

    /// Gives a member another role. Refused (`LastAdmin`) when they are the organization's last member
    /// holding `org:sys_memberships:manage` and the new role lacks it.
    pub async fn change_member_role(
        &self,
        organization_id: &str,
        user_id: &str,
        role_id: &str,
        now: i64,
    ) -> Result<MembershipRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        organizations::lock(&mut tx, organization_id).await?.ok_or(OrgWriteError::OrganizationNotFound)?;
        organizations::lock_member_roles(&mut tx, organization_id, Some(role_id)).await?;
        let current =
            role_of(&mut tx, organization_id, user_id).await?.ok_or(OrgWriteError::MembershipNotFound)?;
        if manages(&mut tx, &current).await? && !manages(&mut tx, role_id).await? {
            ensure_another_admin(&mut tx, organization_id).await?;
        }
        sqlx::query(
            "UPDATE organization_memberships SET role_id = $1, updated_at = $2 WHERE organization_id = $3 AND user_id = $4",
        )
        .bind(role_id)
        .bind(now)
        .bind(organization_id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
        let changed = self.membership_in(&mut tx, organization_id, user_id, now).await?;
        tx.emit(EventType::OrganizationMembershipUpdated, &changed.to_backend(), now)?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Removes a member (or a member leaves) and clears the organization as the active one of their
    /// sessions, in one transaction. Refused (`LastAdmin`) for the organization's last member holding
    /// `org:sys_memberships:manage`. Answers the membership as it was.
    pub async fn remove_member(
        &self,
        organization_id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<MembershipRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        organizations::lock(&mut tx, organization_id).await?.ok_or(OrgWriteError::OrganizationNotFound)?;
        organizations::lock_member_roles(&mut tx, organization_id, None).await?;
        let current =
            role_of(&mut tx, organization_id, user_id).await?.ok_or(OrgWriteError::MembershipNotFound)?;
        if manages(&mut tx, &current).await? {
            ensure_another_admin(&mut tx, organization_id).await?;
        }
        // Read for the answer (and the event) under the lock, before it goes.
        let mut gone = self.membership_in(&mut tx, organization_id, user_id, now).await?;
        gone.organization.members_count -= 1;
        sqlx::query("DELETE FROM organization_memberships WHERE organization_id = $1 AND user_id = $2")
            .bind(organization_id)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "UPDATE sessions SET active_organization_id = NULL, updated_at = $1 \
             WHERE user_id = $2 AND active_organization_id = $3",
        )
        .bind(now)
        .bind(user_id)
        .bind(organization_id)
        .execute(tx.conn())
        .await?;
        tx.emit(EventType::OrganizationMembershipDeleted, &gone.to_backend(), now)?;
        tx.commit().await?;
        Ok(gone)
    }

    /// Read-modify-write of a membership's metadata, the organization locked meanwhile: `edit` changes
    /// the two objects or refuses with `Err`.
    pub async fn update_membership_metadata<E>(
        &self,
        organization_id: &str,
        user_id: &str,
        now: i64,
        edit: impl FnOnce(&mut Metadata, &mut Metadata) -> Result<(), E>,
    ) -> Result<Result<MembershipRecord, E>, OrgWriteError> {
        const READ: Sql = locked!(
            "SELECT public_metadata, private_metadata FROM organization_memberships \
             WHERE organization_id = $1 AND user_id = $2"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(try_from = "super::columns::JsonText")]
            public_metadata: Metadata,
            #[sqlx(try_from = "super::columns::JsonText")]
            private_metadata: Metadata,
        }
        let mut tx = self.write_tx().await?;
        let sql = READ.get(tx.engine());
        let Some(mut row): Option<Row> =
            sqlx::query_as(sql).bind(organization_id).bind(user_id).fetch_optional(tx.conn()).await?
        else {
            return Err(OrgWriteError::MembershipNotFound);
        };
        if let Err(e) = edit(&mut row.public_metadata, &mut row.private_metadata) {
            return Ok(Err(e));
        }
        sqlx::query(
            "UPDATE organization_memberships SET public_metadata = $1, private_metadata = $2, updated_at = $3 \
             WHERE organization_id = $4 AND user_id = $5",
        )
        .bind(json(&row.public_metadata))
        .bind(json(&row.private_metadata))
        .bind(now)
        .bind(organization_id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
        let changed = self.membership_in(&mut tx, organization_id, user_id, now).await?;
        tx.emit(EventType::OrganizationMembershipUpdated, &changed.to_backend(), now)?;
        tx.commit().await?;
        Ok(Ok(changed))
    }

    /// The membership as `tx` sees it, with its role's permissions (`MembershipNotFound` if none).
    pub(super) async fn membership_in(
        &self,
        tx: &mut WriteTx,
        organization_id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<MembershipRecord, OrgWriteError> {
        let row: Option<MembershipRecord> =
            sqlx::query_as(select_membership!("WHERE m.organization_id = $2 AND m.user_id = $3"))
                .bind(now)
                .bind(organization_id)
                .bind(user_id)
                .fetch_optional(tx.conn())
                .await?;
        let mut rows: Vec<MembershipRecord> = row.into_iter().collect();
        self.attach_permissions(&mut rows).await?;
        rows.pop().ok_or(OrgWriteError::MembershipNotFound)
    }

    /// Every membership of `user_id` as `tx` sees it, with permissions (a user about to be deleted).
    pub(super) async fn memberships_of_user_in(
        &self,
        tx: &mut WriteTx,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<MembershipRecord>, StoreError> {
        let mut rows: Vec<MembershipRecord> =
            sqlx::query_as(select_membership!("WHERE m.user_id = $2 ORDER BY m.created_at, m.id"))
                .bind(now)
                .bind(user_id)
                .fetch_all(tx.conn())
                .await?;
        self.attach_permissions(&mut rows).await?;
        Ok(rows)
    }

    /// Fills each record's `permissions` from its role (read on the pool: roles are never changed by
    /// a membership's transaction).
    async fn attach_permissions(&self, rows: &mut [MembershipRecord]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let map = self.role_permission_keys().await?;
        for row in rows {
            row.permissions = map.get(&row.role_id).cloned().unwrap_or_default();
        }
        Ok(())
    }
}

/// Inserts a membership (inside `tx`, whose caller checked what needs checking).
pub(super) async fn insert(
    tx: &mut WriteTx,
    id: &str,
    organization_id: &str,
    user_id: &str,
    role_id: &str,
    now: i64,
) -> Result<(), OrgWriteError> {
    let res = sqlx::query(
        "INSERT INTO organization_memberships (id, organization_id, user_id, role_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id)
    .bind(organization_id)
    .bind(user_id)
    .bind(role_id)
    .bind(now)
    .execute(tx.conn())
    .await;
    match res {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(OrgWriteError::AlreadyMember),
        Err(e) => Err(e.into()),
    }
}

/// Joins a user to an organization locked by the caller (whose `max_allowed_memberships` is `max`):
/// refused when they are a member already or it is full.
pub(super) async fn join(
    tx: &mut WriteTx,
    membership_id: &str,
    organization_id: &str,
    user_id: &str,
    role_id: &str,
    max: i64,
    now: i64,
) -> Result<(), OrgWriteError> {
    if role_of(tx, organization_id, user_id).await?.is_some() {
        return Err(OrgWriteError::AlreadyMember);
    }
    if max > 0 {
        let members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organization_memberships WHERE organization_id = $1")
                .bind(organization_id)
                .fetch_one(tx.conn())
                .await?;
        if members >= max {
            return Err(OrgWriteError::MembershipQuota { max });
        }
    }
    insert(tx, membership_id, organization_id, user_id, role_id, now).await
}

/// The role id of a member, if they are one.
pub(super) async fn role_of(
    tx: &mut WriteTx,
    organization_id: &str,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT role_id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Whether the role grants `org:sys_memberships:manage`.
async fn manages(tx: &mut WriteTx, role_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM organization_role_permissions WHERE role_id = $1 AND permission_id = $2",
    )
    .bind(role_id)
    .bind(MANAGE_MEMBERSHIPS_PERMISSION_ID)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// `LastAdmin` unless another member than the one about to lose it holds `org:sys_memberships:manage`.
async fn ensure_another_admin(tx: &mut WriteTx, organization_id: &str) -> Result<(), OrgWriteError> {
    if organizations::admin_count(tx, organization_id).await? <= 1 {
        return Err(OrgWriteError::LastAdmin);
    }
    Ok(())
}

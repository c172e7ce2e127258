//! Organizations in the store: create (with the creator's membership), read by id or slug, list,
//! update, delete; what a member may do in one ([`MemberGrant`], read by every organization call and
//! by every refresh of a session with an active organization); and the session's active organization.
//!
//! Concurrency: an organization's row is the lock of everything inside it. Every write that counts
//! or checks its members — joining (the membership limit), changing a role or removing a member (the
//! last admin), inviting, setting it as a session's active organization — takes the row first
//! ([`lock`]: `FOR UPDATE` on PostgreSQL; SQLite's one writer excludes all of them anyway), then reads
//! what it checks. Lock order: the organization, then its memberships and invitations, then
//! sessions; a refresh locks only its session, so it never waits on an organization. Slugs are unique
//! through the database's index, so two creates (or renames) onto one slug cannot both succeed.
//!
//! Events ([`super::outbox`]): `organization.created` (and `organizationMembership.created` for its
//! creator), `organization.updated`, `organization.deleted`, each on the transaction of its change.

use hallpass_protocol::{
    DeletedObject, EventType, Metadata, OrgClaims, Organization, PublicOrganizationData,
};

use super::columns::{flag, json};
use super::dialect::{Sql, locked, share_locked};
use super::sessions::{SessionRecord, session_columns};
use super::{Store, StoreError, WriteTx};

/// The columns of an [`OrganizationRecord`] from `organizations o`; `$1` must be "now" (a pending
/// invitation counts until it expires).
macro_rules! organization_columns {
    () => {
        "o.id, o.name, o.slug, o.image_url, o.max_allowed_memberships, o.admin_delete_enabled, \
         o.public_metadata, o.private_metadata, o.created_by, o.created_at, o.updated_at, \
         (SELECT COUNT(*) FROM organization_memberships mc WHERE mc.organization_id = o.id) AS members_count, \
         (SELECT COUNT(*) FROM organization_invitations ic WHERE ic.organization_id = o.id \
          AND ic.status = 'pending' AND ic.expires_at > $1) AS pending_invitations_count"
    };
}
pub(crate) use organization_columns;

macro_rules! select_organization {
    ($rest:literal) => {
        concat!("SELECT ", organization_columns!(), " FROM organizations o ", $rest)
    };
}

/// A page of [`Store::list_organizations`] in the given order: `$1` now, `$2` the query pattern or
/// NULL, `$3` limit, `$4` offset, `$5` the query as an id.
macro_rules! list_organizations {
    ($order:literal) => {
        concat!(
            "SELECT ",
            organization_columns!(),
            " FROM organizations o WHERE (CAST($2 AS TEXT) IS NULL OR LOWER(o.name) LIKE $2 ESCAPE '\\' ",
            "OR o.slug LIKE $2 ESCAPE '\\' OR o.id = $5) ORDER BY ",
            $order,
            " LIMIT $3 OFFSET $4"
        )
    };
}

macro_rules! grant_select {
    () => {
        "SELECT o.id, o.slug, r.key AS role_key, p.key AS permission FROM organizations o \
         JOIN organization_memberships m ON m.organization_id = o.id AND m.user_id = $2 \
         JOIN organization_roles r ON r.id = m.role_id \
         LEFT JOIN organization_role_permissions rp ON rp.role_id = r.id \
         LEFT JOIN organization_permissions p ON p.id = rp.permission_id "
    };
}

/// A member's grant, one row per permission of their role (none: one row with a NULL permission).
const GRANT_BY_ID: &str = concat!(grant_select!(), "WHERE o.id = $1");
const GRANT_BY_REF: &str = concat!(grant_select!(), "WHERE o.id = $1 OR o.slug = $1");

/// The system permission that makes a member an "admin": an organization always keeps one member
/// holding it (its row id, seeded by the migration).
pub const MANAGE_MEMBERSHIPS_PERMISSION_ID: &str = "perm_sys_memberships_manage";

/// An organization as stored, with its member and pending-invitation counts (with private
/// metadata: never serialise this directly).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrganizationRecord {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub image_url: String,
    pub max_allowed_memberships: i64,
    #[sqlx(try_from = "super::columns::Flag")]
    pub admin_delete_enabled: bool,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub public_metadata: Metadata,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub private_metadata: Metadata,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub members_count: i64,
    pub pending_invitations_count: i64,
}

impl OrganizationRecord {
    /// As members see it: no `private_metadata`.
    pub fn to_frontend(&self) -> Organization {
        Organization {
            object: "organization".into(),
            id: self.id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            image_url: self.image_url.clone(),
            has_image: !self.image_url.is_empty(),
            members_count: self.members_count,
            pending_invitations_count: self.pending_invitations_count,
            max_allowed_memberships: self.max_allowed_memberships,
            admin_delete_enabled: self.admin_delete_enabled,
            public_metadata: self.public_metadata.clone(),
            private_metadata: None,
            created_by: self.created_by.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// As the Backend API sees it: with `private_metadata`.
    pub fn to_backend(&self) -> Organization {
        Organization { private_metadata: Some(self.private_metadata.clone()), ..self.to_frontend() }
    }

    pub fn public_data(&self) -> PublicOrganizationData {
        PublicOrganizationData {
            id: self.id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            image_url: self.image_url.clone(),
            has_image: !self.image_url.is_empty(),
        }
    }
}

/// What a member may do in an organization: their role and its permissions. The Frontend API
/// authorises every organization call with it, and session tokens carry it (`o`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberGrant {
    pub organization_id: String,
    pub slug: String,
    /// `org:admin`
    pub role_key: String,
    /// `org:<feature>:<action>`, sorted.
    pub permissions: Vec<String>,
}

impl MemberGrant {
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// The grant as the SDK is sent it beside a session token carrying it.
    pub fn to_claims(&self) -> OrgClaims {
        OrgClaims {
            id: self.organization_id.clone(),
            slg: self.slug.clone(),
            rol: self.role_key.clone(),
            per: self.permissions.clone(),
        }
    }
}

/// An organization to create.
pub struct NewOrganization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub public_metadata: Metadata,
    pub private_metadata: Metadata,
    pub now: i64,
}

/// The member an organization is created with.
pub struct Creator {
    pub membership_id: String,
    pub user_id: String,
    pub role_id: String,
    /// Refuse when the user already belongs to this many organizations (the Frontend API's
    /// `create_organizations_limit`); `None`: no limit (the Backend API).
    pub create_limit: Option<i64>,
}

/// Why a write inside an organization was refused (the handlers turn each into its error code).
#[derive(Debug, thiserror::Error)]
pub enum OrgWriteError {
    #[error("no such organization")]
    OrganizationNotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("no such membership")]
    MembershipNotFound,
    #[error("no such invitation")]
    InvitationNotFound,
    #[error("the slug is taken")]
    SlugTaken,
    #[error("already a member")]
    AlreadyMember,
    #[error("the organization has {max} members, its maximum")]
    MembershipQuota { max: i64 },
    #[error("the user belongs to {limit} organizations, the most they may create")]
    CreateLimit { limit: i64 },
    #[error("the organization would be left without a member holding org:sys_memberships:manage")]
    LastAdmin,
    #[error("the invitation is {0:?}")]
    InvitationNotPending(hallpass_protocol::InvitationStatus),
    #[error("a pending invitation for that address exists")]
    InvitationPending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OrgWriteError {
    fn from(e: sqlx::Error) -> Self {
        OrgWriteError::Store(e.into())
    }
}

/// What the Backend API's list searches for (Clerk's `query`): part of the name or slug, or a whole
/// id.
#[derive(Clone, Copy, Debug)]
pub struct OrganizationSearch<'a> {
    /// `%…%`, lower-case, with `%`, `_` and `\` escaped by `\`.
    pub pattern: &'a str,
    /// The query as typed (trimmed): an id matches only as a whole.
    pub id: &'a str,
}

/// `ORDER BY` of the Backend API's list, one statement each (no SQL is assembled at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationOrder {
    CreatedAt { descending: bool },
    Name { descending: bool },
    MembersCount { descending: bool },
}

impl OrganizationOrder {
    /// `created_at`, `name`, `members_count`, each optionally prefixed with `-` (descending) or `+`.
    pub fn parse(s: &str) -> Option<Self> {
        let (descending, field) = match s.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        Some(match field {
            "created_at" => OrganizationOrder::CreatedAt { descending },
            "name" => OrganizationOrder::Name { descending },
            "members_count" => OrganizationOrder::MembersCount { descending },
            _ => return None,
        })
    }
}

impl Store {
    /// Creates an organization and, with a `creator`, their membership (the role given), at once.
    pub async fn create_organization(
        &self,
        org: &NewOrganization,
        creator: Option<&Creator>,
    ) -> Result<OrganizationRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        if let Some(c) = creator {
            // The user's row is the lock of their memberships' count: two creates at once by one
            // user cannot both slip under the limit.
            const LOCK_USER: Sql = locked!("SELECT id FROM users WHERE id = $1");
            let found: Option<String> = sqlx::query_scalar(LOCK_USER.get(tx.engine()))
                .bind(&c.user_id)
                .fetch_optional(tx.conn())
                .await?;
            if found.is_none() {
                return Err(OrgWriteError::UserNotFound);
            }
            if let Some(limit) = c.create_limit.filter(|l| *l > 0) {
                let count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM organization_memberships WHERE user_id = $1")
                        .bind(&c.user_id)
                        .fetch_one(tx.conn())
                        .await?;
                if count >= limit {
                    return Err(OrgWriteError::CreateLimit { limit });
                }
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO organizations (id, name, slug, max_allowed_memberships, admin_delete_enabled, \
             public_metadata, private_metadata, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.slug)
        .bind(org.max_allowed_memberships)
        .bind(flag(org.admin_delete_enabled))
        .bind(json(&org.public_metadata))
        .bind(json(&org.private_metadata))
        .bind(creator.map(|c| c.user_id.as_str()))
        .bind(org.now)
        .execute(tx.conn())
        .await;
        slug_unique(inserted)?;
        if let Some(c) = creator {
            super::memberships::insert(&mut tx, &c.membership_id, &org.id, &c.user_id, &c.role_id, org.now)
                .await?;
        }
        let created = read(&mut tx, &org.id, org.now)
            .await?
            .ok_or_else(|| StoreError::Corrupt("organization vanished".into()))?;
        tx.emit(EventType::OrganizationCreated, &created.to_backend(), org.now)?;
        if let Some(c) = creator {
            let membership = self.membership_in(&mut tx, &org.id, &c.user_id, org.now).await?;
            tx.emit(EventType::OrganizationMembershipCreated, &membership.to_backend(), org.now)?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// The organization with this id.
    pub async fn organization(&self, id: &str, now: i64) -> Result<Option<OrganizationRecord>, StoreError> {
        Ok(sqlx::query_as(select_organization!("WHERE o.id = $2"))
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The organization with this id or slug (ids start with `org_`; slugs never hold `_`).
    pub async fn organization_by_ref(
        &self,
        id_or_slug: &str,
        now: i64,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        Ok(sqlx::query_as(select_organization!("WHERE o.id = $2 OR o.slug = $2"))
            .bind(now)
            .bind(id_or_slug)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A page of organizations and the total count, those `query` finds (all without one).
    pub async fn list_organizations(
        &self,
        query: Option<OrganizationSearch<'_>>,
        order: OrganizationOrder,
        limit: i64,
        offset: i64,
        now: i64,
    ) -> Result<(Vec<OrganizationRecord>, i64), StoreError> {
        let sql: &'static str = match order {
            OrganizationOrder::CreatedAt { descending: false } => list_organizations!("o.created_at, o.id"),
            OrganizationOrder::CreatedAt { descending: true } => {
                list_organizations!("o.created_at DESC, o.id")
            }
            OrganizationOrder::Name { descending: false } => list_organizations!("o.name, o.id"),
            OrganizationOrder::Name { descending: true } => list_organizations!("o.name DESC, o.id"),
            OrganizationOrder::MembersCount { descending: false } => {
                list_organizations!("members_count, o.id")
            }
            OrganizationOrder::MembersCount { descending: true } => {
                list_organizations!("members_count DESC, o.id")
            }
        };
        let organizations = sqlx::query_as(sql)
            .bind(now)
            .bind(query.map(|q| q.pattern))
            .bind(limit)
            .bind(offset)
            .bind(query.map(|q| q.id))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM organizations o WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(o.name) LIKE $1 ",
            "ESCAPE '\\' OR o.slug LIKE $1 ESCAPE '\\' OR o.id = $2)"
        ))
        .bind(query.map(|q| q.pattern))
        .bind(query.map(|q| q.id))
        .fetch_one(&self.pool)
        .await?;
        Ok((organizations, total))
    }

    /// Read-modify-write of an organization's own fields (name, slug, limits, metadata), its row locked
    /// meanwhile: `edit` changes the record or refuses with `Err` (nothing is written). A slug onto a
    /// taken one is [`OrgWriteError::SlugTaken`]; no such organization, `OrganizationNotFound`.
    pub async fn update_organization<E>(
        &self,
        id: &str,
        now: i64,
        edit: impl FnOnce(&mut OrganizationRecord) -> Result<(), E>,
    ) -> Result<Result<OrganizationRecord, E>, OrgWriteError> {
        const LOCK: Sql = locked!(select_organization!("WHERE o.id = $2"), of "o");
        let mut tx = self.write_tx().await?;
        let sql = LOCK.get(tx.engine());
        let Some(mut org): Option<OrganizationRecord> =
            sqlx::query_as(sql).bind(now).bind(id).fetch_optional(tx.conn()).await?
        else {
            return Err(OrgWriteError::OrganizationNotFound);
        };
        if let Err(e) = edit(&mut org) {
            return Ok(Err(e));
        }
        org.updated_at = now;
        let updated = sqlx::query(
            "UPDATE organizations SET name = $1, slug = $2, max_allowed_memberships = $3, \
             admin_delete_enabled = $4, public_metadata = $5, private_metadata = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&org.name)
        .bind(&org.slug)
        .bind(org.max_allowed_memberships)
        .bind(flag(org.admin_delete_enabled))
        .bind(json(&org.public_metadata))
        .bind(json(&org.private_metadata))
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await;
        slug_unique(updated)?;
        tx.emit(EventType::OrganizationUpdated, &org.to_backend(), now)?;
        tx.commit().await?;
        Ok(Ok(org))
    }

    /// Deletes an organization with its memberships and invitations; every session that had it
    /// active has none now (the foreign key sets it to NULL). The record as it was, or `None`.
    pub async fn delete_organization(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        let Some(org) = self.organization(id, now).await? else { return Ok(None) };
        let mut tx = self.write_tx().await?;
        if lock(&mut tx, id).await?.is_none() {
            return Ok(None);
        }
        sqlx::query("DELETE FROM organizations WHERE id = $1").bind(id).execute(tx.conn()).await?;
        let gone = DeletedObject { object: "organization".into(), id: org.id.clone(), deleted: true };
        tx.emit(EventType::OrganizationDeleted, &gone, now)?;
        tx.commit().await?;
        Ok(Some(org))
    }

    /// What `user_id` may do in the organization `organization_id`, or `None` when they are not a
    /// member (or it does not exist). One query: the hot path of every refresh with an active
    /// organization.
    pub async fn member_grant(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MemberGrant>, StoreError> {
        grant(&self.pool, GRANT_BY_ID, organization_id, user_id).await
    }

    /// [`Store::member_grant`] for an organization named by id or slug.
    pub async fn member_grant_by_ref(
        &self,
        id_or_slug: &str,
        user_id: &str,
    ) -> Result<Option<MemberGrant>, StoreError> {
        grant(&self.pool, GRANT_BY_REF, id_or_slug, user_id).await
    }

    /// Sets (or, with `None`, clears) the session's active organization, and answers the session as
    /// this write left it with what its user may do in that organization, read on the same
    /// transaction: a session token minted from them carries exactly what this call wrote, whatever
    /// other calls write around it. With an organization, the user must be a member of it at the
    /// instant of the write: its row is locked first (which also holds its memberships still: every
    /// change of one locks it too), so a concurrent removal either ran before (then this finds no membership: `Ok(None)`)
    /// or runs after (and clears it again). `Ok(None)` also when the session is not active.
    pub async fn set_active_organization(
        &self,
        session_id: &str,
        organization_id: Option<&str>,
        now: i64,
    ) -> Result<Option<(SessionRecord, Option<MemberGrant>)>, StoreError> {
        let mut tx = self.write_tx().await?;
        if let Some(org) = organization_id
            && lock(&mut tx, org).await?.is_none()
        {
            return Ok(None);
        }
        let session: Option<SessionRecord> = sqlx::query_as(concat!(
            "UPDATE sessions SET active_organization_id = $1, updated_at = $2 WHERE id = $3 AND status = 'active' \
             AND (CAST($1 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM organization_memberships m \
             WHERE m.organization_id = $1 AND m.user_id = sessions.user_id)) RETURNING ",
            session_columns!()
        ))
        .bind(organization_id)
        .bind(now)
        .bind(session_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(session) = session else { return Ok(None) };
        let granted = match organization_id {
            Some(org) => match grant(tx.conn(), GRANT_BY_ID, org, &session.user_id).await? {
                Some(g) => Some(g),
                // The membership was checked under the organization's lock by the UPDATE itself.
                None => return Err(StoreError::Corrupt("a member without a membership".into())),
            },
            None => None,
        };
        tx.commit().await?;
        Ok(Some((session, granted)))
    }
}

async fn grant<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    sql: &'static str,
    organization: &str,
    user_id: &str,
) -> Result<Option<MemberGrant>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        slug: String,
        role_key: String,
        permission: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(sql).bind(organization).bind(user_id).fetch_all(db).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let mut grant = MemberGrant {
        organization_id: first.id.clone(),
        slug: first.slug.clone(),
        role_key: first.role_key.clone(),
        permissions: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        if row.id != grant.organization_id {
            return Err(StoreError::Corrupt("an id and a slug named two organizations".into()));
        }
        grant.permissions.extend(row.permission);
    }
    grant.permissions.sort_unstable();
    Ok(Some(grant))
}

/// The organization with this id as `tx` sees it.
pub(super) async fn read(
    tx: &mut WriteTx,
    id: &str,
    now: i64,
) -> Result<Option<OrganizationRecord>, StoreError> {
    Ok(sqlx::query_as(select_organization!("WHERE o.id = $2"))
        .bind(now)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
}

/// Locks the organization's row until `tx` ends (see the module doc) and returns its
/// `max_allowed_memberships`; `None` if there is no such organization.
pub(super) async fn lock(tx: &mut WriteTx, id: &str) -> Result<Option<i64>, StoreError> {
    const LOCK: Sql = locked!("SELECT max_allowed_memberships FROM organizations WHERE id = $1");
    let sql = LOCK.get(tx.engine());
    Ok(sqlx::query_scalar(sql).bind(id).fetch_optional(tx.conn()).await?)
}

/// Share-locks the roles the organization's members hold, and `also` (a role about to be given), so
/// that what they grant cannot change until `tx` ends: a change of a role's permissions locks that
/// role `FOR UPDATE` ([`super::roles`]), so it waits for this transaction or this one for it, and the
/// admin count read after this stays exact until commit. Inside `tx`, after [`lock`] (which keeps
/// the set of members still).
pub(super) async fn lock_member_roles(
    tx: &mut WriteTx,
    organization_id: &str,
    also: Option<&str>,
) -> Result<(), StoreError> {
    const LOCK: Sql = share_locked!(
        "SELECT id FROM organization_roles WHERE id = $2 \
         OR id IN (SELECT role_id FROM organization_memberships WHERE organization_id = $1)"
    );
    let sql = LOCK.get(tx.engine());
    sqlx::query(sql).bind(organization_id).bind(also).execute(tx.conn()).await?;
    Ok(())
}

/// How many members of the organization hold `org:sys_memberships:manage` (inside `tx`, after
/// [`lock`] and [`lock_member_roles`]).
pub(super) async fn admin_count(tx: &mut WriteTx, organization_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM organization_memberships m JOIN organization_role_permissions rp \
         ON rp.role_id = m.role_id WHERE m.organization_id = $1 AND rp.permission_id = $2",
    )
    .bind(organization_id)
    .bind(MANAGE_MEMBERSHIPS_PERMISSION_ID)
    .fetch_one(tx.conn())
    .await?)
}

/// Maps the unique index on `slug` to [`OrgWriteError::SlugTaken`].
fn slug_unique<T>(result: Result<T, sqlx::Error>) -> Result<T, OrgWriteError> {
    match result {
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(OrgWriteError::SlugTaken),
        other => Ok(other?),
    }
}

//! Organization invitations in the store: create (the membership limit counts pending invitations),
//! revoke, accept (which creates the membership) and decline, and the lists — an organization's and
//! an invitee's own.
//!
//! An invitation is addressed to an email address and answered by the user who has that address.
//! Hallpass does not verify addresses yet, so "has" means "signed up with": whoever registers the
//! invited address first can accept (see server/README.md). A pending invitation past `expires_at`
//! reads as `expired` (it is marked so when the address is invited again, freeing the unique index
//! of pending invitations). Writes take the organization's lock first, like every membership write.
//!
//! Events ([`super::outbox`]): `organizationInvitation.created`, `.accepted` (then
//! `organizationMembership.created`) and `.revoked` (revoked or declined), on the change's transaction.

use hallpass_protocol::{
    EventType, InvitationStatus, Metadata, OrganizationInvitation, PublicOrganizationData,
};

use super::columns::json;
use super::emails::NewEmail;
use super::memberships::{self, MembershipRecord};
use super::organizations::{self, OrgWriteError};
use super::{Store, StoreError, WriteTx};

/// An invitation as stored, with its role and organization (with private metadata: never serialise
/// this directly). `status` is as stored: see [`InvitationRecord::status`].
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvitationRecord {
    pub id: String,
    pub organization_id: String,
    pub email_address: String,
    pub role_id: String,
    pub role_key: String,
    pub role_name: String,
    #[sqlx(rename = "status", try_from = "super::columns::NameText")]
    pub stored_status: InvitationStatus,
    pub inviter_user_id: Option<String>,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub public_metadata: Metadata,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub private_metadata: Metadata,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub organization_name: String,
    pub organization_slug: String,
    pub organization_image_url: String,
}

impl InvitationRecord {
    /// The status at `now`: a pending invitation past its expiry is `expired`.
    pub fn status(&self, now: i64) -> InvitationStatus {
        match self.stored_status {
            InvitationStatus::Pending if now >= self.expires_at => InvitationStatus::Expired,
            other => other,
        }
    }

    /// As the organization's members and the invitee see it: no private metadata.
    pub fn to_frontend(&self, now: i64) -> OrganizationInvitation {
        OrganizationInvitation {
            object: "organization_invitation".into(),
            id: self.id.clone(),
            email_address: self.email_address.clone(),
            role: self.role_key.clone(),
            role_name: self.role_name.clone(),
            organization_id: self.organization_id.clone(),
            public_organization_data: Some(PublicOrganizationData {
                id: self.organization_id.clone(),
                name: self.organization_name.clone(),
                slug: self.organization_slug.clone(),
                image_url: self.organization_image_url.clone(),
                has_image: !self.organization_image_url.is_empty(),
            }),
            status: self.status(now),
            public_metadata: self.public_metadata.clone(),
            private_metadata: None,
            url: None,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// As the Backend API sees it: with `private_metadata`.
    pub fn to_backend(&self, now: i64) -> OrganizationInvitation {
        OrganizationInvitation {
            private_metadata: Some(self.private_metadata.clone()),
            ..self.to_frontend(now)
        }
    }
}

/// Makes an invitation's email from the invitation and the inviter's name (if known).
pub type InvitationMail<'a> =
    dyn Fn(&InvitationRecord, Option<&str>) -> Result<NewEmail, StoreError> + Sync + 'a;

/// An invitation to create.
pub struct NewInvitation {
    pub id: String,
    pub organization_id: String,
    /// Normalised (`crate::validate::email`).
    pub email_address: String,
    pub role_id: String,
    pub inviter_user_id: Option<String>,
    pub public_metadata: Metadata,
    pub private_metadata: Metadata,
    pub expires_at: i64,
    pub now: i64,
}

/// `SELECT <invitation with its role and organization> …` then the rest.
macro_rules! select_invitation {
    ($($rest:tt)*) => {
        concat!(
            "SELECT i.id, i.organization_id, i.email_address, i.role_id, r.key AS role_key, r.name AS role_name, \
             i.status, i.inviter_user_id, i.public_metadata, i.private_metadata, i.expires_at, i.created_at, \
             i.updated_at, o.name AS organization_name, o.slug AS organization_slug, \
             o.image_url AS organization_image_url \
             FROM organization_invitations i JOIN organization_roles r ON r.id = i.role_id \
             JOIN organizations o ON o.id = i.organization_id ",
            $($rest)*
        )
    };
}

/// The status filter: `$1` now, `$n` the wire status or NULL (pending-but-expired counts as expired).
macro_rules! status_filter {
    ($n:literal) => {
        concat!(
            "(CAST(",
            $n,
            " AS TEXT) IS NULL OR (CASE WHEN i.status = 'pending' AND i.expires_at <= $1 THEN 'expired' \
             ELSE i.status END) = ",
            $n,
            ")"
        )
    };
}

impl Store {
    /// One invitation of one organization.
    pub async fn invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
        now: i64,
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let _ = now;
        Ok(sqlx::query_as(select_invitation!("WHERE i.organization_id = $1 AND i.id = $2"))
            .bind(organization_id)
            .bind(invitation_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A page of an organization's invitations, newest first, and the total.
    pub async fn organization_invitations(
        &self,
        organization_id: &str,
        status: Option<InvitationStatus>,
        (limit, offset): (i64, i64),
        now: i64,
    ) -> Result<(Vec<InvitationRecord>, i64), StoreError> {
        let status = status.map(InvitationStatus::as_str);
        let rows = sqlx::query_as(select_invitation!(
            "WHERE i.organization_id = $2 AND ",
            status_filter!("$3"),
            " ORDER BY i.created_at DESC, i.id LIMIT $4 OFFSET $5"
        ))
        .bind(now)
        .bind(organization_id)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM organization_invitations i WHERE i.organization_id = $2 AND ",
            status_filter!("$3")
        ))
        .bind(now)
        .bind(organization_id)
        .bind(status)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, total))
    }

    /// A page of the invitations addressed to any of the user's email addresses, newest first.
    pub async fn user_invitations(
        &self,
        user_id: &str,
        status: Option<InvitationStatus>,
        (limit, offset): (i64, i64),
        now: i64,
    ) -> Result<(Vec<InvitationRecord>, i64), StoreError> {
        let status = status.map(InvitationStatus::as_str);
        let rows = sqlx::query_as(select_invitation!(
            "WHERE i.email_address IN (SELECT email_address FROM email_addresses WHERE user_id = $2) AND ",
            status_filter!("$3"),
            " ORDER BY i.created_at DESC, i.id LIMIT $4 OFFSET $5"
        ))
        .bind(now)
        .bind(user_id)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM organization_invitations i \
             WHERE i.email_address IN (SELECT email_address FROM email_addresses WHERE user_id = $2) AND ",
            status_filter!("$3")
        ))
        .bind(now)
        .bind(user_id)
        .bind(status)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, total))
    }

    /// Creates an invitation. Refused when the address belongs to a member (`AlreadyMember`), a
    /// pending one for it exists (`InvitationPending`), or members and pending invitations together
    /// reach `max_allowed_memberships` (`MembershipQuota`).
    /// Creates a pending invitation and writes its email, made by `mail` from the invitation and the
    /// inviter's name, on the same transaction (so an invitation is never without its email).
    pub async fn create_invitation(
        &self,
        inv: &NewInvitation,
        mail: &InvitationMail<'_>,
    ) -> Result<InvitationRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        let max = organizations::lock(&mut tx, &inv.organization_id)
            .await?
            .ok_or(OrgWriteError::OrganizationNotFound)?;
        sqlx::query(
            "UPDATE organization_invitations SET status = 'expired', updated_at = $1 \
             WHERE organization_id = $2 AND email_address = $3 AND status = 'pending' AND expires_at <= $1",
        )
        .bind(inv.now)
        .bind(&inv.organization_id)
        .bind(&inv.email_address)
        .execute(tx.conn())
        .await?;
        let member: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM organization_memberships m JOIN email_addresses e ON e.user_id = m.user_id \
             WHERE m.organization_id = $1 AND e.email_address = $2",
        )
        .bind(&inv.organization_id)
        .bind(&inv.email_address)
        .fetch_optional(tx.conn())
        .await?;
        if member.is_some() {
            return Err(OrgWriteError::AlreadyMember);
        }
        if max > 0 {
            let taken: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM organization_memberships WHERE organization_id = $1) + \
                 (SELECT COUNT(*) FROM organization_invitations WHERE organization_id = $1 \
                  AND status = 'pending' AND expires_at > $2)",
            )
            .bind(&inv.organization_id)
            .bind(inv.now)
            .fetch_one(tx.conn())
            .await?;
            if taken >= max {
                return Err(OrgWriteError::MembershipQuota { max });
            }
        }
        let res = sqlx::query(
            "INSERT INTO organization_invitations (id, organization_id, email_address, role_id, status, \
             inviter_user_id, public_metadata, private_metadata, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $9)",
        )
        .bind(&inv.id)
        .bind(&inv.organization_id)
        .bind(&inv.email_address)
        .bind(&inv.role_id)
        .bind(&inv.inviter_user_id)
        .bind(json(&inv.public_metadata))
        .bind(json(&inv.private_metadata))
        .bind(inv.expires_at)
        .bind(inv.now)
        .execute(tx.conn())
        .await;
        match res {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(OrgWriteError::InvitationPending);
            }
            Err(e) => return Err(e.into()),
        }
        let created = read(&mut tx, &inv.organization_id, &inv.id).await?;
        tx.emit(EventType::OrganizationInvitationCreated, &created.to_backend(inv.now), inv.now)?;
        let inviter: Option<(Option<String>, Option<String>)> = match &inv.inviter_user_id {
            Some(id) => {
                sqlx::query_as("SELECT first_name, last_name FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(tx.conn())
                    .await?
            }
            None => None,
        };
        let inviter_name = inviter
            .map(|(first, last)| [first, last].into_iter().flatten().collect::<Vec<_>>().join(" "))
            .filter(|n| !n.trim().is_empty());
        super::emails::insert(&mut tx, &mail(&created, inviter_name.as_deref())?).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Revokes a pending invitation of the organization (`InvitationNotPending` otherwise).
    pub async fn revoke_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
        now: i64,
    ) -> Result<InvitationRecord, OrgWriteError> {
        let mut tx = self.write_tx().await?;
        organizations::lock(&mut tx, organization_id).await?.ok_or(OrgWriteError::OrganizationNotFound)?;
        close(&mut tx, organization_id, invitation_id, InvitationStatus::Revoked, now).await?;
        let revoked = read(&mut tx, organization_id, invitation_id).await?;
        tx.emit(EventType::OrganizationInvitationRevoked, &revoked.to_backend(now), now)?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// The invitee accepts: they become a member with the invitation's role (the membership limit and
    /// "already a member" are checked as for any join), and the invitation is `accepted`. Only an
    /// invitation addressed to one of `user_id`'s email addresses is found.
    pub async fn accept_invitation(
        &self,
        invitation_id: &str,
        user_id: &str,
        membership_id: &str,
        now: i64,
    ) -> Result<MembershipRecord, OrgWriteError> {
        let invitation =
            self.addressed_to(invitation_id, user_id).await?.ok_or(OrgWriteError::InvitationNotFound)?;
        let org = invitation.organization_id;
        let mut tx = self.write_tx().await?;
        let max = organizations::lock(&mut tx, &org).await?.ok_or(OrgWriteError::InvitationNotFound)?;
        let role_id = close(&mut tx, &org, invitation_id, InvitationStatus::Accepted, now).await?;
        memberships::join(&mut tx, membership_id, &org, user_id, &role_id, max, now).await?;
        let accepted = read(&mut tx, &org, invitation_id).await?;
        tx.emit(EventType::OrganizationInvitationAccepted, &accepted.to_backend(now), now)?;
        let membership = self.membership_in(&mut tx, &org, user_id, now).await?;
        tx.emit(EventType::OrganizationMembershipCreated, &membership.to_backend(), now)?;
        tx.commit().await?;
        Ok(membership)
    }

    /// The invitee declines: the invitation is `revoked` (Clerk has no separate status).
    pub async fn decline_invitation(
        &self,
        invitation_id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<InvitationRecord, OrgWriteError> {
        let invitation =
            self.addressed_to(invitation_id, user_id).await?.ok_or(OrgWriteError::InvitationNotFound)?;
        let org = invitation.organization_id;
        let mut tx = self.write_tx().await?;
        organizations::lock(&mut tx, &org).await?.ok_or(OrgWriteError::InvitationNotFound)?;
        close(&mut tx, &org, invitation_id, InvitationStatus::Revoked, now).await?;
        let declined = read(&mut tx, &org, invitation_id).await?;
        tx.emit(EventType::OrganizationInvitationRevoked, &declined.to_backend(now), now)?;
        tx.commit().await?;
        Ok(declined)
    }

    /// The invitation if it is addressed to one of the user's email addresses.
    async fn addressed_to(
        &self,
        invitation_id: &str,
        user_id: &str,
    ) -> Result<Option<InvitationRecord>, StoreError> {
        Ok(sqlx::query_as(select_invitation!(
            "WHERE i.id = $1 AND i.email_address IN (SELECT email_address FROM email_addresses WHERE user_id = $2)"
        ))
        .bind(invitation_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}

/// Moves a pending, unexpired invitation of the (locked) organization to `to`; its role id. Otherwise
/// `InvitationNotFound` or `InvitationNotPending`.
async fn close(
    tx: &mut WriteTx,
    organization_id: &str,
    invitation_id: &str,
    to: InvitationStatus,
    now: i64,
) -> Result<String, OrgWriteError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        role_id: String,
        #[sqlx(try_from = "super::columns::NameText")]
        status: InvitationStatus,
        expires_at: i64,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT role_id, status, expires_at FROM organization_invitations WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(invitation_id)
    .fetch_optional(tx.conn())
    .await?;
    let row = row.ok_or(OrgWriteError::InvitationNotFound)?;
    let status = match row.status {
        InvitationStatus::Pending if now >= row.expires_at => InvitationStatus::Expired,
        other => other,
    };
    if status != InvitationStatus::Pending {
        return Err(OrgWriteError::InvitationNotPending(status));
    }
    sqlx::query("UPDATE organization_invitations SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(now)
        .bind(invitation_id)
        .execute(tx.conn())
        .await?;
    Ok(row.role_id)
}

/// The invitation as `tx` sees it (it must exist: the caller just wrote it).
async fn read(
    tx: &mut WriteTx,
    organization_id: &str,
    invitation_id: &str,
) -> Result<InvitationRecord, OrgWriteError> {
    let row: Option<InvitationRecord> =
        sqlx::query_as(select_invitation!("WHERE i.organization_id = $1 AND i.id = $2"))
            .bind(organization_id)
            .bind(invitation_id)
            .fetch_optional(tx.conn())
            .await?;
    row.ok_or_else(vanished)
}

fn vanished() -> OrgWriteError {
    OrgWriteError::Store(StoreError::Corrupt("invitation vanished".into()))
}

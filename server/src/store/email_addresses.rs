//! A signed-in user's further email addresses: added unverified (`pending_email_addresses`, not yet
//! theirs — not unique, so nobody can block an address by adding it, and not a sign-in identifier),
//! sent a code or link, and moved to `email_addresses` with the same `idn_…` once verified. An
//! address the user already has (the primary one of a sign-up that did not verify it) is verified in
//! place. Removing one: any but the primary. Which one is primary the user chooses among the verified
//! ones (`Store::update_user`).
//!
//! Events: `user.updated` when an address becomes the user's or is removed.

use hallpass_protocol::{EmailAddress, EventType, Strategy};

use super::dialect::{Sql, locked};
use super::emails::{self, NewEmail};
use super::users::{self, email_address};
use super::verifications::{self, CheckOutcome, NewVerification, VerificationRecord};
use super::{Store, StoreError, WriteTx};

/// One of the user's addresses, verified or pending.
#[derive(Clone, Debug)]
pub struct UserAddress {
    pub id: String,
    pub email_address: String,
    /// Still in `pending_email_addresses`.
    pub pending: bool,
    pub verified_at: Option<i64>,
    pub verification_strategy: Option<Strategy>,
}

impl UserAddress {
    /// The address on the wire; a pending one shows its live verification, if any.
    pub fn to_wire(&self, verification: Option<&VerificationRecord>, now: i64) -> EmailAddress {
        let mut wire =
            email_address(&self.id, &self.email_address, self.verified_at, self.verification_strategy);
        if wire.verification.is_none() {
            wire.verification = verification.map(|v| v.to_wire(now));
        }
        wire
    }
}

/// Why an address could not be verified or removed.
#[derive(Debug)]
pub enum AddressOutcome {
    Done(UserAddress),
    NotVerified(CheckOutcome),
    /// Another account has it (it was verified there first).
    Taken,
    /// It is the primary address.
    Primary,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    email_address: String,
    pending: i64,
    verified_at: Option<i64>,
    #[sqlx(try_from = "super::columns::NullableNameText")]
    verification_strategy: Option<Strategy>,
}

impl From<Row> for UserAddress {
    fn from(r: Row) -> Self {
        UserAddress {
            id: r.id,
            email_address: r.email_address,
            pending: r.pending != 0,
            verified_at: r.verified_at,
            verification_strategy: r.verification_strategy,
        }
    }
}

const FIND: &str = "SELECT id, email_address, 0 AS pending, verified_at, verification_strategy FROM email_addresses \
     WHERE id = $1 AND user_id = $2 UNION ALL SELECT id, email_address, 1 AS pending, NULL AS verified_at, \
     NULL AS verification_strategy FROM pending_email_addresses WHERE id = $1 AND user_id = $2";

/// The user's address `id` (verified or pending) inside `tx`, locked with the user's row before it. The user first: the order
/// deleting a user takes (the user, then by cascade their addresses) and a change of primary, so an
/// address change racing either waits instead of deadlocking on PostgreSQL.
async fn lock(tx: &mut WriteTx, user_id: &str, id: &str) -> Result<Option<UserAddress>, StoreError> {
    const LOCK_USER: Sql = locked!("SELECT id FROM users WHERE id = $1");
    let user: Option<String> =
        sqlx::query_scalar(LOCK_USER.get(tx.engine())).bind(user_id).fetch_optional(tx.conn()).await?;
    if user.is_none() {
        return Ok(None);
    }
    const LOCK_PENDING: Sql = locked!(
        "SELECT id, email_address, 1 AS pending, NULL AS verified_at, NULL AS verification_strategy \
         FROM pending_email_addresses WHERE id = $1 AND user_id = $2"
    );
    const LOCK_OWN: Sql = locked!(
        "SELECT id, email_address, 0 AS pending, verified_at, verification_strategy FROM email_addresses \
         WHERE id = $1 AND user_id = $2"
    );
    for statement in [LOCK_OWN, LOCK_PENDING] {
        let sql = statement.get(tx.engine());
        let row: Option<Row> = sqlx::query_as(sql).bind(id).bind(user_id).fetch_optional(tx.conn()).await?;
        if let Some(row) = row {
            return Ok(Some(row.into()));
        }
    }
    Ok(None)
}

impl Store {
    /// The user's address `id` (verified or pending) and its verification.
    pub async fn user_address(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<(UserAddress, Option<VerificationRecord>)>, StoreError> {
        let row: Option<Row> = sqlx::query_as(FIND).bind(id).bind(user_id).fetch_optional(&self.pool).await?;
        let Some(address) = row.map(UserAddress::from) else { return Ok(None) };
        let verification = self.verification(id).await?;
        Ok(Some((address, verification)))
    }

    /// Adds an unverified address for the user. `Err(Taken)` if the user has it already.
    pub async fn add_pending_address(
        &self,
        user_id: &str,
        id: &str,
        email: &str,
        now: i64,
    ) -> Result<Result<UserAddress, AddressOutcome>, StoreError> {
        let mut tx = self.write_tx().await?;
        let own: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM email_addresses WHERE user_id = $1 AND email_address = $2 UNION ALL \
             SELECT 1 FROM pending_email_addresses WHERE user_id = $1 AND email_address = $2",
        )
        .bind(user_id)
        .bind(email)
        .fetch_optional(tx.conn())
        .await?;
        if own.is_some() {
            return Ok(Err(AddressOutcome::Taken));
        }
        sqlx::query("INSERT INTO pending_email_addresses (id, user_id, email_address, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(user_id)
            .bind(email)
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Ok(UserAddress {
            id: id.to_owned(),
            email_address: email.to_owned(),
            pending: true,
            verified_at: None,
            verification_strategy: None,
        }))
    }

    /// Sends a verification for an unverified address of the user (`verification.owner_id` is its
    /// id): stores it and writes `email` on one transaction. `None` if the user has no such address,
    /// or it is verified already.
    pub async fn prepare_address_verification(
        &self,
        user_id: &str,
        verification: &NewVerification,
        email: &NewEmail,
    ) -> Result<Option<(UserAddress, VerificationRecord)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(address) = lock(&mut tx, user_id, &verification.owner_id).await? else { return Ok(None) };
        if address.verified_at.is_some() {
            return Ok(None);
        }
        let stored = verifications::replace(&mut tx, verification).await?;
        emails::insert(&mut tx, email).await?;
        tx.commit().await?;
        Ok(Some((address, stored)))
    }

    /// Checks a code for the user's address `id`; when right, the address becomes (or is marked) the
    /// user's, verified.
    pub async fn verify_address_by_code(
        &self,
        user_id: &str,
        id: &str,
        matches: &(dyn Fn(&str) -> bool + Sync),
        now: i64,
    ) -> Result<Option<AddressOutcome>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(address) = lock(&mut tx, user_id, id).await? else { return Ok(None) };
        if address.verified_at.is_some() {
            return Ok(Some(AddressOutcome::NotVerified(CheckOutcome::AlreadyVerified)));
        }
        let outcome = verifications::check_code(&mut tx, id, &[Strategy::EmailCode], now, matches).await?;
        if outcome != CheckOutcome::Verified {
            tx.commit().await?;
            return Ok(Some(AddressOutcome::NotVerified(outcome)));
        }
        let result = make_verified(&mut tx, user_id, address, Strategy::EmailCode, now).await?;
        if matches!(result, AddressOutcome::Done(_)) {
            tx.commit().await?;
        }
        Ok(Some(result))
    }

    /// Removes the user's address `id` (not the primary one). `None` if there is no such address.
    pub async fn remove_address(
        &self,
        user_id: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<AddressOutcome>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(address) = lock(&mut tx, user_id, id).await? else { return Ok(None) };
        if address.pending {
            sqlx::query("DELETE FROM pending_email_addresses WHERE id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        } else {
            // The user's row is locked (`lock`): a change of primary queues behind this, or this
            // behind it and then reads the new primary (see `Store::update_user`).
            let primary: Option<String> =
                sqlx::query_scalar("SELECT primary_email_address_id FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(tx.conn())
                    .await?;
            if primary.as_deref() == Some(id) {
                return Ok(Some(AddressOutcome::Primary));
            }
            sqlx::query("DELETE FROM email_addresses WHERE id = $1").bind(id).execute(tx.conn()).await?;
            emit_user_updated(&mut tx, user_id, now).await?;
        }
        verifications::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(AddressOutcome::Done(address)))
    }
}

/// An address whose email link was opened (inside the link's transaction): it becomes the user's.
pub(super) async fn verified_by_link(
    tx: &mut WriteTx,
    owner_id: &str,
    now: i64,
) -> Result<Option<AddressOutcome>, StoreError> {
    let user_id: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM email_addresses WHERE id = $1 UNION ALL SELECT user_id FROM pending_email_addresses \
         WHERE id = $1",
    )
    .bind(owner_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(user_id) = user_id else { return Ok(None) };
    let Some(address) = lock(tx, &user_id, owner_id).await? else { return Ok(None) };
    Ok(Some(make_verified(tx, &user_id, address, Strategy::EmailLink, now).await?))
}

/// Marks `address` verified, moving a pending one into `email_addresses` (`Taken` if another account
/// has it: the caller rolls back).
async fn make_verified(
    tx: &mut WriteTx,
    user_id: &str,
    mut address: UserAddress,
    by: Strategy,
    now: i64,
) -> Result<AddressOutcome, StoreError> {
    if address.pending {
        let inserted = sqlx::query(
            "INSERT INTO email_addresses (id, user_id, email_address, created_at, verified_at, verification_strategy) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(&address.id)
        .bind(user_id)
        .bind(&address.email_address)
        .bind(now)
        .bind(by.as_str())
        .execute(tx.conn())
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Ok(AddressOutcome::Taken),
            Err(e) => return Err(e.into()),
        }
        sqlx::query("DELETE FROM pending_email_addresses WHERE id = $1")
            .bind(&address.id)
            .execute(tx.conn())
            .await?;
    } else {
        sqlx::query("UPDATE email_addresses SET verified_at = $1, verification_strategy = $2 WHERE id = $3")
            .bind(now)
            .bind(by.as_str())
            .bind(&address.id)
            .execute(tx.conn())
            .await?;
    }
    verifications::delete(tx, &address.id).await?;
    emit_user_updated(tx, user_id, now).await?;
    address.pending = false;
    address.verified_at = Some(now);
    address.verification_strategy = Some(by);
    Ok(AddressOutcome::Done(address))
}

async fn emit_user_updated(tx: &mut WriteTx, user_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    if let Some(user) = users::read_in(tx, user_id).await? {
        tx.emit(EventType::UserUpdated, &user.to_backend(), now)?;
    }
    Ok(())
}

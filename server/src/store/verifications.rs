//! Verifications: the live code or link of a sign-up attempt, a sign-in attempt or an email address
//! (its *owner*: `sua_…`, `sia_…`, `idn_…`), one per owner — preparing again replaces it, with a new
//! code and its own 5 tries. What is stored and why: `crate::verification`.
//!
//! Every check runs inside the write transaction of the step it completes, with the row locked
//! ([`check_code`], [`use_link`]): a try is counted before it is judged, so concurrent tries cannot go
//! past the limit, and of two concurrent right answers one wins — single use. A completed step and
//! its verification commit together or not at all.

use hallpass_protocol::{Strategy, Verification, VerificationStatus};

use super::dialect::{Sql, locked};
use super::{Store, StoreError, WriteTx};

/// A code or link to store (its hash only).
#[derive(Clone, Debug)]
pub struct NewVerification {
    pub owner_id: String,
    pub strategy: Strategy,
    pub code_hash: Option<String>,
    pub link_hash: Option<String>,
    pub redirect_url: Option<String>,
    pub email_address: String,
    pub now: i64,
}

/// A verification as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct VerificationRecord {
    pub owner_id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub strategy: Strategy,
    pub code_hash: Option<String>,
    pub redirect_url: Option<String>,
    pub email_address: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: VerificationStatus,
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub expire_at: i64,
    pub verified_at: Option<i64>,
}

impl std::fmt::Debug for VerificationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationRecord")
            .field("owner_id", &self.owner_id)
            .field("strategy", &self.strategy)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl VerificationRecord {
    /// The status as clients see it at `now` (an unverified one past its deadline is `expired`).
    pub fn status_at(&self, now: i64) -> VerificationStatus {
        match self.status {
            VerificationStatus::Unverified if now >= self.expire_at => VerificationStatus::Expired,
            s => s,
        }
    }

    pub fn to_wire(&self, now: i64) -> Verification {
        Verification {
            object: "verification".into(),
            status: self.status_at(now),
            strategy: self.strategy,
            attempts: self.attempts,
            expire_at: self.expire_at,
        }
    }
}

macro_rules! verification_columns {
    () => {
        "owner_id, strategy, code_hash, redirect_url, email_address, status, attempts, expire_at, verified_at"
    };
}

/// What a code or a link came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Right (now used up).
    Verified,
    /// Wrong; this many tries are left.
    Incorrect { attempts_left: u32 },
    /// Past its deadline.
    Expired,
    /// Out of tries.
    Failed,
    /// Used already.
    AlreadyVerified,
    /// Nothing was prepared for this strategy.
    Missing,
}

/// Stores `v` as its owner's verification, replacing the previous one (and its tries).
pub(super) async fn replace(tx: &mut WriteTx, v: &NewVerification) -> Result<VerificationRecord, StoreError> {
    sqlx::query(
        "INSERT INTO verifications (owner_id, strategy, code_hash, link_hash, redirect_url, email_address, \
         status, attempts, expire_at, verified_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'unverified', 0, $7, NULL, $8) \
         ON CONFLICT (owner_id) DO UPDATE SET strategy = $2, code_hash = $3, link_hash = $4, redirect_url = $5, \
         email_address = $6, status = 'unverified', attempts = 0, expire_at = $7, verified_at = NULL, \
         created_at = $8",
    )
    .bind(&v.owner_id)
    .bind(v.strategy.as_str())
    .bind(&v.code_hash)
    .bind(&v.link_hash)
    .bind(&v.redirect_url)
    .bind(&v.email_address)
    .bind(v.now + Verification::LIFETIME_MS)
    .bind(v.now)
    .execute(tx.conn())
    .await?;
    Ok(VerificationRecord {
        owner_id: v.owner_id.clone(),
        strategy: v.strategy,
        code_hash: v.code_hash.clone(),
        redirect_url: v.redirect_url.clone(),
        email_address: v.email_address.clone(),
        status: VerificationStatus::Unverified,
        attempts: 0,
        expire_at: v.now + Verification::LIFETIME_MS,
        verified_at: None,
    })
}

/// The owner's verification, read inside `tx` and locked until it ends.
pub(super) async fn lock(tx: &mut WriteTx, owner_id: &str) -> Result<Option<VerificationRecord>, StoreError> {
    const LOCK: Sql =
        locked!(concat!("SELECT ", verification_columns!(), " FROM verifications WHERE owner_id = $1"));
    let sql = LOCK.get(tx.engine());
    Ok(sqlx::query_as(sql).bind(owner_id).fetch_optional(tx.conn()).await?)
}

/// Checks a code for the owner's verification of one of `strategies` inside `tx`: counts the try,
/// judges it with `matches` (given the stored hash), and marks it verified when right. Wrong tries
/// are written by `tx` as well: the caller commits them (and rolls back only on a storage error).
pub(super) async fn check_code(
    tx: &mut WriteTx,
    owner_id: &str,
    strategies: &[Strategy],
    now: i64,
    matches: impl FnOnce(&str) -> bool,
) -> Result<CheckOutcome, StoreError> {
    let Some(v) = lock(tx, owner_id).await? else { return Ok(CheckOutcome::Missing) };
    let Some(stored) = v.code_hash.as_deref().filter(|_| strategies.contains(&v.strategy)) else {
        return Ok(CheckOutcome::Missing);
    };
    match v.status_at(now) {
        VerificationStatus::Verified => return Ok(CheckOutcome::AlreadyVerified),
        VerificationStatus::Failed => return Ok(CheckOutcome::Failed),
        VerificationStatus::Expired => return Ok(CheckOutcome::Expired),
        VerificationStatus::Unverified => {}
    }
    if v.attempts >= Verification::MAX_ATTEMPTS {
        return Ok(CheckOutcome::Failed);
    }
    let right = matches(stored);
    let attempts = v.attempts + 1;
    let status = if right {
        VerificationStatus::Verified
    } else if attempts >= Verification::MAX_ATTEMPTS {
        VerificationStatus::Failed
    } else {
        VerificationStatus::Unverified
    };
    sqlx::query("UPDATE verifications SET attempts = $1, status = $2, verified_at = $3 WHERE owner_id = $4")
        .bind(i64::from(attempts))
        .bind(status.as_str())
        .bind(right.then_some(now))
        .bind(owner_id)
        .execute(tx.conn())
        .await?;
    Ok(match status {
        VerificationStatus::Verified => CheckOutcome::Verified,
        VerificationStatus::Failed => CheckOutcome::Failed,
        _ => CheckOutcome::Incorrect { attempts_left: Verification::MAX_ATTEMPTS - attempts },
    })
}

/// Uses the link whose token hashes to `link_hash` inside `tx`: the verification, now verified, or
/// why not. `None` if no live verification has that link (never sent, or replaced since).
pub(super) async fn use_link(
    tx: &mut WriteTx,
    link_hash: &str,
    now: i64,
) -> Result<Option<(VerificationRecord, CheckOutcome)>, StoreError> {
    const LOCK: Sql =
        locked!(concat!("SELECT ", verification_columns!(), " FROM verifications WHERE link_hash = $1"));
    let sql = LOCK.get(tx.engine());
    let Some(mut v): Option<VerificationRecord> =
        sqlx::query_as(sql).bind(link_hash).fetch_optional(tx.conn()).await?
    else {
        return Ok(None);
    };
    let outcome = match v.status_at(now) {
        VerificationStatus::Verified => CheckOutcome::AlreadyVerified,
        VerificationStatus::Failed => CheckOutcome::Failed,
        VerificationStatus::Expired => CheckOutcome::Expired,
        VerificationStatus::Unverified => {
            sqlx::query("UPDATE verifications SET status = 'verified', verified_at = $1 WHERE owner_id = $2")
                .bind(now)
                .bind(&v.owner_id)
                .execute(tx.conn())
                .await?;
            v.status = VerificationStatus::Verified;
            v.verified_at = Some(now);
            CheckOutcome::Verified
        }
    };
    Ok(Some((v, outcome)))
}

/// Marks the verification of an attempt that has just completed as what completed it, for as long as
/// the attempt is kept (`keep_until`, its `abandon_at`): `verified`, by `strategy` (`password` for a
/// password — a row is written if none was prepared), with its secrets cleared, so its code and link
/// are used up but the completed attempt still answers its `first_factor_verification` (Clerk keeps
/// it). `email_address` is the attempt's address (a new row's).
pub(super) async fn complete(
    tx: &mut WriteTx,
    owner_id: &str,
    strategy: Strategy,
    email_address: &str,
    keep_until: i64,
    now: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE verifications SET strategy = $1, code_hash = NULL, link_hash = NULL, status = 'verified', \
         verified_at = COALESCE(verified_at, $2), expire_at = CASE WHEN expire_at > $3 THEN expire_at ELSE $3 END \
         WHERE owner_id = $4",
    )
    .bind(strategy.as_str())
    .bind(now)
    .bind(keep_until)
    .bind(owner_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO verifications (owner_id, strategy, email_address, status, attempts, expire_at, \
             verified_at, created_at) VALUES ($1, $2, $3, 'verified', 0, $4, $5, $5)",
        )
        .bind(owner_id)
        .bind(strategy.as_str())
        .bind(email_address)
        .bind(keep_until)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Deletes the owner's verification (its step is done).
pub(super) async fn delete(tx: &mut WriteTx, owner_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM verifications WHERE owner_id = $1").bind(owner_id).execute(tx.conn()).await?;
    Ok(())
}

impl Store {
    /// Uses an email link (the page's `POST`): its verification, now verified, or why not; an
    /// address's link makes the address the user's on the same transaction (`AlreadyVerified` is then
    /// also the answer when another account verified it first). Sign-up and sign-in links only mark
    /// the verification: the tab that asked completes the step when it next polls.
    pub async fn use_email_link(
        &self,
        link_hash: &str,
        now: i64,
    ) -> Result<Option<(VerificationRecord, CheckOutcome)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some((v, outcome)) = use_link(&mut tx, link_hash, now).await? else { return Ok(None) };
        if outcome == CheckOutcome::Verified
            && v.owner_id.starts_with(hallpass_protocol::id_prefix::EMAIL_ADDRESS)
        {
            match super::email_addresses::verified_by_link(&mut tx, &v.owner_id, now).await? {
                Some(super::email_addresses::AddressOutcome::Done(_)) => {}
                _ => return Ok(Some((v, CheckOutcome::AlreadyVerified))),
            }
        }
        tx.commit().await?;
        Ok(Some((v, outcome)))
    }

    /// Where the link of `link_hash` sends the browser once it is used (its `redirect_url`), read
    /// without using it: the link's page lets its form lead there.
    pub async fn email_link_redirect(&self, link_hash: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT redirect_url FROM verifications WHERE link_hash = $1")
                .bind(link_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(url,)| url))
    }

    /// The owner's verification, if one was prepared.
    pub async fn verification(&self, owner_id: &str) -> Result<Option<VerificationRecord>, StoreError> {
        let sql = concat!("SELECT ", verification_columns!(), " FROM verifications WHERE owner_id = $1");
        Ok(sqlx::query_as(sql).bind(owner_id).fetch_optional(&self.pool).await?)
    }

    /// Deletes up to `limit` verifications that expired before `cutoff`.
    pub async fn purge_verifications(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const OLD: Sql = super::dialect::skip_locked!(
            "DELETE FROM verifications WHERE owner_id IN (",
            "SELECT v.owner_id FROM verifications v WHERE v.expire_at < $1 LIMIT $2",
            of "v",
            ")"
        );
        self.purge(&[OLD], cutoff, limit).await
    }
}

//! Sign-in attempts (`sia_…`): a sign-in waiting for its first factor — an email code, an email link,
//! a password, or a password-reset code followed by a new password.
//!
//! An attempt exists whether or not the identifier has an account (`user_id` NULL when not): it is
//! stored, prepared (a code hashed and stored, an email written as `suppressed`) and answered exactly
//! like one that does, and its codes are never right, so nothing tells the two apart. Each step that
//! completes — the session created, the address marked verified, for a reset the new password set and
//! every other session revoked — commits on the transaction of the verification that allows it. The
//! verification stays, used up, as the completed attempt's `first_factor_verification`.

use hallpass_protocol::{
    SignInAttempt, SignInFactor, SignInStatus, Strategy, Verification, VerificationStatus,
};

use super::dialect::{Sql, locked};
use super::emails::{self, NewEmail};
use super::sessions::{self, NewSession, SessionRecord};
use super::users::{SignOut, set_password_in};
use super::verifications::{self, CheckOutcome, NewVerification, VerificationRecord};
use super::{Store, StoreError, WriteTx};

/// How long a sign-in may take.
pub const LIFETIME_MS: i64 = 60 * 60 * 1000;

/// A sign-in attempt as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct SignInAttemptRecord {
    pub id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: SignInStatus,
    pub identifier: String,
    /// `None`: no account has this address.
    pub user_id: Option<String>,
    pub created_session_id: Option<String>,
    pub abandon_at: i64,
}

impl std::fmt::Debug for SignInAttemptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInAttemptRecord").field("id", &self.id).finish_non_exhaustive()
    }
}

impl SignInAttemptRecord {
    /// Past `abandon_at` without completing.
    pub fn abandoned(&self, now: i64) -> bool {
        self.status != SignInStatus::Complete && now >= self.abandon_at
    }

    /// The attempt as clients see it: the same for an address with or without an account.
    pub fn to_wire(
        &self,
        factors: &[SignInFactor],
        verification: Option<&VerificationRecord>,
        now: i64,
    ) -> SignInAttempt {
        SignInAttempt {
            object: "sign_in_attempt".into(),
            id: self.id.clone(),
            status: self.status,
            identifier: self.identifier.clone(),
            supported_first_factors: factors.to_vec(),
            first_factor_verification: verification.map(|v| v.to_wire(now)),
            created_session_id: self.created_session_id.clone(),
            abandon_at: self.abandon_at,
        }
    }
}

macro_rules! attempt_columns {
    () => {
        "id, status, identifier, user_id, created_session_id, abandon_at"
    };
}

const LOCK: Sql = locked!(concat!("SELECT ", attempt_columns!(), " FROM sign_in_attempts WHERE id = $1"));

/// A session to start when a step completes (ids made by the caller).
pub struct SessionStart {
    pub session: NewSession,
    pub token_hash: String,
}

/// What a step came to.
#[derive(Debug)]
pub enum Step {
    /// Signed in: this session was created.
    SignedIn(Box<SessionRecord>),
    /// The reset code was right: a new password is next.
    NeedsNewPassword,
    /// Nothing moved: why.
    NotVerified(CheckOutcome),
    /// The attempt is not at the step this call makes (complete, abandoned, or not yet verified).
    WrongState,
}

impl Store {
    /// Stores a new sign-in attempt for `identifier` (`user_id`: its account, if any).
    pub async fn create_sign_in_attempt(
        &self,
        id: &str,
        identifier: &str,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<SignInAttemptRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sign_in_attempts (id, status, identifier, user_id, abandon_at, created_at, updated_at) \
             VALUES ($1, 'needs_first_factor', $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(identifier)
        .bind(user_id)
        .bind(now + LIFETIME_MS)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(SignInAttemptRecord {
            id: id.to_owned(),
            status: SignInStatus::NeedsFirstFactor,
            identifier: identifier.to_owned(),
            user_id: user_id.map(str::to_owned),
            created_session_id: None,
            abandon_at: now + LIFETIME_MS,
        })
    }

    /// The attempt and its verification.
    pub async fn sign_in_attempt(
        &self,
        id: &str,
    ) -> Result<Option<(SignInAttemptRecord, Option<VerificationRecord>)>, StoreError> {
        let sql = concat!("SELECT ", attempt_columns!(), " FROM sign_in_attempts WHERE id = $1");
        let Some(attempt) = sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        Ok(Some((attempt, self.verification(id).await?)))
    }

    /// Prepares a first factor of an attempt waiting for one: stores `verification` and writes
    /// `email` on one transaction. `None` if the attempt is absent or not waiting for a first factor.
    pub async fn prepare_first_factor(
        &self,
        verification: &NewVerification,
        email: &NewEmail,
    ) -> Result<Option<(SignInAttemptRecord, VerificationRecord)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(attempt) = lock(&mut tx, &verification.owner_id, verification.now).await? else {
            return Ok(None);
        };
        if attempt.status != SignInStatus::NeedsFirstFactor {
            return Ok(None);
        }
        let stored = verifications::replace(&mut tx, verification).await?;
        emails::insert(&mut tx, email).await?;
        tx.commit().await?;
        Ok(Some((attempt, stored)))
    }

    /// A code for the attempt's prepared `strategy` (`email_code` or `reset_password_email_code`):
    /// counts the try and, when right, signs in (`email_code`: `start` is created) or moves on to the
    /// new password. The address is marked verified either way (the code proved it).
    pub async fn attempt_first_factor_code(
        &self,
        id: &str,
        strategy: Strategy,
        matches: &(dyn Fn(&str) -> bool + Sync),
        start: &SessionStart,
        now: i64,
    ) -> Result<Option<(SignInAttemptRecord, Step)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(mut attempt) = lock(&mut tx, id, now).await? else { return Ok(None) };
        if attempt.status != SignInStatus::NeedsFirstFactor {
            return Ok(Some((attempt, Step::WrongState)));
        }
        let outcome = verifications::check_code(&mut tx, id, &[strategy], now, matches).await?;
        let step = match (outcome, attempt.user_id.clone()) {
            (CheckOutcome::Verified, Some(user_id)) => {
                verify_address(&mut tx, &user_id, &attempt.identifier, strategy, now).await?;
                if strategy == Strategy::ResetPasswordEmailCode {
                    set_status(&mut tx, &mut attempt, SignInStatus::NeedsNewPassword, None, now).await?;
                    Step::NeedsNewPassword
                } else {
                    let session = start_session(&mut tx, start).await?;
                    set_status(&mut tx, &mut attempt, SignInStatus::Complete, Some(&session.id), now).await?;
                    verifications::complete(
                        &mut tx,
                        id,
                        strategy,
                        &attempt.identifier,
                        attempt.abandon_at,
                        now,
                    )
                    .await?;
                    Step::SignedIn(Box::new(session))
                }
            }
            // A code for an address without an account was never sent; a lucky guess is as wrong as
            // any other (what it counted stays counted).
            (CheckOutcome::Verified, None) => Step::NotVerified(CheckOutcome::Incorrect {
                attempts_left: Verification::MAX_ATTEMPTS.saturating_sub(attempts_of(&mut tx, id).await?),
            }),
            (other, _) => Step::NotVerified(other),
        };
        tx.commit().await?;
        Ok(Some((attempt, step)))
    }

    /// Completes an attempt whose email link was opened (the asking tab's poll): the first call after
    /// that signs in with `start`; later ones find it complete.
    pub async fn complete_sign_in_by_link(
        &self,
        id: &str,
        start: &SessionStart,
        now: i64,
    ) -> Result<Option<(SignInAttemptRecord, Step)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(mut attempt) = lock(&mut tx, id, now).await? else { return Ok(None) };
        let verified = match verifications::lock(&mut tx, id).await? {
            Some(v) => v.strategy == Strategy::EmailLink && v.status == VerificationStatus::Verified,
            None => false,
        };
        let (true, SignInStatus::NeedsFirstFactor, Some(user_id)) =
            (verified, attempt.status, attempt.user_id.clone())
        else {
            return Ok(Some((attempt, Step::WrongState)));
        };
        verify_address(&mut tx, &user_id, &attempt.identifier, Strategy::EmailLink, now).await?;
        let session = start_session(&mut tx, start).await?;
        set_status(&mut tx, &mut attempt, SignInStatus::Complete, Some(&session.id), now).await?;
        verifications::complete(
            &mut tx,
            id,
            Strategy::EmailLink,
            &attempt.identifier,
            attempt.abandon_at,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((attempt, Step::SignedIn(Box::new(session)))))
    }

    /// Completes an attempt waiting for a first factor whose password the caller has just checked.
    pub async fn complete_sign_in_by_password(
        &self,
        id: &str,
        start: &SessionStart,
        now: i64,
    ) -> Result<Option<(SignInAttemptRecord, Step)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(mut attempt) = lock(&mut tx, id, now).await? else { return Ok(None) };
        if attempt.status != SignInStatus::NeedsFirstFactor || attempt.user_id.is_none() {
            return Ok(Some((attempt, Step::WrongState)));
        }
        let session = start_session(&mut tx, start).await?;
        set_status(&mut tx, &mut attempt, SignInStatus::Complete, Some(&session.id), now).await?;
        verifications::complete(
            &mut tx,
            id,
            Strategy::Password,
            &attempt.identifier,
            attempt.abandon_at,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((attempt, Step::SignedIn(Box::new(session)))))
    }

    /// Sets the new password of an attempt whose reset code was right, revokes every active session
    /// of the user (their refresh tokens then answer `session_revoked`), and signs in with `start`.
    /// Returns the revoked sessions' count with the step.
    pub async fn reset_password(
        &self,
        id: &str,
        password_hash: &str,
        start: &SessionStart,
        now: i64,
    ) -> Result<Option<(SignInAttemptRecord, Step, usize)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(mut attempt) = lock(&mut tx, id, now).await? else { return Ok(None) };
        let (SignInStatus::NeedsNewPassword, Some(user_id)) = (attempt.status, attempt.user_id.clone())
        else {
            return Ok(Some((attempt, Step::WrongState, 0)));
        };
        let Some((_, revoked)) =
            set_password_in(&mut tx, &user_id, None, password_hash, SignOut::Everyone, now).await?
        else {
            return Ok(Some((attempt, Step::WrongState, 0)));
        };
        let session = start_session(&mut tx, start).await?;
        set_status(&mut tx, &mut attempt, SignInStatus::Complete, Some(&session.id), now).await?;
        verifications::complete(
            &mut tx,
            id,
            Strategy::ResetPasswordEmailCode,
            &attempt.identifier,
            attempt.abandon_at,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((attempt, Step::SignedIn(Box::new(session)), revoked)))
    }

    /// Deletes up to `limit` sign-in attempts abandoned or completed before `cutoff`.
    pub async fn purge_sign_in_attempts(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const OLD: Sql = super::dialect::skip_locked!(
            "DELETE FROM sign_in_attempts WHERE id IN (",
            "SELECT a.id FROM sign_in_attempts a WHERE a.abandon_at < $1 LIMIT $2",
            of "a",
            ")"
        );
        self.purge(&[OLD], cutoff, limit).await
    }
}

/// The attempt, locked until `tx` ends; `None` if absent or abandoned at `now`.
async fn lock(tx: &mut WriteTx, id: &str, now: i64) -> Result<Option<SignInAttemptRecord>, StoreError> {
    let sql = LOCK.get(tx.engine());
    let attempt: Option<SignInAttemptRecord> = sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await?;
    Ok(attempt.filter(|a| !a.abandoned(now)))
}

async fn attempts_of(tx: &mut WriteTx, owner_id: &str) -> Result<u32, StoreError> {
    let n: Option<i64> = sqlx::query_scalar("SELECT attempts FROM verifications WHERE owner_id = $1")
        .bind(owner_id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(n.and_then(|n| u32::try_from(n).ok()).unwrap_or(Verification::MAX_ATTEMPTS))
}

async fn set_status(
    tx: &mut WriteTx,
    attempt: &mut SignInAttemptRecord,
    status: SignInStatus,
    session_id: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sign_in_attempts SET status = $1, created_session_id = COALESCE($2, created_session_id), \
         updated_at = $3 WHERE id = $4",
    )
    .bind(status.as_str())
    .bind(session_id)
    .bind(now)
    .bind(&attempt.id)
    .execute(tx.conn())
    .await?;
    attempt.status = status;
    if let Some(id) = session_id {
        attempt.created_session_id = Some(id.to_owned());
    }
    Ok(())
}

/// Starts a session inside `tx` (and records the sign-in time), as `Store::create_session` does.
async fn start_session(tx: &mut WriteTx, start: &SessionStart) -> Result<SessionRecord, StoreError> {
    let session = sessions::insert(tx, &start.session, &start.token_hash).await?;
    sqlx::query("UPDATE users SET last_sign_in_at = $1, updated_at = $1 WHERE id = $2")
        .bind(start.session.now)
        .bind(&start.session.user_id)
        .execute(tx.conn())
        .await?;
    Ok(session)
}

/// The code or link went to the user's address `email` (the attempt's identifier: the primary one or
/// another, which may have been primary when it was not verified) and came back: it is theirs.
async fn verify_address(
    tx: &mut WriteTx,
    user_id: &str,
    email: &str,
    by: Strategy,
    now: i64,
) -> Result<(), StoreError> {
    let by = match by {
        Strategy::ResetPasswordEmailCode => Strategy::EmailCode,
        other => other,
    };
    sqlx::query(
        "UPDATE email_addresses SET verified_at = $1, verification_strategy = $2 WHERE verified_at IS NULL \
         AND user_id = $3 AND email_address = $4",
    )
    .bind(now)
    .bind(by.as_str())
    .bind(user_id)
    .bind(email)
    .execute(tx.conn())
    .await?;
    Ok(())
}

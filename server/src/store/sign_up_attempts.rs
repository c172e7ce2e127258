//! Sign-up attempts (`sua_…`): a sign-up that must verify its email address before the user exists.
//! Created by `POST …/sign_ups`, sent a code or link by `prepare_verification` (the verification and
//! its email on one transaction), completed — the user, their verified address and the first session
//! created on the same transaction as the verification that allows it — by a right code, or by the
//! asking tab's first poll after the link was opened. Given up at `abandon_at` (purged later).

use hallpass_protocol::{SignUpAttempt, SignUpStatus, SignUpVerifications, Strategy};

use super::dialect::{Sql, locked};
use super::emails::{self, NewEmail};
use super::sessions::{NewSession, SessionRecord};
use super::users::{self, CreateUserError, NewUser, UserRecord};
use super::verifications::{self, CheckOutcome, NewVerification, VerificationRecord};
use super::{Store, StoreError};

/// How long a sign-up may take (24 h, as Clerk's).
pub const LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// A sign-up attempt to create.
pub struct NewSignUpAttempt {
    pub id: String,
    pub email_address: String,
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsafe_metadata: hallpass_protocol::Metadata,
    pub now: i64,
}

/// A sign-up attempt as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct SignUpAttemptRecord {
    pub id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: SignUpStatus,
    pub email_address: String,
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub unsafe_metadata: hallpass_protocol::Metadata,
    pub created_user_id: Option<String>,
    pub created_session_id: Option<String>,
    pub abandon_at: i64,
}

impl std::fmt::Debug for SignUpAttemptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpAttemptRecord").field("id", &self.id).finish_non_exhaustive()
    }
}

impl SignUpAttemptRecord {
    /// Past `abandon_at` without completing.
    pub fn abandoned(&self, now: i64) -> bool {
        self.status != SignUpStatus::Complete && now >= self.abandon_at
    }

    /// The attempt as clients see it at `now`, with its verification.
    pub fn to_wire(&self, verification: Option<&VerificationRecord>, now: i64) -> SignUpAttempt {
        let complete = self.status == SignUpStatus::Complete;
        SignUpAttempt {
            object: "sign_up_attempt".into(),
            id: self.id.clone(),
            status: if self.abandoned(now) { SignUpStatus::Abandoned } else { self.status },
            email_address: self.email_address.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            unsafe_metadata: self.unsafe_metadata.clone(),
            password_enabled: self.password_hash.is_some(),
            required_fields: vec!["email_address".into()],
            missing_fields: Vec::new(),
            unverified_fields: if complete { Vec::new() } else { vec!["email_address".into()] },
            verifications: SignUpVerifications { email_address: verification.map(|v| v.to_wire(now)) },
            created_user_id: self.created_user_id.clone(),
            created_session_id: self.created_session_id.clone(),
            abandon_at: self.abandon_at,
        }
    }
}

macro_rules! attempt_columns {
    () => {
        "id, status, email_address, password_hash, first_name, last_name, unsafe_metadata, created_user_id, \
         created_session_id, abandon_at"
    };
}

const LOCK: Sql = locked!(concat!("SELECT ", attempt_columns!(), " FROM sign_up_attempts WHERE id = $1"));

/// What completing a sign-up came to.
pub enum Completion {
    /// The user and session were created (this call did it).
    Created(Box<(UserRecord, SessionRecord)>),
    /// Not (yet): the verification's state says why.
    NotVerified(CheckOutcome),
    /// Someone signed up with the address meanwhile.
    EmailTaken,
}

/// The user and the first session a completing sign-up creates (ids made by the caller).
pub struct Creation {
    pub user_id: String,
    pub email_id: String,
    pub session: NewSession,
    pub token_hash: String,
}

impl Store {
    /// Stores a new sign-up attempt.
    pub async fn create_sign_up_attempt(
        &self,
        a: &NewSignUpAttempt,
    ) -> Result<SignUpAttemptRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sign_up_attempts (id, status, email_address, password_hash, first_name, last_name, \
             unsafe_metadata, abandon_at, created_at, updated_at) \
             VALUES ($1, 'missing_requirements', $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&a.id)
        .bind(&a.email_address)
        .bind(&a.password_hash)
        .bind(&a.first_name)
        .bind(&a.last_name)
        .bind(super::columns::json(&a.unsafe_metadata))
        .bind(a.now + LIFETIME_MS)
        .bind(a.now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(SignUpAttemptRecord {
            id: a.id.clone(),
            status: SignUpStatus::MissingRequirements,
            email_address: a.email_address.clone(),
            password_hash: a.password_hash.clone(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            unsafe_metadata: a.unsafe_metadata.clone(),
            created_user_id: None,
            created_session_id: None,
            abandon_at: a.now + LIFETIME_MS,
        })
    }

    /// The attempt and its verification.
    pub async fn sign_up_attempt(
        &self,
        id: &str,
    ) -> Result<Option<(SignUpAttemptRecord, Option<VerificationRecord>)>, StoreError> {
        let sql = concat!("SELECT ", attempt_columns!(), " FROM sign_up_attempts WHERE id = $1");
        let Some(attempt) = sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        Ok(Some((attempt, self.verification(id).await?)))
    }

    /// Sends a verification for a pending attempt: stores `verification` and writes `email`, on one
    /// transaction. `None` if the attempt is not pending any more (complete or abandoned) or absent.
    pub async fn prepare_sign_up_verification(
        &self,
        verification: &NewVerification,
        email: &NewEmail,
    ) -> Result<Option<(SignUpAttemptRecord, VerificationRecord)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let sql = LOCK.get(tx.engine());
        let attempt: Option<SignUpAttemptRecord> =
            sqlx::query_as(sql).bind(&verification.owner_id).fetch_optional(tx.conn()).await?;
        let Some(attempt) = attempt
            .filter(|a| a.status == SignUpStatus::MissingRequirements && !a.abandoned(verification.now))
        else {
            return Ok(None);
        };
        let stored = verifications::replace(&mut tx, verification).await?;
        emails::insert(&mut tx, email).await?;
        tx.commit().await?;
        Ok(Some((attempt, stored)))
    }

    /// Completes a pending sign-up whose verification `check` accepts — a code checked now (`check`
    /// counts the try, see [`verifications::check_code`]), or a link opened earlier — creating the user
    /// (their address verified by the verification's strategy) and the first session. A wrong code's
    /// try is committed; a completed sign-up and its verification commit together.
    pub async fn complete_sign_up(
        &self,
        id: &str,
        code: Option<&(dyn Fn(&str) -> bool + Sync)>,
        creation: &Creation,
        now: i64,
    ) -> Result<Option<(SignUpAttemptRecord, Completion)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let sql = LOCK.get(tx.engine());
        let attempt: Option<SignUpAttemptRecord> =
            sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await?;
        let Some(mut attempt) = attempt else { return Ok(None) };
        if attempt.status != SignUpStatus::MissingRequirements || attempt.abandoned(now) {
            return Ok(Some((attempt, Completion::NotVerified(CheckOutcome::Missing))));
        }
        let (outcome, strategy) = match code {
            Some(matches) => {
                let outcome =
                    verifications::check_code(&mut tx, id, &[Strategy::EmailCode], now, matches).await?;
                (outcome, Strategy::EmailCode)
            }
            None => match verifications::lock(&mut tx, id).await? {
                Some(v) if v.strategy == Strategy::EmailLink && v.verified_at.is_some() => {
                    (CheckOutcome::Verified, Strategy::EmailLink)
                }
                _ => (CheckOutcome::Missing, Strategy::EmailLink),
            },
        };
        if outcome != CheckOutcome::Verified {
            tx.commit().await?;
            return Ok(Some((attempt, Completion::NotVerified(outcome))));
        }
        let user = NewUser {
            id: creation.user_id.clone(),
            email_id: creation.email_id.clone(),
            email: attempt.email_address.clone(),
            password_hash: attempt.password_hash.clone(),
            email_verified_by: Some(strategy),
            first_name: attempt.first_name.clone(),
            last_name: attempt.last_name.clone(),
            unsafe_metadata: attempt.unsafe_metadata.clone(),
            now,
        };
        let created = match users::create_in(&mut tx, &user, &creation.session, &creation.token_hash).await {
            Ok(created) => created,
            Err(CreateUserError::EmailTaken) => {
                drop(tx);
                return Ok(Some((attempt, Completion::EmailTaken)));
            }
            Err(CreateUserError::Store(e)) => return Err(e),
        };
        sqlx::query(
            "UPDATE sign_up_attempts SET status = 'complete', created_user_id = $1, created_session_id = $2, \
             password_hash = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(&created.0.id)
        .bind(&created.1.id)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        verifications::complete(&mut tx, id, strategy, &attempt.email_address, attempt.abandon_at, now)
            .await?;
        tx.commit().await?;
        attempt.status = SignUpStatus::Complete;
        attempt.created_user_id = Some(created.0.id.clone());
        attempt.created_session_id = Some(created.1.id.clone());
        Ok(Some((attempt, Completion::Created(Box::new(created)))))
    }

    /// Deletes up to `limit` sign-up attempts abandoned or completed before `cutoff`.
    pub async fn purge_sign_up_attempts(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const OLD: Sql = super::dialect::skip_locked!(
            "DELETE FROM sign_up_attempts WHERE id IN (",
            "SELECT a.id FROM sign_up_attempts a WHERE a.abandon_at < $1 LIMIT $2",
            of "a",
            ")"
        );
        self.purge(&[OLD], cutoff, limit).await
    }
}

//! Users and their email addresses: sign-up (with the first session), lookups, the Backend API's list,
//! edits (names, metadata, which verified address is primary) and deletion. Email addresses are unique through the database's index, so two
//! concurrent sign-ups with one address cannot both succeed.
//!
//! Events ([`super::outbox`]): `user.created` (then `session.created`) at sign-up, `user.updated` at
//! every edit, and at deletion `organizationMembership.deleted` for each of their memberships,
//! `session.removed` for each live session, then `user.deleted`. The
//! user's `data` is the Backend API's (with `private_metadata`, as Clerk's webhooks carry it).

use hallpass_protocol::{
    DeletedObject, EmailAddress, EventType, Metadata, SessionStatus, Strategy, User, Verification,
    VerificationStatus,
};

use super::columns::json;
use super::dialect::{locked, takes_row_locks};
use super::sessions::{self, NewSession, SessionRecord};
use super::{Store, StoreError, WriteTx};

/// A user as stored, with their primary email address (with the password hash and private metadata:
/// never serialise this directly).
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub image_url: String,
    pub password_hash: Option<String>,
    #[sqlx(rename = "primary_email_address_id")]
    pub email_id: Option<String>,
    #[sqlx(rename = "email_address")]
    pub email: Option<String>,
    /// When the primary address was verified (`None`: it is not).
    pub email_verified_at: Option<i64>,
    #[sqlx(try_from = "super::columns::NullableNameText")]
    pub email_verification_strategy: Option<Strategy>,
    /// How many addresses the user has (the others are read only when there are any).
    pub email_count: i64,
    /// The user's addresses other than the primary one, oldest first.
    #[sqlx(skip)]
    pub other_emails: Vec<AddressRow>,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub public_metadata: Metadata,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub private_metadata: Metadata,
    #[sqlx(try_from = "super::columns::JsonText")]
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

/// One email address of a user, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AddressRow {
    pub id: String,
    pub email_address: String,
    pub verified_at: Option<i64>,
    #[sqlx(try_from = "super::columns::NullableNameText")]
    pub verification_strategy: Option<Strategy>,
}

impl AddressRow {
    pub fn to_wire(&self) -> EmailAddress {
        email_address(&self.id, &self.email_address, self.verified_at, self.verification_strategy)
    }
}

/// An address on the wire: verified ones carry their verification.
pub fn email_address(
    id: &str,
    email: &str,
    verified_at: Option<i64>,
    strategy: Option<Strategy>,
) -> EmailAddress {
    EmailAddress {
        object: "email_address".into(),
        id: id.to_owned(),
        email_address: email.to_owned(),
        verification: verified_at.map(|at| Verification {
            object: "verification".into(),
            status: VerificationStatus::Verified,
            strategy: strategy.unwrap_or(Strategy::EmailCode),
            attempts: 0,
            expire_at: at,
        }),
    }
}

impl UserRecord {
    /// Whether the primary address is verified.
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// The user as the browser sees it: no `private_metadata`.
    pub fn to_frontend(&self) -> User {
        let mut email_addresses = match (&self.email_id, &self.email) {
            (Some(id), Some(email)) => {
                vec![email_address(id, email, self.email_verified_at, self.email_verification_strategy)]
            }
            _ => Vec::new(),
        };
        email_addresses.extend(self.other_emails.iter().map(AddressRow::to_wire));
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

/// A user to create at sign-up.
pub struct NewUser {
    pub id: String,
    pub email_id: String,
    pub email: String,
    /// `None`: a passwordless account (it signs in by email code or link).
    pub password_hash: Option<String>,
    /// How the address was verified at sign-up (`None`: it was not).
    pub email_verified_by: Option<Strategy>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsafe_metadata: Metadata,
    pub now: i64,
}

/// Sign-up could not create the user.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("email address already taken")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The columns of a [`UserRecord`], from `users u` and `email_addresses e`.
macro_rules! user_columns {
    () => {
        "u.id, u.first_name, u.last_name, u.image_url, u.password_hash, u.primary_email_address_id, \
         e.email_address, e.verified_at AS email_verified_at, e.verification_strategy AS email_verification_strategy, \
         (SELECT COUNT(*) FROM email_addresses x WHERE x.user_id = u.id) AS email_count, \
         u.public_metadata, u.private_metadata, u.unsafe_metadata, u.last_sign_in_at, u.created_at, u.updated_at"
    };
}

/// `SELECT <a user with their primary address> …` and then `$rest`.
macro_rules! select_user {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id ",
            $rest
        )
    };
}

const USER_BY_ID: &str = select_user!("WHERE u.id = $1");

impl Store {
    pub async fn email_exists(&self, email: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM email_addresses WHERE email_address = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Creates a user, their email address, a session and its first refresh token, atomically.
    /// A taken address (the unique index decides, so concurrent sign-ups are safe) rolls back all.
    pub async fn create_user_with_session(
        &self,
        user: &NewUser,
        session: &NewSession,
        token_hash: &str,
    ) -> Result<(UserRecord, SessionRecord), CreateUserError> {
        let mut tx = self.write_tx().await?;
        let created = create_in(&mut tx, user, session, token_hash).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(created)
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let user = sqlx::query_as(USER_BY_ID).bind(id).fetch_optional(&self.pool).await?;
        self.with_other_emails(user).await
    }

    /// The users with these ids (those that exist), in one query.
    pub async fn users_by_ids(&self, ids: &[&str]) -> Result<Vec<UserRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        // Only placeholders are spliced in: the values are bound.
        let sql = format!(concat!(select_user!("WHERE u.id IN ({})")), placeholders.join(", "));
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let found: Vec<UserRecord> = query.fetch_all(&self.pool).await?;
        let mut users = Vec::with_capacity(found.len());
        for user in found {
            users.extend(self.with_other_emails(Some(user)).await?);
        }
        Ok(users)
    }

    /// `user` with the addresses besides the primary one, read only when it has any.
    async fn with_other_emails(&self, user: Option<UserRecord>) -> Result<Option<UserRecord>, StoreError> {
        let Some(mut user) = user else { return Ok(None) };
        if user.email_count > 1 {
            user.other_emails = other_emails(&self.pool, &user).await?;
        }
        Ok(Some(user))
    }

    /// The user who has `email` (any of their addresses).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        const SQL: &str =
            select_user!("WHERE u.id = (SELECT user_id FROM email_addresses WHERE email_address = $1)");
        let user = sqlx::query_as(SQL).bind(email).fetch_optional(&self.pool).await?;
        self.with_other_emails(user).await
    }

    /// A page of users, newest first, and the total count.
    pub async fn list_users(&self, limit: i64, offset: i64) -> Result<(Vec<UserRecord>, i64), StoreError> {
        let page: Vec<UserRecord> =
            sqlx::query_as(select_user!("ORDER BY u.created_at DESC, u.id LIMIT $1 OFFSET $2"))
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
        let mut users = Vec::with_capacity(page.len());
        for user in page {
            users.extend(self.with_other_emails(Some(user)).await?);
        }
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok((users, total))
    }

    /// Deletes a user with their email addresses, sessions and refresh tokens (the foreign keys
    /// cascade), at `now`. `false` if absent.
    pub async fn delete_user(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        const DELETE_SESSIONS: &str = concat!(
            "DELETE FROM sessions WHERE user_id = $1 RETURNING ",
            super::sessions::session_columns!()
        );
        let mut tx = self.write_tx().await?;
        // What the cascade will take, for its events.
        let memberships = self.memberships_of_user_in(&mut tx, id, now).await?;
        // Sessions first, then the user: the order rotation and sign-out lock in (a session, then
        // its tokens), so a refresh racing the deletion waits instead of deadlocking. On PostgreSQL
        // they are locked in id order first, the order a group of rotations locks its sessions in.
        if takes_row_locks(tx.engine()) {
            sqlx::query("SELECT id FROM sessions WHERE user_id = $1 ORDER BY id FOR UPDATE")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        let deleted: Vec<SessionRecord> =
            sqlx::query_as(DELETE_SESSIONS).bind(id).fetch_all(tx.conn()).await?;
        let n =
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(tx.conn()).await?.rows_affected();
        if n == 0 {
            return Ok(false);
        }
        for mut membership in memberships {
            membership.organization.members_count -= 1;
            tx.emit(EventType::OrganizationMembershipDeleted, &membership.to_backend(), now)?;
        }
        for mut session in deleted {
            if session.status == SessionStatus::Active && !session.is_past_deadline(now) {
                session.status = SessionStatus::Removed;
                session.updated_at = now;
                sessions::emit_status(&mut tx, &session, now)?;
            }
        }
        let gone = DeletedObject { object: "user".into(), id: id.to_owned(), deleted: true };
        tx.emit(EventType::UserDeleted, &gone, now)?;
        tx.commit().await?;
        Ok(true)
    }

    /// Read-modify-write of a user's names, metadata and primary address in one write transaction,
    /// the user's row locked meanwhile (concurrent edits queue, none is lost). `edit` gets the current
    /// record and changes it, or refuses with `Err` (then nothing is written); `primary`, when given,
    /// is the address to make primary — one of the user's, verified, else `Err(PrimaryRefused)`
    /// (nothing written either). `Ok(None)` if the user does not exist.
    ///
    /// The new primary's row is read, not locked, after the user's: whoever removes or verifies an
    /// address locks it and then the user's row ([`super::email_addresses`]), so the two queue on the
    /// user's row, never in a cycle — a removal that went first leaves no address to find here, and
    /// one that comes after reads the new primary and refuses.
    pub async fn update_user<E>(
        &self,
        id: &str,
        primary: Option<&str>,
        now: i64,
        edit: impl FnOnce(&mut UserRecord) -> Result<(), E>,
    ) -> Result<Result<Option<UserRecord>, E>, StoreError>
    where
        E: From<PrimaryRefused>,
    {
        const LOCK_USER: super::dialect::Sql = locked!(select_user!("WHERE u.id = $1"), of "u");
        let mut tx = self.write_tx().await?;
        let sql = LOCK_USER.get(tx.engine());
        let Some(mut user): Option<UserRecord> =
            sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await?
        else {
            return Ok(Ok(None));
        };
        if let Some(address) = primary.filter(|a| user.email_id.as_deref() != Some(*a)) {
            match primary_candidate(&mut tx, id, address).await? {
                Ok(row) => {
                    user.email_id = Some(row.id);
                    user.email = Some(row.email_address);
                    user.email_verified_at = row.verified_at;
                    user.email_verification_strategy = row.verification_strategy;
                }
                Err(refused) => return Ok(Err(refused.into())),
            }
        }
        if let Err(e) = edit(&mut user) {
            return Ok(Err(e));
        }
        if user.email_count > 1 {
            user.other_emails = other_emails(tx.conn(), &user).await?;
        }
        user.updated_at = now;
        sqlx::query(
            "UPDATE users SET first_name = $1, last_name = $2, public_metadata = $3, private_metadata = $4, \
             unsafe_metadata = $5, primary_email_address_id = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(json(&user.public_metadata))
        .bind(json(&user.private_metadata))
        .bind(json(&user.unsafe_metadata))
        .bind(&user.email_id)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.emit(EventType::UserUpdated, &user.to_backend(), now)?;
        tx.commit().await?;
        Ok(Ok(Some(user)))
    }
}

/// Why an address cannot become the user's primary one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimaryRefused {
    /// The user has no address with that id (another user's is not theirs either).
    NotFound,
    /// It is theirs but not verified (an unverified one, or one added and still pending).
    NotVerified,
}

/// The user's address `address`, if it may become their primary one (inside `tx`, the user's row
/// locked).
async fn primary_candidate(
    tx: &mut WriteTx,
    user_id: &str,
    address: &str,
) -> Result<Result<AddressRow, PrimaryRefused>, StoreError> {
    let row: Option<AddressRow> = sqlx::query_as(
        "SELECT id, email_address, verified_at, verification_strategy FROM email_addresses \
         WHERE id = $1 AND user_id = $2",
    )
    .bind(address)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(row) if row.verified_at.is_some() => Ok(row),
        Some(_) => Err(PrimaryRefused::NotVerified),
        None => {
            let pending: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM pending_email_addresses WHERE id = $1 AND user_id = $2")
                    .bind(address)
                    .bind(user_id)
                    .fetch_optional(tx.conn())
                    .await?;
            Err(if pending.is_some() { PrimaryRefused::NotVerified } else { PrimaryRefused::NotFound })
        }
    })
}

/// Whose sessions a new password ends (revokes).
#[derive(Clone, Copy, Debug)]
pub enum SignOut<'a> {
    /// None: the sessions stay.
    Nobody,
    /// Every session but this one (the one that changed it).
    AllBut(&'a str),
    /// Every session (a reset, whose own session is started after).
    Everyone,
}

impl Store {
    /// Sets the password of `user_id` — if its hash is still `expected` (the one the caller checked
    /// the current password against; `None`: the user had none), so of two concurrent changes
    /// verified against the same password only the first is made — and revokes the sessions
    /// `sign_out` names. `None` when the user is gone or their password changed meanwhile (nothing
    /// is written then); else the user and how many sessions were revoked.
    pub async fn change_password(
        &self,
        user_id: &str,
        expected: Option<&str>,
        new_hash: &str,
        sign_out: SignOut<'_>,
        now: i64,
    ) -> Result<Option<(UserRecord, usize)>, StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = set_password_in(&mut tx, user_id, Some(expected), new_hash, sign_out, now).await?;
        if changed.is_some() {
            tx.commit().await?;
        }
        Ok(changed)
    }
}

/// [`Store::change_password`] inside `tx` (the reset's transaction too, with `expected` `None`:
/// whatever the password was, the reset code proved the address): sessions first, then the
/// user — the order every writer takes them in; on PostgreSQL the sessions locked in id order, as
/// a group of rotations locks them. Emits `session.revoked` for each and `user.updated`. On `None`
/// the caller must not commit (some sessions may already be revoked in `tx`).
pub(super) async fn set_password_in(
    tx: &mut WriteTx,
    user_id: &str,
    expected: Option<Option<&str>>,
    new_hash: &str,
    sign_out: SignOut<'_>,
    now: i64,
) -> Result<Option<(UserRecord, usize)>, StoreError> {
    const REVOKE: &str = concat!(
        "UPDATE sessions SET status = 'revoked', updated_at = $1 WHERE user_id = $2 AND status = 'active' \
         AND id <> $3 RETURNING ",
        super::sessions::session_columns!()
    );
    let keep = match sign_out {
        SignOut::Nobody => None,
        SignOut::AllBut(id) => Some(id),
        SignOut::Everyone => Some(""),
    };
    let mut revoked = 0;
    if let Some(keep) = keep {
        if takes_row_locks(tx.engine()) {
            sqlx::query(
                "SELECT id FROM sessions WHERE user_id = $1 AND status = 'active' ORDER BY id FOR UPDATE",
            )
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        }
        let sessions: Vec<SessionRecord> =
            sqlx::query_as(REVOKE).bind(now).bind(user_id).bind(keep).fetch_all(tx.conn()).await?;
        for session in &sessions {
            sessions::emit_status(tx, session, now)?;
        }
        revoked = sessions.len();
    }
    let n = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 \
         AND ($4 = 0 OR password_hash IS NOT DISTINCT FROM $5)",
    )
    .bind(new_hash)
    .bind(now)
    .bind(user_id)
    .bind(i64::from(expected.is_some()))
    .bind(expected.flatten())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(None);
    }
    let Some(user) = read_in(tx, user_id).await? else { return Ok(None) };
    tx.emit(EventType::UserUpdated, &user.to_backend(), now)?;
    Ok(Some((user, revoked)))
}

/// The user's addresses other than the primary one, oldest first.
pub(super) async fn other_emails<'c, E>(conn: E, user: &UserRecord) -> Result<Vec<AddressRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query_as(
        "SELECT id, email_address, verified_at, verification_strategy FROM email_addresses \
         WHERE user_id = $1 AND id <> $2 ORDER BY created_at, id",
    )
    .bind(&user.id)
    .bind(user.email_id.as_deref().unwrap_or_default())
    .fetch_all(conn)
    .await?)
}

/// The user `id` as stored, read inside `tx` (with all their addresses).
pub(super) async fn read_in(tx: &mut WriteTx, id: &str) -> Result<Option<UserRecord>, StoreError> {
    let Some(mut user): Option<UserRecord> =
        sqlx::query_as(USER_BY_ID).bind(id).fetch_optional(tx.conn()).await?
    else {
        return Ok(None);
    };
    if user.email_count > 1 {
        user.other_emails = other_emails(tx.conn(), &user).await?;
    }
    Ok(Some(user))
}

/// Creates a user, their (primary) email address, a session and its first refresh token inside
/// `tx`; emits `user.created` and `session.created`. A taken address is `EmailTaken` (roll back).
pub(super) async fn create_in(
    tx: &mut WriteTx,
    user: &NewUser,
    session: &NewSession,
    token_hash: &str,
) -> Result<(UserRecord, SessionRecord), CreateUserError> {
    insert(tx, user).await?;
    let verified_at = user.email_verified_by.map(|_| user.now);
    let res = sqlx::query(
        "INSERT INTO email_addresses (id, user_id, email_address, created_at, verified_at, verification_strategy) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.email_id)
    .bind(&user.id)
    .bind(&user.email)
    .bind(user.now)
    .bind(verified_at)
    .bind(user.email_verified_by.map(|s| s.as_str()))
    .execute(tx.conn())
    .await;
    match res {
        Ok(_) => {}
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Err(CreateUserError::EmailTaken),
        Err(e) => return Err(CreateUserError::Store(e.into())),
    }
    let created: UserRecord =
        sqlx::query_as(USER_BY_ID).bind(&user.id).fetch_one(tx.conn()).await.map_err(StoreError::from)?;
    tx.emit(EventType::UserCreated, &created.to_backend(), user.now)?;
    let session = sessions::insert(tx, session, token_hash).await?;
    Ok((created, session))
}

/// Inserts the user row (their email address is the caller's next statement).
async fn insert(tx: &mut WriteTx, user: &NewUser) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, first_name, last_name, password_hash, primary_email_address_id, unsafe_metadata, \
         last_sign_in_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)",
    )
    .bind(&user.id)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.password_hash)
    .bind(&user.email_id)
    .bind(json(&user.unsafe_metadata))
    .bind(user.now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

-- Email verification, passwordless sign-in and password reset (src/store/verifications.rs,
-- sign_up_attempts.rs, sign_in_attempts.rs, email_addresses.rs) and the outgoing mail queue
-- (src/store/emails.rs). Portable SQL, as every other version.

-- When (and how) an address was verified; NULL: not verified (addresses from before this version
-- were never verified).
ALTER TABLE email_addresses ADD COLUMN verified_at BIGINT;
ALTER TABLE email_addresses ADD COLUMN verification_strategy TEXT;

-- Addresses a user added and has not verified yet. Not theirs until verified: not unique (nobody can
-- block an address by adding it), not a sign-in identifier. Verifying moves the row to email_addresses
-- with the same id.
CREATE TABLE pending_email_addresses (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX pending_email_addresses_user_id ON pending_email_addresses (user_id);

-- Sign-ups waiting for their email address to be verified (sua_…).
CREATE TABLE sign_up_attempts (
    id                 TEXT PRIMARY KEY,
    -- missing_requirements | complete
    status             TEXT NOT NULL,
    email_address      TEXT NOT NULL,
    password_hash      TEXT,
    first_name         TEXT,
    last_name          TEXT,
    unsafe_metadata    TEXT NOT NULL DEFAULT '{}',
    created_user_id    TEXT,
    created_session_id TEXT,
    abandon_at         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX sign_up_attempts_abandon_at ON sign_up_attempts (abandon_at);

-- Sign-ins waiting for a first factor (sia_…). user_id is NULL for an address without an account:
-- the attempt exists and answers all the same (no enumeration).
CREATE TABLE sign_in_attempts (
    id                 TEXT PRIMARY KEY,
    -- needs_first_factor | needs_new_password | complete
    status             TEXT NOT NULL,
    identifier         TEXT NOT NULL,
    user_id            TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_session_id TEXT,
    abandon_at         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_abandon_at ON sign_in_attempts (abandon_at);
CREATE INDEX sign_in_attempts_user_id ON sign_in_attempts (user_id);

-- The live code or link of an attempt or a pending address (its owner: sua_…, sia_…, idn_…): one per
-- owner, replaced by the next prepare. Codes as HMACs, links as SHA-256 of their token.
CREATE TABLE verifications (
    owner_id      TEXT PRIMARY KEY,
    -- email_code | email_link | reset_password_email_code | password
    strategy      TEXT NOT NULL,
    code_hash     TEXT,
    link_hash     TEXT UNIQUE,
    redirect_url  TEXT,
    email_address TEXT NOT NULL,
    -- unverified | verified | failed (expired: past expire_at)
    status        TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    expire_at     BIGINT NOT NULL,
    verified_at   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX verifications_expire_at ON verifications (expire_at);

-- Every email written: the queue the mail worker sends from, the development mailbox, and what the
-- operator sees of failures.
CREATE TABLE emails (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL,
    from_email_name       TEXT NOT NULL,
    to_email_address      TEXT NOT NULL,
    email_address_id      TEXT,
    user_id               TEXT,
    subject               TEXT NOT NULL,
    body_html             TEXT NOT NULL,
    body_text             TEXT NOT NULL,
    -- JSON: what the template was filled with
    data                  TEXT NOT NULL,
    -- queued | sent | failed | development | app | suppressed
    status                TEXT NOT NULL,
    delivered_by_hallpass BIGINT NOT NULL,
    attempts              BIGINT NOT NULL,
    last_error            TEXT,
    next_attempt_at       BIGINT,
    -- the mail worker sending it, until when (a lease, as webhook endpoints have)
    lease_owner           TEXT,
    lease_expires_at      BIGINT,
    sent_at               BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX emails_created_at ON emails (created_at);
CREATE INDEX emails_to ON emails (to_email_address);

-- Hallpass schema v1. Portable SQL (SQLite today, PostgreSQL next): TEXT, BIGINT, no AUTOINCREMENT,
-- timestamps are integer milliseconds since the epoch, JSON kept as TEXT.

-- Per-instance secrets generated on first start: the Backend API secret key and the key refresh-token
-- successors are derived with.
CREATE TABLE instance_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- JWT signing keys (PKCS#8 DER, base64). The newest unretired key signs; all of them verify.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

CREATE TABLE users (
    id                       TEXT PRIMARY KEY,
    first_name               TEXT,
    last_name                TEXT,
    image_url                TEXT NOT NULL DEFAULT '',
    password_hash            TEXT,
    primary_email_address_id TEXT,
    public_metadata          TEXT NOT NULL DEFAULT '{}',
    private_metadata         TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata          TEXT NOT NULL DEFAULT '{}',
    last_sign_in_at          BIGINT,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);

CREATE TABLE email_addresses (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- normalised: trimmed, lower-case
    email_address TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX email_addresses_user_id ON email_addresses (user_id);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    last_active_at BIGINT NOT NULL,
    expire_at      BIGINT NOT NULL,
    abandon_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- One row per refresh token ever issued; a session is one token family. Only hashes are stored.
CREATE TABLE refresh_tokens (
    token_hash     TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    -- set when the token is rotated; NULL while it is the family's live token
    used_at        BIGINT,
    successor_hash TEXT
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

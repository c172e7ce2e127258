-- JWT templates: named claim sets (with Clerk shortcodes) that the Frontend API mints tokens from.
CREATE TABLE jwt_templates (
    id                 TEXT PRIMARY KEY,
    -- 1 to 64 of [A-Za-z0-9_-]; compared exactly (case-sensitive)
    name               TEXT NOT NULL UNIQUE,
    -- a JSON object
    claims             TEXT NOT NULL,
    -- seconds
    lifetime           BIGINT NOT NULL,
    allowed_clock_skew BIGINT NOT NULL,
    -- RS256 | HS256 | HS384 | HS512
    signing_algorithm  TEXT NOT NULL,
    -- NULL: the instance's own key signs. Otherwise base64url of the PKCS#8 DER (RS256) or of the
    -- shared secret (HS*). Never returned by the API.
    signing_key        TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

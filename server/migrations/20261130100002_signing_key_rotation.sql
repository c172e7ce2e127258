-- Signing-key rotation (src/keyring.rs, src/key_rotation.rs). A key is in the JWKS from `created_at`
-- and signs from `active_from` (of the keys whose `active_from` has come, the newest signs). No token
-- it signs expires after `signed_until`: a lease the signing replica extends before it would sign past
-- it. Once a newer key signs and `signed_until` plus the clock skew has passed, the key is retired
-- (`retired_at`, its private key erased) and leaves the JWKS.
ALTER TABLE signing_keys ADD COLUMN active_from BIGINT NOT NULL DEFAULT 0;
-- NULL: a key from before leases (it gets one covering what it may have signed, at the next start).
ALTER TABLE signing_keys ADD COLUMN signed_until BIGINT;
UPDATE signing_keys SET active_from = created_at;

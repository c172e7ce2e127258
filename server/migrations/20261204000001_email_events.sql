-- An email's `email.created` event is written after the request that wrote the email, by the
-- delivery worker (src/store/emails.rs): 1 until it is. An email to an address without an account
-- (`suppressed`) is the same row with 0, so a request for an unknown address does exactly the work of
-- a known one (no enumeration by timing). Emails written before this version had their event.
ALTER TABLE emails ADD COLUMN event_pending BIGINT NOT NULL DEFAULT 0;
CREATE INDEX emails_event_pending ON emails (created_at) WHERE event_pending = 1;

-- The device a session was started on, as its request showed it: the `User-Agent` header (truncated
-- to 512 bytes) and the client's address (`ClientAddr`: trusted proxies only). The profile's "Active
-- devices" shows them (`latest_activity`); the row goes with its session (and the user's, by cascade).
-- NULL for sessions started before this version, or without the header.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip_address TEXT;

-- Housekeeping (src/housekeeping.rs) deletes sessions some time after they end, in small batches; these
-- find them without scanning the table. A session is over at `expire_at` (idle deadline, never later
-- than `abandon_at`) or when its status leaves 'active' (`updated_at` is when).
CREATE INDEX sessions_expire_at ON sessions (expire_at);
CREATE INDEX sessions_ended ON sessions (updated_at) WHERE status <> 'active';

-- Rate-limit budgets shared by every replica on the database (src/store/rate_limits.rs): GCRA, one row per
-- key (a SHA-256 of it) holding its theoretical arrival time in ms. A row whose `tat` has passed is a
-- full budget, the same as no row; housekeeping deletes those through the index.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

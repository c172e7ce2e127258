-- Housekeeping deletes refresh tokens rotated more than a day ago (they count as unknown by then), in
-- small batches, instead of every rotation scanning its family for them; this finds them without
-- scanning the table.
CREATE INDEX refresh_tokens_rotated ON refresh_tokens (used_at) WHERE used_at IS NOT NULL;

-- Whether users may delete their own account (`DELETE /v1/client/me`), changed through the Backend
-- API; NULL: the flag (`--delete-self-enabled`) decides.
ALTER TABLE instance_settings ADD COLUMN delete_self_enabled BIGINT;

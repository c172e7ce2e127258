-- The sign-up and sign-in settings changed through the Backend API (`PATCH /v1/instance`): one row.
-- A NULL column is a setting never changed there, so the server's flag applies to it. `version` goes
-- up with every change; replicas re-read the row at most a second after their last read
-- (`crate::instance_settings`).
CREATE TABLE instance_settings (
    id                              BIGINT PRIMARY KEY CHECK (id = 1),
    instance_name                   TEXT,
    -- A JSON array of strategy names, in order of preference.
    first_factors                   TEXT,
    sign_up_requires_verified_email BIGINT,
    version                         BIGINT NOT NULL,
    updated_at                      BIGINT NOT NULL
);

INSERT INTO instance_settings (id, version, updated_at) VALUES (1, 0, 0);

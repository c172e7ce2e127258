-- Webhooks (src/store/outbox.rs, webhook_endpoints.rs, webhook_deliveries.rs): endpoints, the outbox of
-- events (each written in the transaction of the change it describes), one delivery row per (endpoint,
-- event), and every attempt. Booleans are 0/1 BIGINTs, as everywhere else portable.

CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    -- a JSON array of event types; NULL: every type (those added later too)
    event_types                TEXT,
    enabled                    BIGINT NOT NULL,
    -- manual | gone | failing; NULL while enabled
    disabled_reason            TEXT,
    -- whsec_<base64>
    secret                     TEXT NOT NULL,
    -- after a rotation, the previous secret signs beside the new one until it expires
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    -- the first failed attempt since the last success; NULL while deliveries succeed
    failing_since              BIGINT,
    -- the delivery worker that alone may deliver to it, until when (a lease; see webhook_deliveries.rs)
    lease_owner                TEXT,
    lease_expires_at           BIGINT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);

-- The last event sequence number handed out. Taken (UPDATE … RETURNING) as the last step of every
-- transaction that emits events and locked until it commits, so sequence order is commit order.
CREATE TABLE webhook_sequence (
    id   BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO webhook_sequence (id, last) VALUES (1, 0);

CREATE TABLE webhook_events (
    seq        BIGINT PRIMARY KEY,
    -- evt_…: the svix-id of every delivery of it
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    -- the JSON object of the envelope's `data`
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_created_at ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq       BIGINT NOT NULL REFERENCES webhook_events (seq) ON DELETE CASCADE,
    -- pending | succeeded | failed
    status          TEXT NOT NULL,
    -- attempts since it was queued (or queued again)
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, event_seq)
);
-- An endpoint's head of line: its pending delivery with the lowest sequence number.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event_seq ON webhook_deliveries (event_seq);

CREATE TABLE webhook_attempts (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL,
    event_seq        BIGINT NOT NULL,
    attempted_at     BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    -- NULL: no answer (refused, timed out, address not allowed)
    status_code      BIGINT,
    succeeded        BIGINT NOT NULL,
    response_excerpt TEXT NOT NULL,
    error            TEXT,
    FOREIGN KEY (endpoint_id, event_seq) REFERENCES webhook_deliveries (endpoint_id, event_seq) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (endpoint_id, event_seq);
CREATE INDEX webhook_attempts_endpoint_time ON webhook_attempts (endpoint_id, attempted_at);

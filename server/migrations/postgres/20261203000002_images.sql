-- Uploaded images (a user's profile image), served at `GET /v1/images/{id}`. The id is unguessable:
-- it is the image's address. An image goes with its user; a replaced one is deleted at once.
-- (The one column the engines spell differently: raw bytes are BYTEA here.)
CREATE TABLE images (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- image/png | image/jpeg | image/gif | image/webp, checked against the bytes at upload
    content_type TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX images_user_id ON images (user_id);

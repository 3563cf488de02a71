-- Idempotency keys: one row per request_id. A pending row marks a call in
-- flight; a done row holds the response (a serialized google.protobuf.Any).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    request_id  TEXT PRIMARY KEY,
    method      TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    response    BLOB,
    created_at  INTEGER NOT NULL, -- unix nanoseconds
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);

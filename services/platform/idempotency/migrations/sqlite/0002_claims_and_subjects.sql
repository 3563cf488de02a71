-- A pending row now carries the random id of its claim, and updated_at is
-- the claim's heartbeat: the claimant refreshes it while the call runs, so a
-- claim whose heartbeat has stopped can be taken over at once. A forgotten
-- row is a key whose response was removed because a subject it was about (a
-- customer) was erased or deleted. SQLite cannot change a CHECK constraint,
-- so the table is rebuilt.
CREATE TABLE idempotency_keys_v2 (
    request_id  TEXT PRIMARY KEY,
    method      TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'forgotten')),
    response    BLOB,
    created_at  INTEGER NOT NULL, -- unix nanoseconds
    updated_at  INTEGER NOT NULL,
    claim_id    TEXT NOT NULL DEFAULT ''
);
INSERT INTO idempotency_keys_v2 (request_id, method, fingerprint, state, response, created_at, updated_at)
    SELECT request_id, method, fingerprint, state, response, created_at, updated_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Subjects: whom a key's request and response are about. subject is the
-- SHA-256 of a subject string such as "customers/c1"; created_at is the
-- key's, so subjects are purged with their keys.
CREATE TABLE IF NOT EXISTS idempotency_subjects (
    subject    BLOB NOT NULL,
    request_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, -- unix nanoseconds
    PRIMARY KEY (subject, request_id)
);
CREATE INDEX IF NOT EXISTS idempotency_subjects_request_id ON idempotency_subjects (request_id);
CREATE INDEX IF NOT EXISTS idempotency_subjects_created_at ON idempotency_subjects (created_at);

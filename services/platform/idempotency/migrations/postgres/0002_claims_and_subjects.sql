-- A pending row now carries the random id of its claim, and updated_at is
-- the claim's heartbeat: the claimant refreshes it while the call runs, so a
-- claim whose heartbeat has stopped can be taken over at once.
ALTER TABLE idempotency_keys ADD COLUMN claim_id TEXT NOT NULL DEFAULT '';

-- A forgotten row is a key whose response was removed because a subject it
-- was about (a customer) was erased or deleted.
ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_state_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check
    CHECK (state IN ('pending', 'done', 'forgotten'));

-- Subjects: whom a key's request and response are about. subject is the
-- SHA-256 of a subject string such as "customers/c1"; created_at is the
-- key's, so subjects are purged with their keys.
CREATE TABLE IF NOT EXISTS idempotency_subjects (
    subject    BYTEA NOT NULL,
    request_id TEXT NOT NULL,
    created_at BIGINT NOT NULL, -- unix nanoseconds
    PRIMARY KEY (subject, request_id)
);
CREATE INDEX IF NOT EXISTS idempotency_subjects_request_id ON idempotency_subjects (request_id);
CREATE INDEX IF NOT EXISTS idempotency_subjects_created_at ON idempotency_subjects (created_at);

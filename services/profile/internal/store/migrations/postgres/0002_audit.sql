-- Audit records of privacy operations (exports and erasures), kept after
-- the customer is erased. Times are Unix nanoseconds.

CREATE TABLE audit_records (
    id          BIGSERIAL PRIMARY KEY,
    principal   TEXT NOT NULL,
    key_id      TEXT NOT NULL DEFAULT '',
    method      TEXT NOT NULL,
    resource    TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    create_time BIGINT NOT NULL
);

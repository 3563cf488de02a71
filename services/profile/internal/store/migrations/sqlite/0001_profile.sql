-- Customers, their tags and the customer event log.
-- Times are Unix nanoseconds (0 = unset), so both engines keep them exactly.

CREATE TABLE customers (
    customer_id          TEXT PRIMARY KEY,
    full_name            TEXT NOT NULL DEFAULT '',
    email                TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    birthday             TEXT NOT NULL DEFAULT '',
    time_zone            TEXT NOT NULL DEFAULT '',
    country              TEXT NOT NULL DEFAULT '',
    registration_time    INTEGER NOT NULL DEFAULT 0,
    registration_channel TEXT NOT NULL DEFAULT '',
    consent_email        INTEGER NOT NULL DEFAULT 0,
    consent_sms          INTEGER NOT NULL DEFAULT 0,
    consent_push         INTEGER NOT NULL DEFAULT 0,
    tags                 TEXT NOT NULL DEFAULT '[]', -- JSON array, sorted; customer_tags indexes it
    state                INTEGER NOT NULL,
    features             TEXT NOT NULL DEFAULT '{}', -- JSON of profile.Features
    create_time          INTEGER NOT NULL,
    update_time          INTEGER NOT NULL,
    revision             INTEGER NOT NULL
);
-- No index on update_time: updated_after filters the customer_id-ordered
-- page scan, and an indexed update_time would make every feature update
-- rewrite an index entry.

CREATE TABLE customer_tags (
    tag         TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    PRIMARY KEY (tag, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_tags_customer ON customer_tags (customer_id);

-- sequence is the rowid: assigned max+1 inside the single writer
-- transaction, so sequence order is commit order. Events are never deleted.
CREATE TABLE events (
    sequence    INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    record_time INTEGER NOT NULL,
    payload     TEXT NOT NULL -- JSON of the domain payload type
);
CREATE INDEX events_customer ON events (customer_id, sequence);

-- Customers, their tags and the customer event log.
-- Times are Unix nanoseconds (0 = unset), so both engines keep them exactly.
-- Ids use the "C" collation so ordering and paging match SQLite's byte order.

CREATE TABLE customers (
    customer_id          TEXT COLLATE "C" PRIMARY KEY,
    full_name            TEXT NOT NULL DEFAULT '',
    email                TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    birthday             TEXT NOT NULL DEFAULT '',
    time_zone            TEXT NOT NULL DEFAULT '',
    country              TEXT NOT NULL DEFAULT '',
    registration_time    BIGINT NOT NULL DEFAULT 0,
    registration_channel TEXT NOT NULL DEFAULT '',
    consent_email        SMALLINT NOT NULL DEFAULT 0,
    consent_sms          SMALLINT NOT NULL DEFAULT 0,
    consent_push         SMALLINT NOT NULL DEFAULT 0,
    tags                 TEXT NOT NULL DEFAULT '[]', -- JSON array, sorted; customer_tags indexes it
    state                SMALLINT NOT NULL,
    features             TEXT NOT NULL DEFAULT '{}', -- JSON of profile.Features
    create_time          BIGINT NOT NULL,
    update_time          BIGINT NOT NULL,
    revision             BIGINT NOT NULL
) WITH (fillfactor = 80); -- room for HOT updates: features change with every event batch
-- No index on update_time: updated_after filters the customer_id-ordered
-- page scan, and an indexed update_time would make every feature update
-- rewrite an index entry.

CREATE TABLE customer_tags (
    tag         TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    PRIMARY KEY (tag, customer_id)
);
CREATE INDEX customer_tags_customer ON customer_tags (customer_id);

-- Appends hold a transaction-scoped advisory lock, so sequence values are
-- taken and committed in the same order: a reader that has seen sequence n
-- never later sees a smaller one. Gaps (rolled back appends, duplicates)
-- are possible and harmless.
CREATE TABLE events (
    sequence    BIGSERIAL PRIMARY KEY,
    event_id    TEXT COLLATE "C" NOT NULL UNIQUE,
    customer_id TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    record_time BIGINT NOT NULL,
    payload     TEXT NOT NULL -- JSON of the domain payload type
);
CREATE INDEX events_customer ON events (customer_id, sequence);

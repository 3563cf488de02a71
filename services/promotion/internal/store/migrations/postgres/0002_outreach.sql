-- Outreach: messages (one per journey trigger occurrence: the id is derived
-- from the occurrence key), the outbox the dispatcher claims due messages
-- from, and the frequency-cap counters (guarded writes).

CREATE TABLE outreach_messages (
    message_id    TEXT PRIMARY KEY,
    journey_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    occurrence    TEXT NOT NULL,
    transactional INTEGER NOT NULL,
    state         INTEGER NOT NULL,
    reason        INTEGER NOT NULL,
    channel       INTEGER NOT NULL,
    due_ns        BIGINT NOT NULL,
    attempts      INTEGER NOT NULL,
    charged       INTEGER NOT NULL DEFAULT 0, -- its cap charges are counted
    create_ns     BIGINT NOT NULL,
    update_ns     BIGINT NOT NULL
);
CREATE INDEX outreach_messages_customer ON outreach_messages (customer_id, create_ns);

-- Messages that still need an attempt. claimed_until_ns: a dispatcher
-- holds it until then (0: free).
CREATE TABLE outreach_outbox (
    message_id       TEXT PRIMARY KEY,
    due_ns           BIGINT NOT NULL,
    claimed_until_ns BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outreach_outbox_due ON outreach_outbox (due_ns);

-- Rolling caps: each of a cap's limit slots holds the time of the send that
-- last took it (0: never).
CREATE TABLE outreach_cap_slots (
    cap_key TEXT NOT NULL,
    slot    INTEGER NOT NULL,
    used_ns BIGINT NOT NULL,
    PRIMARY KEY (cap_key, slot)
);

-- Per-day caps: sends per cap and local date.
CREATE TABLE outreach_cap_days (
    cap_key TEXT NOT NULL,
    day     TEXT NOT NULL,
    used    INTEGER NOT NULL,
    PRIMARY KEY (cap_key, day)
);

-- Journey definitions: trigger, channels, templates (JSON).
CREATE TABLE outreach_journeys (
    journey_id TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    create_ns  BIGINT NOT NULL
);

-- How far each trigger source has been read (the audience changes: the
-- last recompute's operation id).
CREATE TABLE outreach_cursors (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- In-app inbox: one row per message delivered to a customer.
CREATE TABLE outreach_inbox (
    customer_id TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    create_ns   BIGINT NOT NULL,
    read_ns     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, message_id)
);

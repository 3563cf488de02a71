-- Loyalty: the programme's versions, members, the points ledger with its
-- buckets, orders that earned points, action counts per day, job
-- operations and the profile event cursor. Times are Unix nanoseconds
-- (0 = unset or never).

CREATE TABLE programmes (
    version     BIGINT PRIMARY KEY,
    data        TEXT NOT NULL, -- JSON of loyalty.Programme
    update_time BIGINT NOT NULL
);

CREATE TABLE stream_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL
);
-- The one row exists from the start, so that a page's transaction can lock
-- it before reading it.
INSERT INTO stream_cursor (id, sequence) VALUES (1, 0);

CREATE TABLE members (
    member_id          TEXT PRIMARY KEY,
    enrolled           INTEGER NOT NULL,
    tier               TEXT NOT NULL,
    tier_since         BIGINT NOT NULL,
    birthday           TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    lifetime           BIGINT NOT NULL,
    seq                BIGINT NOT NULL,
    last_birthday_year INTEGER NOT NULL,
    skipped_orders     BIGINT NOT NULL,
    create_time        BIGINT NOT NULL
);

CREATE TABLE buckets (
    member_id    TEXT NOT NULL,
    bucket_id    BIGINT NOT NULL,
    points       BIGINT NOT NULL,
    remaining    BIGINT NOT NULL CHECK (remaining >= 0),
    earned_at    BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    order_id     TEXT NOT NULL,
    qualifying   INTEGER NOT NULL,
    reversed     BIGINT NOT NULL,
    PRIMARY KEY (member_id, bucket_id)
);
-- No secondary index: buckets are read by member (the key's prefix), and
-- every index would be written again each time a bucket's points change.

CREATE TABLE entries (
    member_id         TEXT NOT NULL,
    seq               BIGINT NOT NULL,
    type              TEXT NOT NULL,
    points            BIGINT NOT NULL,
    unrecovered       BIGINT NOT NULL,
    buckets           TEXT NOT NULL, -- "bucket:points bucket:points …"
    event_id          TEXT NOT NULL,
    order_id          TEXT NOT NULL,
    reward_redemption TEXT NOT NULL,
    operator          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    action            TEXT NOT NULL,
    ref               BIGINT NOT NULL,
    programme_version BIGINT NOT NULL,
    time              BIGINT NOT NULL,
    month             TEXT NOT NULL, -- YYYY-MM of time, UTC
    cancelled         INTEGER NOT NULL,
    PRIMARY KEY (member_id, seq)
);

CREATE TABLE orders (
    member_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    earned      BIGINT NOT NULL,
    refunded    BIGINT NOT NULL,
    bucket_id   BIGINT NOT NULL,
    PRIMARY KEY (member_id, order_id)
);

CREATE TABLE action_counts (
    member_id TEXT NOT NULL,
    key       TEXT NOT NULL, -- action/YYYY-MM-DD
    count     BIGINT NOT NULL,
    PRIMARY KEY (member_id, key)
);

CREATE TABLE operations (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    as_of             BIGINT NOT NULL,
    state             TEXT NOT NULL,
    programme_version BIGINT NOT NULL,
    members_changed   BIGINT NOT NULL,
    points            BIGINT NOT NULL,
    create_time       BIGINT NOT NULL,
    end_time          BIGINT NOT NULL,
    error             TEXT NOT NULL,
    scheduled         INTEGER NOT NULL,
    UNIQUE (kind, as_of)
);

CREATE TABLE rewards (
    reward_id        TEXT PRIMARY KEY,
    display_name     TEXT NOT NULL,
    type             TEXT NOT NULL,
    points_cost      BIGINT NOT NULL,
    limited          INTEGER NOT NULL,
    stock            BIGINT NOT NULL CHECK (stock >= 0),
    per_member_limit BIGINT NOT NULL,
    valid_from       BIGINT NOT NULL,
    valid_until      BIGINT NOT NULL,
    minimum_tier     TEXT NOT NULL
);

CREATE TABLE reward_redemptions (
    member_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    reward_id   TEXT NOT NULL,
    points      BIGINT NOT NULL,
    state       TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (member_id, seq)
);
CREATE INDEX reward_redemptions_reward ON reward_redemptions (member_id, reward_id);

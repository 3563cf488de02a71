-- Segmentation inputs (from profile's event stream), settings, segments,
-- recompute operations and their results. Times are Unix nanoseconds (0 = unset).

CREATE TABLE customers (
    customer_id        TEXT PRIMARY KEY,
    first_order_time   INTEGER NOT NULL DEFAULT 0,
    last_order_time    INTEGER NOT NULL DEFAULT 0,
    last_activity_time INTEGER NOT NULL DEFAULT 0,
    order_count        INTEGER NOT NULL DEFAULT 0,
    refund_count       INTEGER NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL DEFAULT '',
    gross_minor        INTEGER NOT NULL DEFAULT 0,
    net_minor          INTEGER NOT NULL DEFAULT 0,
    aov_minor          INTEGER NOT NULL DEFAULT 0,
    discount_share     REAL NOT NULL DEFAULT 0,
    preferred_channel  TEXT NOT NULL DEFAULT '',
    top_categories     TEXT NOT NULL DEFAULT '[]', -- JSON array
    tags               TEXT NOT NULL DEFAULT '[]'  -- JSON array, sorted
);

-- The last profile event applied; written in the same transaction as its effects.
CREATE TABLE stream_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence INTEGER NOT NULL
);

CREATE TABLE settings (
    version     INTEGER PRIMARY KEY,
    data        TEXT NOT NULL, -- JSON of segmentation.Settings
    update_time INTEGER NOT NULL
);

CREATE TABLE segments (
    segment_id   TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    rule         TEXT NOT NULL,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL,
    revision     INTEGER NOT NULL
);

CREATE TABLE static_members (
    segment_id  TEXT NOT NULL REFERENCES segments (segment_id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
CREATE INDEX static_members_customer ON static_members (customer_id);

CREATE TABLE operations (
    operation_id     TEXT PRIMARY KEY, -- sortable by creation
    state            INTEGER NOT NULL,
    trigger_kind     INTEGER NOT NULL,
    as_of            INTEGER NOT NULL,
    settings_version INTEGER NOT NULL,
    input_sequence   INTEGER NOT NULL,
    customers_done   INTEGER NOT NULL DEFAULT 0,
    customers_total  INTEGER NOT NULL DEFAULT 0,
    create_time      INTEGER NOT NULL,
    end_time         INTEGER NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    report           TEXT NOT NULL DEFAULT '' -- JSON of segmentation.Report
);
-- At most one running recompute: the store-level guard.
CREATE UNIQUE INDEX operations_one_running ON operations (state) WHERE state = 1;

-- Per-customer results of the latest successful recompute.
CREATE TABLE results (
    customer_id  TEXT PRIMARY KEY,
    scored       INTEGER NOT NULL,
    recency_days INTEGER NOT NULL,
    frequency    INTEGER NOT NULL,
    monetary     INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    r_score      INTEGER NOT NULL,
    f_score      INTEGER NOT NULL,
    m_score      INTEGER NOT NULL,
    rfm_segment  INTEGER NOT NULL,
    tier         INTEGER NOT NULL,
    stage        INTEGER NOT NULL,
    segments     TEXT NOT NULL -- rule segment ids, space separated
);

-- One row per audience per successful recompute.
CREATE TABLE size_history (
    operation_id TEXT NOT NULL,
    audience     TEXT NOT NULL,
    as_of        INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (audience, operation_id)
);
CREATE INDEX size_history_operation ON size_history (operation_id);

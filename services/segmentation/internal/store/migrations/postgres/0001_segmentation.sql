-- Segmentation inputs (from profile's event stream), settings, segments,
-- recompute operations and their results. Times are Unix nanoseconds (0 = unset).

CREATE TABLE customers (
    customer_id        TEXT COLLATE "C" PRIMARY KEY,
    first_order_time   BIGINT NOT NULL DEFAULT 0,
    last_order_time    BIGINT NOT NULL DEFAULT 0,
    last_activity_time BIGINT NOT NULL DEFAULT 0,
    order_count        BIGINT NOT NULL DEFAULT 0,
    refund_count       BIGINT NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL DEFAULT '',
    gross_minor        BIGINT NOT NULL DEFAULT 0,
    net_minor          BIGINT NOT NULL DEFAULT 0,
    aov_minor          BIGINT NOT NULL DEFAULT 0,
    discount_share     DOUBLE PRECISION NOT NULL DEFAULT 0,
    preferred_channel  TEXT NOT NULL DEFAULT '',
    top_categories     TEXT NOT NULL DEFAULT '[]', -- JSON array
    tags               TEXT NOT NULL DEFAULT '[]'  -- JSON array, sorted
);

-- The last profile event applied; written in the same transaction as its effects.
CREATE TABLE stream_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL
);

CREATE TABLE settings (
    version     BIGINT PRIMARY KEY,
    data        TEXT NOT NULL, -- JSON of segmentation.Settings
    update_time BIGINT NOT NULL
);

CREATE TABLE segments (
    segment_id   TEXT COLLATE "C" PRIMARY KEY,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL,
    kind         BIGINT NOT NULL,
    rule         TEXT NOT NULL,
    create_time  BIGINT NOT NULL,
    update_time  BIGINT NOT NULL,
    revision     BIGINT NOT NULL
);

CREATE TABLE static_members (
    segment_id  TEXT COLLATE "C" NOT NULL REFERENCES segments (segment_id) ON DELETE CASCADE,
    customer_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
CREATE INDEX static_members_customer ON static_members (customer_id);

CREATE TABLE operations (
    operation_id     TEXT COLLATE "C" PRIMARY KEY, -- sortable by creation
    state            BIGINT NOT NULL,
    trigger_kind     BIGINT NOT NULL,
    as_of            BIGINT NOT NULL,
    settings_version BIGINT NOT NULL,
    input_sequence   BIGINT NOT NULL,
    customers_done   BIGINT NOT NULL DEFAULT 0,
    customers_total  BIGINT NOT NULL DEFAULT 0,
    create_time      BIGINT NOT NULL,
    end_time         BIGINT NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    report           TEXT NOT NULL DEFAULT '' -- JSON of segmentation.Report
);
-- At most one running recompute: the store-level guard.
CREATE UNIQUE INDEX operations_one_running ON operations (state) WHERE state = 1;

-- Per-customer results of the latest successful recompute.
CREATE TABLE results (
    customer_id  TEXT COLLATE "C" PRIMARY KEY,
    scored       BIGINT NOT NULL,
    recency_days BIGINT NOT NULL,
    frequency    BIGINT NOT NULL,
    monetary     BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    r_score      BIGINT NOT NULL,
    f_score      BIGINT NOT NULL,
    m_score      BIGINT NOT NULL,
    rfm_segment  BIGINT NOT NULL,
    tier         BIGINT NOT NULL,
    stage        BIGINT NOT NULL,
    segments     TEXT NOT NULL -- rule segment ids, space separated
);

-- One row per audience per successful recompute.
CREATE TABLE size_history (
    operation_id TEXT NOT NULL,
    audience     TEXT COLLATE "C" NOT NULL,
    as_of        BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (audience, operation_id)
);
CREATE INDEX size_history_operation ON size_history (operation_id);

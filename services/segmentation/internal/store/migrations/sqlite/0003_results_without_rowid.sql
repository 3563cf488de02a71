-- The results table keyed by customer id alone (WITHOUT ROWID): one B-tree
-- per row instead of a rowid table plus its primary-key index, about half
-- the writes when a recompute stores a million rows in id order.
CREATE TABLE results_by_customer (
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
    segments     TEXT NOT NULL, -- rule segment ids, space separated
    operation_id TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT INTO results_by_customer SELECT customer_id, scored, recency_days, frequency, monetary, currency,
    r_score, f_score, m_score, rfm_segment, tier, stage, segments, operation_id FROM results;
DROP TABLE results;
ALTER TABLE results_by_customer RENAME TO results;

-- The purchases and product views recommendations are built from: one row
-- per order line or view, keyed by the event's sequence in profile's log
-- and the line's position.
CREATE TABLE purchase_history (
    sequence    BIGINT NOT NULL,
    line        INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    kind        SMALLINT NOT NULL, -- 1 order line, 2 view
    sku         TEXT NOT NULL,
    category    TEXT NOT NULL,
    occurred_at BIGINT NOT NULL, -- Unix nanoseconds
    PRIMARY KEY (sequence, line)
);
CREATE INDEX purchase_history_customer ON purchase_history (customer_id);

-- How far profile's log has been applied to purchase_history.
CREATE TABLE purchase_history_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL
);
INSERT INTO purchase_history_cursor (id, sequence) VALUES (1, 0);

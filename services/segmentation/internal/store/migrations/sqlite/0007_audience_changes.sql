-- Who entered (entered = 1) and who left (0) each recompute audience at each
-- successful recompute, against the one before; written with the results.
-- A set is one recompute's changes of one audience; its ids follow the
-- recomputes' order, then the audiences', which is the order changes are
-- listed in. Kept for the retention the service is configured with.
CREATE TABLE audience_change_sets (
    set_id       INTEGER PRIMARY KEY,
    operation_id TEXT NOT NULL,
    audience     TEXT NOT NULL,
    UNIQUE (operation_id, audience)
);
CREATE TABLE audience_changes (
    set_id      INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    entered     INTEGER NOT NULL,
    PRIMARY KEY (set_id, customer_id)
) WITHOUT ROWID;
-- Deleting and erasing a customer forgets their changes.
CREATE INDEX audience_changes_customer ON audience_changes (customer_id);

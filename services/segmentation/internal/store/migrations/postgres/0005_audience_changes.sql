-- Who entered (entered = 1) and who left (0) each recompute audience at each
-- successful recompute, against the one before; written with the results.
-- Kept for the retention the service is configured with.
CREATE TABLE audience_changes (
    operation_id TEXT NOT NULL,
    audience     TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    entered      INTEGER NOT NULL,
    PRIMARY KEY (operation_id, audience, customer_id)
);
-- Deleting and erasing a customer forgets their changes.
CREATE INDEX audience_changes_customer ON audience_changes (customer_id);

-- Each result row names the recompute that produced it, so a customer's
-- scores and their provenance are read together.
ALTER TABLE results ADD COLUMN operation_id TEXT NOT NULL DEFAULT '';

-- Rule segment id → failed evaluations, JSON; '' when none failed.
ALTER TABLE operations ADD COLUMN rule_errors TEXT NOT NULL DEFAULT '';

-- Bumped in the transaction of every page that deletes or erases customers
-- (their result rows change), so other replicas know to reload.
CREATE TABLE results_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO results_generation (id, generation) VALUES (1, 0);

-- How many of profile's log events the applied pages held: a page applied
-- twice counts twice, a lost page not at all, so operators and fault tests
-- can compare it with the number of events in the log up to the cursor.
ALTER TABLE stream_cursor ADD COLUMN applied_events BIGINT NOT NULL DEFAULT 0;

-- The cursor row exists from the start, so that ApplyPage always has a row
-- to lock: without one, two replicas applying their first pages at once
-- both read cursor 0, and the later one moved the cursor back.
INSERT INTO stream_cursor (id, sequence) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

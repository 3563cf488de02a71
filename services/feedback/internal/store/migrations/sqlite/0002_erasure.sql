-- The sequence of the last profile event applied: feedback follows the log
-- for erasures only.
CREATE TABLE event_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence INTEGER NOT NULL
);
INSERT INTO event_cursor (id, sequence) VALUES (1, 0);
CREATE INDEX survey_responses_customer ON survey_responses (customer_id);

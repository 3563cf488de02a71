-- Journey lifecycle: state (1 active, 2 paused, 3 deleted), a version
-- that guards every change (the etag), and the times of the last change
-- and of the soft delete (0: not deleted).
ALTER TABLE outreach_journeys ADD COLUMN state INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outreach_journeys ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE outreach_journeys ADD COLUMN update_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outreach_journeys ADD COLUMN delete_ns BIGINT NOT NULL DEFAULT 0;
UPDATE outreach_journeys SET update_ns = create_ns;

-- Every state a message entered, in order (seq from 1), written in the
-- transaction of the change. Messages made before this migration start
-- with the state they were in.
CREATE TABLE outreach_message_history (
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    state      INTEGER NOT NULL,
    reason     INTEGER NOT NULL,
    channel    INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    due_ns     BIGINT NOT NULL,
    at_ns      BIGINT NOT NULL,
    PRIMARY KEY (message_id, seq)
);
INSERT INTO outreach_message_history (message_id, seq, state, reason, channel, attempts, due_ns, at_ns)
    SELECT message_id, 1, state, reason, channel, attempts, due_ns, update_ns FROM outreach_messages;

-- A journey's messages (deleting a journey suppresses its unsent ones) and
-- an inbox newest first.
CREATE INDEX outreach_messages_journey ON outreach_messages (journey_id, state);
CREATE INDEX outreach_inbox_newest ON outreach_inbox (customer_id, create_ns, message_id);

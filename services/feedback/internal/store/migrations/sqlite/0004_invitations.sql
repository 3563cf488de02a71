-- Survey invitations: one per (survey, customer, occurrence), its id the
-- hash of the three. A pending one goes to outreach at due_time
-- (nanoseconds since the epoch) and is retried until outreach takes it
-- (sent) or refuses it for good (failed).
CREATE TABLE survey_invitations (
    invitation_id TEXT PRIMARY KEY,
    survey_id     TEXT NOT NULL REFERENCES surveys (survey_id),
    customer_id   TEXT NOT NULL,
    occurrence    TEXT NOT NULL,
    state         TEXT NOT NULL,
    message       TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    due_time      INTEGER NOT NULL,
    create_time   INTEGER NOT NULL,
    update_time   INTEGER NOT NULL
);
CREATE INDEX survey_invitations_due ON survey_invitations (due_time) WHERE state = 'pending';
CREATE INDEX survey_invitations_customer ON survey_invitations (customer_id);

-- A solved ticket whose ticket_solved invitations are not created yet.
ALTER TABLE tickets ADD COLUMN invite_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_invite ON tickets (ticket_id) WHERE invite_pending = 1;

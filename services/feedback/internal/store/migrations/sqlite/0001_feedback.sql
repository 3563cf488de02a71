-- Feedback schema. Times are Unix nanoseconds, 0 for none. The columns
-- are what queries filter and sort on; the rest of each row is JSON.
CREATE TABLE tickets (
    ticket_id        TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL,
    status           TEXT NOT NULL,
    queue            TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    active           INTEGER NOT NULL,
    create_time      INTEGER NOT NULL,
    first_reply_due  INTEGER NOT NULL,
    first_reply_time INTEGER NOT NULL,
    resolution_due   INTEGER NOT NULL,
    solve_time       INTEGER NOT NULL,
    next_escalation  INTEGER NOT NULL,
    contact_pending  INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    data             TEXT NOT NULL
);
CREATE INDEX tickets_customer ON tickets (customer_id, ticket_id);
CREATE INDEX tickets_status ON tickets (status, ticket_id);
CREATE INDEX tickets_queue ON tickets (queue, ticket_id);
CREATE INDEX tickets_due ON tickets (ticket_id, next_escalation) WHERE next_escalation > 0;
CREATE INDEX tickets_contact ON tickets (ticket_id) WHERE contact_pending = 1;

CREATE TABLE classification_rules (
    rule_id     TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE sla_policies (
    policy_id   TEXT PRIMARY KEY,
    create_time INTEGER NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE surveys (
    survey_id   TEXT PRIMARY KEY,
    create_time INTEGER NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE survey_responses (
    survey_id        TEXT NOT NULL REFERENCES surveys (survey_id),
    response_id      TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    score            INTEGER NOT NULL,
    comment          TEXT NOT NULL,
    channel          TEXT NOT NULL,
    dismissed        INTEGER NOT NULL,
    value_tier       TEXT NOT NULL,
    loyalty_tier     TEXT NOT NULL,
    follow_up_ticket TEXT NOT NULL,
    reward           TEXT NOT NULL,
    create_time      INTEGER NOT NULL,
    PRIMARY KEY (survey_id, response_id)
);

CREATE TABLE escalations (
    operation_id    TEXT PRIMARY KEY,
    done            INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    as_of_time      INTEGER NOT NULL,
    tickets_scanned INTEGER NOT NULL,
    steps_applied   INTEGER NOT NULL,
    create_time     INTEGER NOT NULL,
    end_time        INTEGER NOT NULL,
    error_message   TEXT NOT NULL,
    scheduled       INTEGER NOT NULL
);

-- Feedback schema. Times are Unix nanoseconds, 0 for none. The columns
-- are what queries filter and sort on; the rest of each row is JSON.
CREATE TABLE tickets (
    ticket_id        TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL,
    status           TEXT NOT NULL,
    queue            TEXT NOT NULL,
    priority         BIGINT NOT NULL,
    active           BIGINT NOT NULL,
    create_time      BIGINT NOT NULL,
    first_reply_due  BIGINT NOT NULL,
    first_reply_time BIGINT NOT NULL,
    resolution_due   BIGINT NOT NULL,
    solve_time       BIGINT NOT NULL,
    next_escalation  BIGINT NOT NULL,
    contact_pending  BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    data             TEXT NOT NULL
);
CREATE INDEX tickets_customer ON tickets (customer_id, ticket_id);
CREATE INDEX tickets_status ON tickets (status, ticket_id);
CREATE INDEX tickets_queue ON tickets (queue, ticket_id);
CREATE INDEX tickets_due ON tickets (ticket_id, next_escalation) WHERE next_escalation > 0;
CREATE INDEX tickets_contact ON tickets (ticket_id) WHERE contact_pending = 1;

CREATE TABLE classification_rules (
    rule_id     TEXT PRIMARY KEY,
    position    BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE sla_policies (
    policy_id   TEXT PRIMARY KEY,
    create_time BIGINT NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE surveys (
    survey_id   TEXT PRIMARY KEY,
    create_time BIGINT NOT NULL,
    data        TEXT NOT NULL
);

CREATE TABLE survey_responses (
    survey_id        TEXT NOT NULL REFERENCES surveys (survey_id),
    response_id      TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    score            BIGINT NOT NULL,
    comment          TEXT NOT NULL,
    channel          TEXT NOT NULL,
    dismissed        BIGINT NOT NULL,
    value_tier       TEXT NOT NULL,
    loyalty_tier     TEXT NOT NULL,
    follow_up_ticket TEXT NOT NULL,
    reward           TEXT NOT NULL,
    create_time      BIGINT NOT NULL,
    PRIMARY KEY (survey_id, response_id)
);

CREATE TABLE escalations (
    operation_id    TEXT PRIMARY KEY,
    done            BIGINT NOT NULL,
    failed          BIGINT NOT NULL,
    as_of_time      BIGINT NOT NULL,
    tickets_scanned BIGINT NOT NULL,
    steps_applied   BIGINT NOT NULL,
    create_time     BIGINT NOT NULL,
    end_time        BIGINT NOT NULL,
    error_message   TEXT NOT NULL,
    scheduled       BIGINT NOT NULL
);

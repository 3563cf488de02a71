-- Outreach engagement and reports: when each message was sent or
-- suppressed (orders are attributed from then), the engagements recorded
-- once per message and action (and whether profile has their event yet),
-- and the orders of customers who had a message, for attribution. (The
-- index of messages by journey and state comes with the journey lifecycle.)

ALTER TABLE outreach_messages ADD COLUMN decide_ns BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outreach_messages_customer_decided ON outreach_messages (customer_id, decide_ns);

CREATE TABLE outreach_engagements (
    message_id  TEXT NOT NULL,
    action      INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    channel     INTEGER NOT NULL,
    occur_ns    BIGINT NOT NULL,
    url         TEXT NOT NULL,
    reported    INTEGER NOT NULL DEFAULT 0, -- profile has its message_engaged event
    PRIMARY KEY (message_id, action)
);
CREATE INDEX outreach_engagements_unreported ON outreach_engagements (reported, occur_ns);

-- Orders from profile's log of customers with a message sent or suppressed
-- within the longest attribution window before the order.
CREATE TABLE outreach_orders (
    order_id    TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    placed_ns   BIGINT NOT NULL,
    revenue     BIGINT NOT NULL
);
CREATE INDEX outreach_orders_customer ON outreach_orders (customer_id, placed_ns);

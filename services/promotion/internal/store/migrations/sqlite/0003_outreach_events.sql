-- Event-triggered journeys (cart abandoned, post-purchase, first order).

-- The cart updates and orders the profile event consumer recorded, in the
-- transaction that moves its cursor, until the outreach job reads them.
-- first_order: the customer's first order in the log.
CREATE TABLE outreach_trigger_events (
    sequence    BIGINT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    cart        INTEGER NOT NULL,
    order_id    TEXT NOT NULL,
    first_order INTEGER NOT NULL,
    occurred_ns BIGINT NOT NULL
);
CREATE INDEX outreach_trigger_events_customer ON outreach_trigger_events (customer_id);

-- Customers whose first order the consumer has seen (once per customer,
-- ever: a replay finds the row).
CREATE TABLE outreach_first_orders (
    customer_id TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL
);

-- Cart-abandonment journeys waiting on a customer's latest cart: due_ns is
-- the end of the wait, ordered_ns the earliest order inside it (0: none),
-- decide_ns when the job can decide (the earlier of the two; the largest
-- BIGINT once decided: the row stays, so that an older cart read again does
-- not start a wait again).
CREATE TABLE outreach_cart_waits (
    journey_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    cart_event_id TEXT NOT NULL,
    cart_seq      BIGINT NOT NULL,
    cart_ns       BIGINT NOT NULL,
    due_ns        BIGINT NOT NULL,
    ordered_ns    BIGINT NOT NULL,
    decide_ns     BIGINT NOT NULL,
    PRIMARY KEY (journey_id, customer_id)
);
CREATE INDEX outreach_cart_waits_decide ON outreach_cart_waits (decide_ns);
CREATE INDEX outreach_cart_waits_customer ON outreach_cart_waits (customer_id);

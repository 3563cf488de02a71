-- Outreach date and points triggers: what promotion keeps about each
-- customer from profile's customer_updated events (the birthday as
-- month * 100 + day, 0 when unknown, indexed for the day's birthdays; the
-- time zone, '' when unknown), and the expiring points a points-expiring
-- message names.

CREATE TABLE outreach_customers (
    customer_id TEXT PRIMARY KEY,
    birth_md    INTEGER NOT NULL,
    time_zone   TEXT NOT NULL
);
CREATE INDEX outreach_customers_birthday ON outreach_customers (birth_md, customer_id);

ALTER TABLE outreach_messages ADD COLUMN expiring_points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outreach_messages ADD COLUMN points_expiry_ns BIGINT NOT NULL DEFAULT 0;

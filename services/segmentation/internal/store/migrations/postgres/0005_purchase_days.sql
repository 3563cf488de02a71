-- Each customer's days with an order (UTC days since 1970-01-01) and the
-- day's order total in minor units: the prediction models' inputs.
CREATE TABLE purchase_days (
    customer_id  TEXT NOT NULL,
    day          INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (customer_id, day)
);

-- Promotion: campaigns, promotions with their usage counters, coupon codes,
-- per-customer usage, redemptions per order, code generation operations,
-- frozen holdout audiences, orders attributed to campaigns and the profile
-- event cursor. Times are Unix nanoseconds (0 = unset). Amounts are minor
-- units; a limit of 0 means none.

CREATE TABLE stream_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL
);
INSERT INTO stream_cursor (id, sequence) VALUES (1, 0);

-- Every change to a campaign or promotion bumps the version in the same
-- transaction; replicas poll it to recompile their active set.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE campaigns (
    campaign_id TEXT PRIMARY KEY,
    data        TEXT NOT NULL, -- JSON of the campaign's definition
    state       INTEGER NOT NULL,
    budget      BIGINT NOT NULL,
    budget_used BIGINT NOT NULL,
    frozen      BIGINT NOT NULL,
    activate_ns BIGINT NOT NULL,
    create_ns   BIGINT NOT NULL,
    update_ns   BIGINT NOT NULL
);

CREATE TABLE promotions (
    campaign_id  TEXT NOT NULL REFERENCES campaigns (campaign_id),
    promotion_id TEXT NOT NULL,
    data         TEXT NOT NULL, -- JSON of the promotion's definition
    total_uses   BIGINT NOT NULL,
    budget       BIGINT NOT NULL,
    stock        BIGINT NOT NULL,
    uses         BIGINT NOT NULL,
    budget_used  BIGINT NOT NULL,
    stock_used   BIGINT NOT NULL,
    redeemed     INTEGER NOT NULL,
    create_ns    BIGINT NOT NULL,
    update_ns    BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, promotion_id)
);

-- Codes are unique across promotions, stored in upper case; the table is
-- its primary key (WITHOUT ROWID), one B-tree less for every insert.
CREATE TABLE codes (
    code         TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    max_uses     BIGINT NOT NULL,
    uses         BIGINT NOT NULL,
    customer_id  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX codes_by_promotion ON codes (campaign_id, promotion_id, code);

CREATE TABLE customer_uses (
    campaign_id  TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    uses         BIGINT NOT NULL,
    units        BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, promotion_id, customer_id)
);
CREATE INDEX customer_uses_by_customer ON customer_uses (customer_id);

CREATE TABLE redemptions (
    order_id    TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       INTEGER NOT NULL,
    data        TEXT NOT NULL, -- JSON of the evaluation and the returns
    create_ns   BIGINT NOT NULL,
    update_ns   BIGINT NOT NULL
);

-- What each redemption took from each promotion, for release and reports.
CREATE TABLE redemption_uses (
    order_id     TEXT NOT NULL,
    campaign_id  TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    code         TEXT NOT NULL,
    discount     BIGINT NOT NULL,
    released     BIGINT NOT NULL,
    units        BIGINT NOT NULL,
    uses_held    INTEGER NOT NULL,
    revenue      BIGINT NOT NULL, -- the order's total after discounts
    day          TEXT NOT NULL,
    PRIMARY KEY (order_id, campaign_id, promotion_id)
);
CREATE INDEX redemption_uses_by_campaign ON redemption_uses (campaign_id, day);

CREATE TABLE operations (
    operation_id TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    state        INTEGER NOT NULL,
    done_count   BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    error        TEXT NOT NULL,
    create_ns    BIGINT NOT NULL,
    end_ns       BIGINT NOT NULL
);

-- A holdout campaign's audience, frozen at its first activation.
CREATE TABLE audience_members (
    campaign_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    control     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX audience_members_by_customer ON audience_members (customer_id);

-- Orders from profile's log attributed to campaigns running when placed.
CREATE TABLE campaign_orders (
    campaign_id TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    grp         INTEGER NOT NULL, -- 0 no holdout, 1 treatment, 2 control
    revenue     BIGINT NOT NULL,
    day         TEXT NOT NULL,
    PRIMARY KEY (campaign_id, order_id)
);

-- Orders per customer seen in profile's log, for first-order conditions.
CREATE TABLE customer_orders (
    customer_id TEXT PRIMARY KEY,
    orders      BIGINT NOT NULL
);

-- Refund events already applied to redemptions.
CREATE TABLE applied_refunds (
    event_id TEXT PRIMARY KEY
);

-- Outreach coupons: the code a message carries (given when the message is
-- created, from its journey's code promotion), and an index to find a
-- promotion's free codes without walking the assigned ones.

ALTER TABLE outreach_messages ADD COLUMN coupon_code TEXT NOT NULL DEFAULT '';
CREATE INDEX codes_free ON codes (campaign_id, promotion_id, code) WHERE customer_id = '' AND uses = 0;

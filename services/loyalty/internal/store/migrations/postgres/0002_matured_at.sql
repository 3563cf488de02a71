-- The latest time at which pending points that became available were
-- counted for the member's tier (Unix nanoseconds, 0 = never).
ALTER TABLE members ADD COLUMN matured_at BIGINT NOT NULL DEFAULT 0;

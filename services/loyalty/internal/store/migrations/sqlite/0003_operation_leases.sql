-- A running operation is held by its runner (owner) until lease_until
-- (Unix nanoseconds); resume_after is the last member its saved batches
-- reached, where a runner taking it over goes on.
ALTER TABLE operations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operations ADD COLUMN resume_after TEXT NOT NULL DEFAULT '';

-- A promoter's thanks that loyalty could not take is pending: retried by
-- the elected replica's job at reward_retry_time (nanoseconds since the
-- epoch) after reward_attempts failed retries. NULL: nothing to retry.
ALTER TABLE survey_responses ADD COLUMN reward_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE survey_responses ADD COLUMN reward_retry_time INTEGER;
UPDATE survey_responses SET reward_retry_time = 0 WHERE reward = 'unavailable';
CREATE INDEX survey_responses_reward_retry ON survey_responses (reward_retry_time) WHERE reward_retry_time IS NOT NULL;

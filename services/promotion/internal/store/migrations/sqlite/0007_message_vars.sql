-- The template variables an API-triggered message was created with, as a
-- JSON object ('' for none).
ALTER TABLE outreach_messages ADD COLUMN vars TEXT NOT NULL DEFAULT '';

-- When the leaders were told that nobody acknowledged the incident in time (once).
ALTER TABLE incidents ADD COLUMN unack_mailed_at BIGINT;

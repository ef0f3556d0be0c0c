-- When the surge rule raised the incident one level (once per incident).
ALTER TABLE incidents ADD COLUMN surged_at BIGINT;

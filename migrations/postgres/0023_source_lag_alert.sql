-- When the operators were told that a source's 95th-percentile lag passed its `max_lag`
-- (issue 24); NULL while it is within it. Cleared when it comes back, so the next crossing
-- is mailed again.
ALTER TABLE source_state ADD COLUMN lag_alerted_at INTEGER;

-- A source that fails for too long, or whose page suddenly yields nothing, mails the
-- operators once (alert set), and again when it recovers (alert cleared).
ALTER TABLE source_state ADD COLUMN failing_since INTEGER;
ALTER TABLE source_state ADD COLUMN alert TEXT;
ALTER TABLE source_state ADD COLUMN alerted_at INTEGER;

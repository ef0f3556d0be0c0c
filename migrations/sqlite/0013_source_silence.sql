-- Never silent (issue 15): when a source last brought a new item (or was first read), when
-- the operators were told it went silent (`stale_after`), and the last thing read from it
-- that was damaged but readable (a malformed feed recovered, a JSON field of the wrong type).
ALTER TABLE source_state ADD COLUMN last_new_at INTEGER;
ALTER TABLE source_state ADD COLUMN silent_since INTEGER;
ALTER TABLE source_state ADD COLUMN last_warning TEXT;
ALTER TABLE source_state ADD COLUMN last_warning_at INTEGER;

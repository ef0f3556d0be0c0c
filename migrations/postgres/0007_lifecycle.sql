-- Incident lifecycle (open → acknowledged → released → monitoring → closed), resurgence
-- (回温), merge/split and working-day obligations.
-- While status = 'monitoring', the end of the monitoring period; then the incident closes.
ALTER TABLE incidents ADD COLUMN monitoring_until BIGINT;
-- When the incident was last reopened by a resurgence: the unacknowledged rule counts from
-- here instead of opened_at.
ALTER TABLE incidents ADD COLUMN reopened_at BIGINT;
-- When the last 回温 mail went (once per monitoring period or reopening).
ALTER TABLE incidents ADD COLUMN resurged_at BIGINT;
-- The incident this one was merged into (status 'merged'), or split from.
ALTER TABLE incidents ADD COLUMN merged_into BIGINT;
ALTER TABLE incidents ADD COLUMN split_from BIGINT;
-- A working-day obligation: its duty label (e.g. 网民留言答复) and the years the count
-- crossed without calendar data (comma-separated, empty when certain).
ALTER TABLE deadlines ADD COLUMN duty TEXT;
ALTER TABLE deadlines ADD COLUMN uncertain TEXT;

-- The smallest "this long before the deadline" reminder already sent, in seconds, so that
-- each reminder goes out once, and after a restart only the latest one that is due.
ALTER TABLE deadlines ADD COLUMN reminded_before BIGINT;

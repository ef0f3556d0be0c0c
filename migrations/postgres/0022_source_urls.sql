-- The URL each source (or own channel) was last polled under. A source whose URL an
-- operator changed starts fresh (issue 28): its old failures, errors and back-off belonged
-- to another address. NULL for rows written before this column.
ALTER TABLE source_state ADD COLUMN url TEXT;

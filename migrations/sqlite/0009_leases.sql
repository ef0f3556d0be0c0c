-- Several daemons on one database share the work through leases: a claim that lasts until
-- `*_until` (UTC seconds) unless renewed, so the work of a daemon that died is taken over
-- when its lease runs out.

-- Named leases held by one daemon at a time ("housekeeping": the one that fires deadlines).
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    held_until  BIGINT NOT NULL
);

-- The daemon polling a source now.
ALTER TABLE source_state ADD COLUMN lease_holder TEXT;
ALTER TABLE source_state ADD COLUMN lease_until BIGINT;

-- The daemon sending a message now.
ALTER TABLE outbox ADD COLUMN lease_holder TEXT;
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;

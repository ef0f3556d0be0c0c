-- The agency's own channels (issue 6): their posts, the duty mail already sent, the last
-- run of each scheduled job, and an optional attachment on a queued message.

-- Every post seen on an own channel, once. Not an item: own posts never open incidents.
CREATE TABLE channel_posts (
    id            BIGSERIAL PRIMARY KEY,
    channel_id    TEXT NOT NULL,
    guid          TEXT NOT NULL,              -- the feed's GUID, else the link, else a hash
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    link          TEXT,
    published_at  BIGINT,
    first_seen    BIGINT NOT NULL,
    UNIQUE (channel_id, guid)
);
CREATE INDEX channel_posts_by_seen ON channel_posts (first_seen);

-- What the owner (and leaders) were told about a channel's duty, so that a restart neither
-- repeats nor loses a mail: the period last mailed at risk, the period last mailed missed,
-- and the state mailed since the last recovery (NULL: nothing outstanding).
CREATE TABLE duty_alerts (
    channel_id    TEXT PRIMARY KEY,
    mailed_state  TEXT,
    at_risk_key   TEXT,
    missed_key    TEXT,
    updated_at    BIGINT NOT NULL
);

-- The scheduled time each cron job last ran for.
CREATE TABLE job_runs (
    job       TEXT PRIMARY KEY,
    last_run  BIGINT NOT NULL
);

ALTER TABLE outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE outbox ADD COLUMN attachment TEXT;

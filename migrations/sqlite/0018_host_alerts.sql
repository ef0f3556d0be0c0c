-- Issue 18: a host whose sources cannot all be polled within their intervals under the
-- politeness settings (per_host, host_delay) is mailed to the operators once. The row is
-- what they were told (`settings`: per_host, host_delay and the shortest every), written
-- with the mail: a restart does not tell them again, a change of settings that still does
-- not fit does. The row goes when the host's sources fit again.
CREATE TABLE host_alerts (
    host       TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,
    mailed_at  INTEGER NOT NULL
);

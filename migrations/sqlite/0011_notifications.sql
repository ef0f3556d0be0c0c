-- Instant messages (issue 14): one row per notifier an outbox message also goes to,
-- written in the transaction of the mail row (its text is the mail's subject and body).
-- `sent_at` is set when the service accepted the row alone or inside a digest
-- (`digest_of` names the row whose request carried it); `failed_at` when the service
-- refused it for good and it fell back to mail.
CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id        INTEGER NOT NULL REFERENCES outbox (id),
    notifier         TEXT NOT NULL,
    incident_id      INTEGER,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    started_at       INTEGER,          -- a request carrying it began (outcome unknown until marked)
    sent_at          INTEGER,
    digest_of        INTEGER,
    failed_at        INTEGER,
    last_error       TEXT,
    answer           TEXT,             -- what the service answered to the last request
    maybe_doubled    INTEGER NOT NULL DEFAULT 0,  -- retried after an outcome nobody knows (SMS)
    lease_holder     TEXT,
    lease_until      INTEGER
);
CREATE INDEX notifications_due ON notifications (notifier, sent_at, failed_at, next_attempt_at);

-- Requests made to each notifier, for its rate limit (vendors count per rolling minute).
CREATE TABLE notify_requests (
    notifier  TEXT NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX notify_requests_by_notifier ON notify_requests (notifier, at_ms);

-- Per notifier: a pause the service imposed (DingTalk's 10 minutes), and whether the
-- operators were told it fails for good (once, until it works again).
CREATE TABLE notifier_state (
    notifier       TEXT PRIMARY KEY,
    blocked_until  INTEGER,
    broken_since   INTEGER,
    broken_error   TEXT
);

-- Instant messages (issue 14): one row per notifier an outbox message also goes to,
-- written in the transaction of the mail row (its text is the mail's subject and body).
-- `sent_at` is set when the service accepted the row alone or inside a digest
-- (`digest_of` names the row whose request carried it); `failed_at` when the service
-- refused it for good and it fell back to mail.
CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    outbox_id        BIGINT NOT NULL REFERENCES outbox (id),
    notifier         TEXT NOT NULL,
    incident_id      BIGINT,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    started_at       BIGINT,          -- a request carrying it began (outcome unknown until marked)
    sent_at          BIGINT,
    digest_of        BIGINT,
    failed_at        BIGINT,
    last_error       TEXT,
    answer           TEXT,             -- what the service answered to the last request
    maybe_doubled    BIGINT NOT NULL DEFAULT 0,  -- retried after an outcome nobody knows (SMS)
    lease_holder     TEXT,
    lease_until      BIGINT
);
CREATE INDEX notifications_due ON notifications (notifier, sent_at, failed_at, next_attempt_at);

-- Requests made to each notifier, for its rate limit (vendors count per rolling minute).
CREATE TABLE notify_requests (
    notifier  TEXT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX notify_requests_by_notifier ON notify_requests (notifier, at_ms);

-- Per notifier: a pause the service imposed (DingTalk's 10 minutes), and whether the
-- operators were told it fails for good (once, until it works again).
CREATE TABLE notifier_state (
    notifier       TEXT PRIMARY KEY,
    blocked_until  BIGINT,
    broken_since   BIGINT,
    broken_error   TEXT
);

-- The store is the truth: every deadline and every mail is a row with a due time.
-- Times are UTC seconds since the epoch (INTEGER), so the same schema reads the same on
-- SQLite and PostgreSQL.

-- Health and HTTP validators of each polled source or channel, by config id.
CREATE TABLE source_state (
    source_id      TEXT PRIMARY KEY,
    etag           TEXT,
    last_modified  TEXT,
    last_attempt   INTEGER,
    last_success   INTEGER,
    last_error     TEXT,
    last_error_at  INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    next_poll      INTEGER NOT NULL DEFAULT 0,
    last_count     INTEGER
);

-- Every item seen, once. `guid` is the feed's GUID, else the link, else the content hash.
CREATE TABLE items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     TEXT NOT NULL,
    guid          TEXT NOT NULL,
    link          TEXT,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    published_at  INTEGER,
    fetched_at    INTEGER NOT NULL,
    updated_at    INTEGER,
    content_hash  TEXT NOT NULL,
    topics        TEXT NOT NULL DEFAULT '[]',
    UNIQUE (source_id, guid)
);
CREATE INDEX items_by_hash ON items (source_id, content_hash);
CREATE INDEX items_by_fetched ON items (fetched_at);

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id         TEXT NOT NULL,
    topic_name       TEXT NOT NULL,
    severity         TEXT NOT NULL,
    status           TEXT NOT NULL,          -- open | acknowledged | closed
    opened_at        INTEGER NOT NULL,
    clock_start      INTEGER NOT NULL,       -- earliest credible of occurrence, 首发, detection
    first_item_id    INTEGER NOT NULL REFERENCES items (id),
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT,
    closed_at        INTEGER,
    closed_by        TEXT
);
CREATE INDEX incidents_open_by_topic ON incidents (topic_id, status);

CREATE TABLE incident_items (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    item_id      INTEGER NOT NULL REFERENCES items (id),
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (incident_id, item_id)
);

-- One row per statutory deadline of an incident.
CREATE TABLE deadlines (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id       INTEGER NOT NULL REFERENCES incidents (id),
    kind              TEXT NOT NULL,          -- release | press_conference | response
    due_at            INTEGER NOT NULL,
    met_at            INTEGER,
    met_by            TEXT,
    evidence          TEXT,                   -- e.g. the URL of the authoritative release
    cancelled_at      INTEGER,                -- superseded by a regrade
    breach_mailed_at  INTEGER,
    UNIQUE (incident_id, kind)
);
CREATE INDEX deadlines_due ON deadlines (due_at);

-- 留痕: who did what, when.
CREATE TABLE actions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    detail       TEXT
);

-- Mail written in the same transaction as the change that causes it, drained by a sender.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       INTEGER NOT NULL,
    incident_id      INTEGER,
    kind             TEXT NOT NULL,
    recipients       TEXT NOT NULL,          -- JSON array of mailboxes
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    in_reply_to      TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    sent_at          INTEGER,
    last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt_at);

-- One row; every write transaction on SQLite updates it first, so that it takes the write
-- lock at BEGIN and waits its turn (busy_timeout) instead of failing when a read
-- transaction would otherwise have to be upgraded while another process writes.
CREATE TABLE write_lock (n INTEGER NOT NULL);
INSERT INTO write_lock (n) VALUES (0);

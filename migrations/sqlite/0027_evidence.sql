-- Evidence (issue 23): the pages of items kept as WARC records, and the checks that notice
-- when a page is deleted or edited.
--
-- `evidence` holds one row per version of an item's page: version 1 is the first capture,
-- each later one a capture of changed text. The item's current state (`online`, `changed`,
-- `deleted`, `unreachable`) and when it was last checked are on its latest version. A
-- capture that could not fetch the page is a version without `sha256`, with its `error`;
-- the records of a version are `warc_length` bytes at `warc_offset` of `warc_file` (whole
-- gzip members: request, response and metadata records, redirects included).
CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    url           TEXT NOT NULL,
    final_url     TEXT,
    captured_at   INTEGER NOT NULL,
    checked_at    INTEGER NOT NULL,
    state         TEXT NOT NULL,
    status        INTEGER,
    sha256        TEXT,
    title         TEXT,
    text          TEXT,
    topics        TEXT,
    warc_file     TEXT,
    warc_offset   INTEGER,
    warc_length   INTEGER,
    error         TEXT,
    UNIQUE (item_id, version)
);

-- The work: an item's capture, and each recheck of it, as a row due at a time. A daemon
-- claims a due row with a lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`), so that exactly
-- one daemon of several sharing the database fetches a given item; `done_at` ends it.
CREATE TABLE evidence_tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    due_at        INTEGER NOT NULL,
    done_at       INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_holder  TEXT,
    lease_until   INTEGER,
    UNIQUE (item_id, kind, due_at)
);
CREATE INDEX evidence_tasks_due ON evidence_tasks (done_at, due_at);

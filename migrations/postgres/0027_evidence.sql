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
    id            BIGSERIAL PRIMARY KEY,
    item_id       BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    url           TEXT NOT NULL,
    final_url     TEXT,
    captured_at   BIGINT NOT NULL,
    checked_at    BIGINT NOT NULL,
    state         TEXT NOT NULL,
    status        BIGINT,
    sha256        TEXT,
    title         TEXT,
    text          TEXT,
    topics        TEXT,
    warc_file     TEXT,
    warc_offset   BIGINT,
    warc_length   BIGINT,
    error         TEXT,
    UNIQUE (item_id, version)
);

-- The work: an item's capture, and each recheck of it, as a row due at a time. A daemon
-- claims a due row with a lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`), so that exactly
-- one daemon of several sharing the database fetches a given item; `done_at` ends it.
CREATE TABLE evidence_tasks (
    id            BIGSERIAL PRIMARY KEY,
    item_id       BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    due_at        BIGINT NOT NULL,
    done_at       BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    lease_holder  TEXT,
    lease_until   BIGINT,
    UNIQUE (item_id, kind, due_at)
);
CREATE INDEX evidence_tasks_due ON evidence_tasks (done_at, due_at);

-- Candidate authoritative releases (issue 5): a post on one of the agency's own channels
-- that matches an active incident's topic and event. The duty officer confirms one with
-- `yuqing incident release ID` (or the config confirms it automatically); either way the
-- release is recorded at the post's own time.
CREATE TABLE release_candidates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    post_id       INTEGER NOT NULL REFERENCES channel_posts (id),
    channel_id    TEXT NOT NULL,
    title         TEXT NOT NULL,
    link          TEXT,
    posted_at     INTEGER NOT NULL,              -- published, else first seen
    similarity    REAL NOT NULL,  -- to the incident's items (MinHash estimate)
    found_at      INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'candidate',  -- candidate | confirmed | superseded
    UNIQUE (incident_id, post_id)
);
CREATE INDEX release_candidates_by_incident ON release_candidates (incident_id, status);

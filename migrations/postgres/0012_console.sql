-- The duty console (issue 13): people who log in, and their sessions. Sessions live here,
-- not in a daemon's memory, so that several daemons on one database serve one console.
CREATE TABLE users (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL,            -- duty | leader | operator
    password_hash  TEXT NOT NULL,            -- argon2id, PHC string
    created_at     BIGINT NOT NULL,
    changed_at     BIGINT NOT NULL,         -- password last set
    disabled_at    BIGINT                    -- set: cannot log in, sessions refused
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,            -- tower-sessions id (random 128 bits)
    data        TEXT NOT NULL,               -- JSON
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- One row: the secret every daemon keys the console's CSRF tokens with, so that a form
-- served by one daemon is accepted by another.
CREATE TABLE console_secret (
    id      BIGINT PRIMARY KEY,
    secret  TEXT NOT NULL
);

-- The console's sources page and dashboard ask each source's newest item; without this
-- SQLite reads the whole table for it (0.7 s at 200,000 items).
CREATE INDEX items_by_source_fetched ON items (source_id, fetched_at);

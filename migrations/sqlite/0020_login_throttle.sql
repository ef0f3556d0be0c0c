-- Issue 26: login attempts are counted here, before the password is checked, so that
-- concurrent guesses cannot outrun the count, a restart does not clear it and every daemon
-- on the database shares it. One row per key: `user:NAME` or `addr:IP`.
CREATE TABLE login_throttle (
    key         TEXT PRIMARY KEY,
    attempts    INTEGER NOT NULL,         -- attempts checked since the count was last cleared
    allowed_at  INTEGER NOT NULL,         -- no attempt is checked before this time
    last_at     INTEGER NOT NULL          -- the last attempt checked; a count this old is forgotten
);
CREATE INDEX login_throttle_by_last ON login_throttle (last_at);

-- Issue 17: the inline parts of a queued message (the briefing's PNG charts), written in
-- the transaction of its outbox row and read by the sender, which puts them beside the
-- HTML (multipart/related) under their Content-IDs.
CREATE TABLE outbox_parts (
    outbox_id     BIGINT NOT NULL REFERENCES outbox (id),
    position      BIGINT NOT NULL,
    content_id    TEXT NOT NULL,          -- without the angle brackets; the HTML says cid:…
    content_type  TEXT NOT NULL,          -- image/png
    bytes         BYTEA NOT NULL,
    PRIMARY KEY (outbox_id, position)
);

-- Issue 29 §2: full-text search of items through an index instead of a scan.
--
-- Each item's title and text as `store::search` cuts them (every Chinese, Japanese or
-- Korean character a token of its own, other letters and digits in words, folded as the
-- classifier folds), written as a tsvector literal with positions, so a search for `踩踏`
-- is the phrase '踩' <-> '踏' looked up in a GIN index. Built-in full-text search, not
-- pg_trgm: a trigram index cannot look up fewer than three characters (most Chinese words
-- have two), and this needs no extension on the operator's server; the literal does not
-- depend on the database's locale either.
CREATE TABLE item_search (
    item_id  BIGINT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    doc      TSVECTOR NOT NULL
);
CREATE INDEX item_search_doc ON item_search USING GIN (doc);

-- Items stored before this migration are indexed by the store, newest first, a batch at a
-- time: every item with an id below `below` is still to do.
CREATE TABLE item_search_backlog (below BIGINT NOT NULL);
INSERT INTO item_search_backlog (below) SELECT COALESCE(MAX(id), 0) + 1 FROM items;

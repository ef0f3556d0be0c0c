-- Issue 29 §2: full-text search of items through an index instead of a scan.
--
-- FTS5 indexes each item's title and text as `store::search` cuts them: every Chinese,
-- Japanese or Korean character a token of its own, other letters and digits in words, all
-- folded as the classifier folds (NFKC, case, Traditional → Simplified). A search for
-- `踩踏` is then the phrase "踩 踏", which finds the two characters side by side at any
-- length of query (the `trigram` tokenizer cannot look up fewer than three characters,
-- and most Chinese words have two). Contentless: the text stays in `items`, the index
-- keeps only positions; `contentless_delete` lets prune remove an item's entry by rowid.
-- The rowid is the item's id.
CREATE VIRTUAL TABLE item_search USING fts5 (
    doc,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);

-- Items stored before this migration are indexed by the store, newest first, a batch at a
-- time: every item with an id below `below` is still to do.
CREATE TABLE item_search_backlog (below INTEGER NOT NULL);
INSERT INTO item_search_backlog (below) SELECT COALESCE(MAX(id), 0) + 1 FROM items;

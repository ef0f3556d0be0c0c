-- Issue 29 §1: every index of `items` is a page written when an item is stored and when it
-- is pruned, and an index on a random key (a content hash) writes a page nowhere near the
-- last one. `items_by_hash (source_id, content_hash)` served only the store's lookup of a
-- source's item by its content, which `items_by_content (content_hash)` answers as well:
-- a content hash is nearly unique, and the store leaves other sources' rows out itself.
DROP INDEX items_by_hash;

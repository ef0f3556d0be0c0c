-- Issue 29 §3: `sources` reads each source's lag over a week (the time an item was first
-- seen minus its publication) from the indexes by time alone, never from the item rows,
-- so its cost is that of a week's index entries whatever the history behind them.
DROP INDEX items_by_fetched;
CREATE INDEX items_by_fetched ON items (fetched_at, source_id, published_at);
DROP INDEX item_sightings_by_seen;
CREATE INDEX item_sightings_by_seen ON item_sightings (seen_at, source_id, published_at);

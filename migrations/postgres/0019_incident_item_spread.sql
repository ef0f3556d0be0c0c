-- Issue 18: what the surge rule counts (items and sources of an incident within a window,
-- negative ones alone when asked) is kept on the link row itself, copied from the item
-- when it joins: the count then reads the incident's own small rows instead of joining
-- its latest 200 items (whole rows, signatures and all). Merge and split move link rows,
-- so these columns move with them.
ALTER TABLE incident_items ADD COLUMN source_id TEXT;
ALTER TABLE incident_items ADD COLUMN fetched_at BIGINT;
ALTER TABLE incident_items ADD COLUMN negative INTEGER NOT NULL DEFAULT 0;
UPDATE incident_items SET
    source_id = (SELECT i.source_id FROM items i WHERE i.id = incident_items.item_id),
    fetched_at = (SELECT i.fetched_at FROM items i WHERE i.id = incident_items.item_id),
    negative = COALESCE((SELECT CASE WHEN i.tone = 'negative' THEN 1 ELSE 0 END
                         FROM items i WHERE i.id = incident_items.item_id), 0);
-- The count reads an incident's latest links newest first: from this index alone.
CREATE INDEX incident_items_spread ON incident_items (incident_id, item_id, fetched_at, negative, source_id);

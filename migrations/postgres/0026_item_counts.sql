-- Issue 29 §1: what the briefings and reports count of the items that retention deleted
-- (`[retention] items`), so that a 周报 or 月报 of a pruned period gives the same numbers:
-- one row per UTC hour, source, set of topics and tone, with how many items it stands for.
CREATE TABLE item_counts (
    hour       BIGINT NOT NULL,     -- UTC seconds, a multiple of 3600: when they were fetched
    source_id  TEXT NOT NULL,
    topics     TEXT NOT NULL,      -- a JSON array of topic ids, as items.topics
    tone       TEXT NOT NULL,      -- as items.tone, '' for none
    n          BIGINT NOT NULL,
    PRIMARY KEY (hour, source_id, topics, tone)
);

-- Prune keeps every item an incident holds: looked up by item, not read per incident.
CREATE INDEX incident_items_by_item ON incident_items (item_id);
CREATE INDEX incidents_by_first_item ON incidents (first_item_id);

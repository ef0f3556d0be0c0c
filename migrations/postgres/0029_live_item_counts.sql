-- Issue 29 §3: `item_counts` counts every item, stored or pruned, so that a briefing of a
-- day or a week reads an hour's counts per source, topics and tone instead of a week of
-- item rows (and retention no longer has to add what it deletes: the counts are there).
-- The trigger keeps the counts in the transaction that stores or changes an item, whatever
-- statement does it; deleting an item leaves its count (only retention deletes items).
INSERT INTO item_counts (hour, source_id, topics, tone, n)
SELECT (fetched_at / 3600) * 3600, source_id, topics, COALESCE(tone, ''), COUNT(*)
FROM items GROUP BY 1, 2, 3, 4
ON CONFLICT (hour, source_id, topics, tone) DO UPDATE SET n = item_counts.n + excluded.n;

CREATE FUNCTION item_counts_follow() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- A poll records an item's topics or tone after storing it: the item moves to its
        -- new count.
        IF OLD.fetched_at / 3600 = NEW.fetched_at / 3600 AND OLD.source_id = NEW.source_id
           AND OLD.topics = NEW.topics AND COALESCE(OLD.tone, '') = COALESCE(NEW.tone, '') THEN
            RETURN NULL;
        END IF;
        UPDATE item_counts SET n = n - 1
        WHERE hour = (OLD.fetched_at / 3600) * 3600 AND source_id = OLD.source_id
          AND topics = OLD.topics AND tone = COALESCE(OLD.tone, '');
        DELETE FROM item_counts
        WHERE hour = (OLD.fetched_at / 3600) * 3600 AND source_id = OLD.source_id
          AND topics = OLD.topics AND tone = COALESCE(OLD.tone, '') AND n <= 0;
    END IF;
    INSERT INTO item_counts (hour, source_id, topics, tone, n)
    VALUES ((NEW.fetched_at / 3600) * 3600, NEW.source_id, NEW.topics, COALESCE(NEW.tone, ''), 1)
    ON CONFLICT (hour, source_id, topics, tone) DO UPDATE SET n = item_counts.n + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER items_counted AFTER INSERT OR UPDATE OF fetched_at, source_id, topics, tone
ON items FOR EACH ROW EXECUTE FUNCTION item_counts_follow();

-- `sources`: each source's latest sighting without reading them all.
CREATE INDEX item_sightings_by_source_seen ON item_sightings (source_id, seen_at);

-- One story, one item (issue 24 §2). When another source (another search term, another
-- provider, another feed) carries an item already stored under its first source, by the same
-- link or the same text, it is recorded here instead of as a second item: the item is listed
-- with every source that found it, and the next poll of that source knows the entry by its
-- GUID.
CREATE TABLE item_sightings (
    source_id     TEXT NOT NULL,
    guid          TEXT NOT NULL,
    item_id       BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    link          TEXT,
    published_at  BIGINT,
    seen_at       BIGINT NOT NULL,
    PRIMARY KEY (source_id, guid)
);
CREATE INDEX item_sightings_by_item ON item_sightings (item_id);
CREATE INDEX item_sightings_by_seen ON item_sightings (seen_at);
-- Finding an item of any source by its link or its text.
CREATE INDEX items_by_link ON items (link);
CREATE INDEX items_by_content ON items (content_hash);

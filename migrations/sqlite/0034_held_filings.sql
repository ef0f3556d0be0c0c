-- Filings held back. An item that matched a topic whose incident row this version cannot
-- read (a value written by a newer version, a hand edit) is stored with its topics like any
-- other, and only its filing under that topic waits here: the timed steps try it again
-- each turn (`incident::fire_held`) and file it once the row can be read, whether or not
-- its source still lists it. One row per item and topic; `error` is the latest attempt's
-- (it names the item, the topic and the incident). The console, `yuqing sources` and
-- `/healthz` show a source's held filings from here.
--
-- Replaces 0033's `source_state.held_since` / `held_error`: those only said that a
-- page was read again for an item that was not stored, and such an item was lost when
-- it left its feed before the row was repaired.
CREATE TABLE held_filings (
    item_id   INTEGER NOT NULL,
    topic_id  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    held_at   INTEGER NOT NULL,
    error     TEXT NOT NULL,
    PRIMARY KEY (item_id, topic_id)
);
CREATE INDEX held_filings_by_source ON held_filings (source_id, held_at);
ALTER TABLE source_state DROP COLUMN held_since;
ALTER TABLE source_state DROP COLUMN held_error;

-- Items held back: a poll that met a stored row this version cannot read (an incident of
-- an item's topic) files the other items and fails, and the page is read again next time.
-- While that lasts, when it began (kept while it lasts) and the latest error, which names
-- the item, its topic and the incident; both NULL once a poll stores all the page's items.
-- `/healthz` and the console's sources page show it.
ALTER TABLE source_state ADD COLUMN held_since INTEGER;
ALTER TABLE source_state ADD COLUMN held_error TEXT;

-- Issue 26: an incident has a title, what happened in a line, so that 29 incidents of one
-- topic can be told apart. By default it is its first item's title (the workflow cuts it
-- with `notify::mail::one_line`); the duty officer may set another (`incident title`).
-- Existing incidents take their first item's title: control characters and runs of
-- white space made one space, trimmed, and cut to 99 characters with `…`, as the
-- workflow cuts it. An item without a title gives the topic's name.
ALTER TABLE incidents ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE incidents SET title = COALESCE(
    (SELECT CASE WHEN length(t) > 99 THEN left(t, 99) || '…' ELSE t END
       FROM (SELECT btrim(regexp_replace(i.title, '[[:space:][:cntrl:]]+', ' ', 'g')) AS t
               FROM items i WHERE i.id = incidents.first_item_id) AS first
      WHERE t <> ''),
    topic_name);

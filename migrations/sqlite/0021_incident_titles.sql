-- Issue 26: an incident has a title, what happened in a line, so that 29 incidents of one
-- topic can be told apart. By default it is its first item's title (the workflow cuts it
-- with `notify::mail::one_line`); the duty officer may set another (`incident title`).
-- Existing incidents take their first item's title: line breaks and tabs made spaces,
-- trimmed, and cut to 99 characters with `…`, as the workflow cuts it (the one thing not
-- repeated here is folding runs of spaces into one). An item without a title gives the
-- topic's name.
ALTER TABLE incidents ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE incidents SET title = COALESCE(
    (SELECT CASE WHEN length(t) > 99 THEN substr(t, 1, 99) || '…' ELSE t END
       FROM (SELECT trim(replace(replace(replace(i.title, char(13), ' '), char(10), ' '),
                                 char(9), ' ')) AS t
               FROM items i WHERE i.id = incidents.first_item_id) AS first
      WHERE t <> ''),
    topic_name);

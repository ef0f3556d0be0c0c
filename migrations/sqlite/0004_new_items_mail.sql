-- New items that join an incident are batched into at most one mail per incident per
-- `[mail] new_items_every`: when that mail last went, and the highest item id it covered.
ALTER TABLE incidents ADD COLUMN items_mailed_at INTEGER;
ALTER TABLE incidents ADD COLUMN items_mailed_upto INTEGER;

-- Issue 18: an item's MinHash signature (title, and title with summary: 2 × 64 u64 as
-- hex), stored the first time the item is compared for grouping, so that joining an
-- incident never recomputes the signatures of the incident's items.
ALTER TABLE items ADD COLUMN signature TEXT;

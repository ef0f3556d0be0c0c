-- Tone (issue 17): each item's tone as the classifier scored it when it was stored.
-- NULL for items stored before tone existed. The score is kept in hundredths (-100..100)
-- so that both databases store an exact integer.
ALTER TABLE items ADD COLUMN tone TEXT;
ALTER TABLE items ADD COLUMN tone_score INTEGER;

-- Issue 29 §3: the dashboard reads the incidents still being handled, and the 考核 report
-- and the briefings those opened in a period, without reading every incident of the years
-- behind them. The partial index's condition is `store::incidents::ACTIVE`, word for word:
-- both databases use it only for a query that says the same.
CREATE INDEX incidents_active ON incidents (id) WHERE status NOT IN ('closed', 'merged', 'dismissed');
CREATE INDEX incidents_by_opened ON incidents (opened_at);

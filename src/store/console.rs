//! What the duty console reads that no command needed before: every active deadline at
//! once, counts by state, the mail of one incident, a filtered page of items, and a marker
//! that changes whenever incidents do (for live updates).

use super::incidents::{active_ids, DEADLINE};
use super::query::{self, Params};
use super::{DeadlineRow, ItemPage, SearchQuery, Store};
use crate::vocab::ids::IncidentId;
use anyhow::Result;

/// A message of the outbox as the incident's timeline shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRow {
    pub id: i64,
    pub created_at: i64,
    pub kind: String,
    /// JSON array of mailboxes.
    pub recipients: String,
    pub subject: String,
    pub sent_at: Option<i64>,
}

/// Which items `/items` lists.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub topic: Option<String>,
    pub source: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub text: Option<String>,
}

impl ItemFilter {
    /// The WHERE clause (all but `text`, which the search index answers), its text and then
    /// its integer arguments (numbered from `$1`), and the number of the last.
    pub(super) fn sql(&self) -> (String, Vec<String>, Vec<i64>, usize) {
        let mut cond = vec!["1 = 1".to_string()];
        let mut texts = Vec::new();
        let mut ints = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if let Some(t) = &self.topic {
            cond.push(format!("topics LIKE ${}", next()));
            texts.push(format!("%\"{}\"%", like_escape(t)));
        }
        if let Some(s) = &self.source {
            // Its own items and those it found after another source (issue 24 §2).
            let n = next();
            cond.push(format!(
                "(source_id = ${n} OR id IN (SELECT item_id FROM item_sightings WHERE source_id = ${n}))"
            ));
            texts.push(s.clone());
        }
        let mut int_cond = Vec::new();
        if let Some(s) = self.since {
            int_cond.push(("fetched_at >=", s));
        }
        if let Some(u) = self.until {
            int_cond.push(("fetched_at <", u));
        }
        for (c, v) in int_cond {
            cond.push(format!("{c} ${}", next()));
            ints.push(v);
        }
        let last = next() - 1;
        (cond.join(" AND "), texts, ints, last)
    }
}

/// `%` and `_` match themselves in a filter typed by a person (no ESCAPE clause: both
/// databases take `\` only with one, so they are dropped instead).
fn like_escape(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '%' | '_')).collect()
}

impl Store {
    /// The deadlines of every incident still being handled.
    pub async fn active_deadlines(&self) -> Result<Vec<DeadlineRow>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT {DEADLINE} FROM deadlines WHERE incident_id IN {} ORDER BY due_at, id",
                active_ids()
            ),
            (),
        )
        .await?)
    }

    /// How many incidents are in each state.
    pub async fn incident_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(query::all(
            self.pool(),
            "SELECT status, COUNT(*) FROM incidents GROUP BY status",
            (),
        )
        .await?)
    }

    /// How many items each incident still being handled has.
    pub async fn active_item_counts(&self) -> Result<Vec<(i64, i64)>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT incident_id, COUNT(*) FROM incident_items WHERE incident_id IN {} \
                 GROUP BY incident_id",
                active_ids()
            ),
            (),
        )
        .await?)
    }

    /// The mail queued about an incident, oldest first.
    pub async fn mails_of(&self, incident: IncidentId) -> Result<Vec<MailRow>> {
        Ok(query::all(
            self.pool(),
            "SELECT id, created_at, kind, recipients, subject, sent_at FROM outbox \
             WHERE incident_id = $1 ORDER BY created_at, id",
            (incident,),
        )
        .await?)
    }

    /// One page of the items `filter` selects, newest first, and how many it selects,
    /// counted up to [`COUNT_PAGES_AHEAD`](super::COUNT_PAGES_AHEAD) pages past this one
    /// (so a page costs the same with years of items behind it). A text filter is looked up
    /// in the search index (`store::search`); a text with nothing searchable in it (only
    /// punctuation) selects nothing.
    pub async fn items_page(
        &self,
        filter: &ItemFilter,
        limit: i64,
        offset: i64,
    ) -> Result<ItemPage> {
        if let Some(text) = &filter.text {
            return match SearchQuery::parse(text) {
                Some(query) => self.search_items(filter, &query, limit, offset).await,
                None => Ok(ItemPage {
                    rows: Vec::new(),
                    total: 0,
                    more: false,
                    unreadable: Vec::new(),
                }),
            };
        }
        let (cond, texts, ints, last) = filter.sql();
        let sql = format!(
            "SELECT {} FROM items WHERE {cond} ORDER BY fetched_at DESC, id DESC LIMIT ${} OFFSET ${}",
            super::items::COLUMNS,
            last + 1,
            last + 2
        );
        let filtered = || texts.clone().then(ints.clone());
        let rows = query::each(self.pool(), &sql, filtered().then((limit, offset))).await?;
        let from_where = format!("items WHERE {cond}");
        self.counted(rows, &from_where, filtered(), limit, offset)
            .await
    }

    /// Ids of the topics that items matched, for the filter's list.
    pub async fn item_sources(&self) -> Result<Vec<String>> {
        Ok(query::scalars(
            self.pool(),
            "SELECT DISTINCT source_id FROM items ORDER BY source_id",
            (),
        )
        .await?)
    }

    /// Changes whenever an incident opens, an item is stored or anything is recorded: the
    /// console's live pages reload their content when it moves.
    pub async fn change_marker(&self) -> Result<(i64, i64, i64)> {
        Ok(query::one(
            self.pool(),
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM incidents), \
                    (SELECT COALESCE(MAX(id), 0) FROM actions), \
                    (SELECT COALESCE(MAX(id), 0) FROM items)",
            (),
        )
        .await?)
    }
}

impl Store {
    /// Each source's lag (`rules::lag`) over the items first seen since `since`: those that
    /// carry a publication time, its own and those it found after another source. The
    /// database ranks the lags (a negative one counts as none) and returns the median and
    /// the 95th percentile by the nearest rank, as `Lag::of` would: two rows a source,
    /// never the window's samples, read from the indexes by time (`items_by_fetched`,
    /// `item_sightings_by_seen`, migration 0031) without the item rows. `MATERIALIZED`:
    /// otherwise SQLite reads the window in the order of the partition, by scanning every
    /// item of every source through `items_by_source_fetched`.
    pub async fn source_lags(
        &self,
        since: i64,
    ) -> Result<std::collections::HashMap<String, crate::rules::lag::Lag>> {
        let rows: Vec<(String, i64, i64, i64)> = query::all(
            self.pool(),
            "WITH l AS MATERIALIZED (\
               SELECT source_id, CASE WHEN fetched_at < published_at THEN 0 \
                 ELSE fetched_at - published_at END AS lag FROM items \
               WHERE fetched_at >= $1 AND published_at IS NOT NULL \
               UNION ALL SELECT source_id, CASE WHEN seen_at < published_at THEN 0 \
                 ELSE seen_at - published_at END FROM item_sightings \
               WHERE seen_at >= $1 AND published_at IS NOT NULL), \
             r AS (SELECT source_id, lag, \
                 ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY lag) AS k, \
                 COUNT(*) OVER (PARTITION BY source_id) AS n FROM l) \
             SELECT source_id, n, \
               MAX(CASE WHEN k = (50 * n + 99) / 100 THEN lag END), \
               MAX(CASE WHEN k = (95 * n + 99) / 100 THEN lag END) \
             FROM r WHERE k = (50 * n + 99) / 100 OR k = (95 * n + 99) / 100 \
             GROUP BY source_id, n",
            (since,),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(source, n, p50_s, p95_s)| {
                let lag = crate::rules::lag::Lag {
                    p50_s,
                    p95_s,
                    n: n as usize,
                };
                (source, lag)
            })
            .collect())
    }

    /// When each source's newest item was fetched (or found after another source): each
    /// source found by skipping from one to the next in an index (a loose index scan, the
    /// same in both databases), then its newest row by the same index, so the cost grows
    /// with the number of sources, not of items.
    pub async fn last_item_per_source(&self) -> Result<Vec<(String, i64)>> {
        Ok(query::all(
            self.pool(),
            "WITH RECURSIVE \
               si(id) AS (SELECT MIN(source_id) FROM items \
                 UNION ALL SELECT (SELECT MIN(source_id) FROM items WHERE source_id > si.id) \
                 FROM si WHERE si.id IS NOT NULL), \
               ss(id) AS (SELECT MIN(source_id) FROM item_sightings \
                 UNION ALL SELECT (SELECT MIN(source_id) FROM item_sightings WHERE source_id > ss.id) \
                 FROM ss WHERE ss.id IS NOT NULL) \
             SELECT source_id, MAX(at) FROM (\
               SELECT id AS source_id, (SELECT MAX(fetched_at) FROM items WHERE source_id = si.id) AS at \
               FROM si WHERE id IS NOT NULL \
               UNION ALL SELECT id, (SELECT MAX(seen_at) FROM item_sightings WHERE source_id = ss.id) \
               FROM ss WHERE id IS NOT NULL\
             ) t GROUP BY source_id",
            (),
        )
        .await?)
    }
}

//! Full-text search of items through an index, not a scan (issue 29 §2).
//!
//! A text is cut into tokens the same way for the index and for a query: folded as the
//! classifier folds (`classify::normalize`: NFKC, case, Traditional → Simplified), every
//! Chinese, Japanese or Korean character a token of its own, other letters and digits in
//! words, everything else a separator. A query term is then a phrase of tokens side by
//! side, so `踩踏` finds `發生踩踏` and `景区踩踏` at any length of query; FTS5's
//! `trigram` tokenizer and PostgreSQL's `pg_trgm` cannot look up fewer than three
//! characters, and most Chinese words have two. A word of letters or digits at the end of
//! a term matches as a prefix (`yinch` finds `Yinchuan`).
//!
//! SQLite keeps the tokens in the FTS5 table `item_search` (rowid = item id), PostgreSQL
//! as a tsvector with positions under a GIN index (migration 0025). Results come newest
//! first (by item id, the order items were stored), a page at a time, and the count of a
//! search stops [`COUNT_PAGES_AHEAD`] pages past the page shown, so neither grows with the
//! years of history behind the matches shown.

use super::query::{self, Params};
use super::{Backend, ItemFilter, ItemRow, Store, Tx};
use crate::classify::normalize::{is_han, normalize};
use anyhow::Result;

/// A list of items (a search or not) counts this many pages past the page shown, and
/// says "more than" beyond them (`550 条以上` on the first page of 50): page 50 reads 60
/// pages' rows of the index, never the whole history.
pub const COUNT_PAGES_AHEAD: i64 = 10;

/// How many items a list counts at most when it shows `limit` from `offset` on.
fn count_cap(limit: i64, offset: i64) -> i64 {
    offset.max(0) + limit.max(1) * (COUNT_PAGES_AHEAD + 1)
}

/// A word longer than this many characters is indexed by its first ones.
const WORD_MAX: usize = 64;

/// PostgreSQL keeps word positions up to this (a tsvector's limit).
const PG_POSITION_MAX: usize = 16_383;

/// Items indexed per statement.
const INDEX_BATCH: usize = 400;

/// One searchable token of a text, with the range of original characters it came from
/// (`[start, end)`, counted in chars of the text as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// A character that is a token by itself: scripts written without spaces.
fn stands_alone(c: char) -> bool {
    is_han(c)
        || matches!(c,
            '\u{3040}'..='\u{30FF}'       // hiragana, katakana
            | '\u{31F0}'..='\u{31FF}'
            | '\u{1100}'..='\u{11FF}'     // hangul
            | '\u{3130}'..='\u{318F}'
            | '\u{AC00}'..='\u{D7AF}')
}

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<Token> {
    let folded = normalize(text);
    let mut out = Vec::new();
    // The word being read: its folded text, first folded char, and folded length.
    let mut word = String::new();
    let mut word_at = 0;
    let mut word_len = 0;
    let flush = |out: &mut Vec<Token>, word: &mut String, at: usize, len: &mut usize| {
        if !word.is_empty() {
            let (start, end) = folded.original_range(at, at + *len);
            out.push(Token {
                text: word.chars().take(WORD_MAX).collect(),
                start,
                end,
            });
            word.clear();
            *len = 0;
        }
    };
    for (k, c) in folded.text.chars().enumerate() {
        if stands_alone(c) {
            flush(&mut out, &mut word, word_at, &mut word_len);
            let (start, end) = folded.original_range(k, k + 1);
            out.push(Token {
                text: c.to_string(),
                start,
                end,
            });
        } else if c.is_alphanumeric() {
            if word.is_empty() {
                word_at = k;
            }
            word.push(c);
            word_len += 1;
        } else {
            flush(&mut out, &mut word, word_at, &mut word_len);
        }
    }
    flush(&mut out, &mut word, word_at, &mut word_len);
    out
}

/// One term of a query: tokens that must stand side by side, the last one a prefix when
/// it is a word.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    tokens: Vec<String>,
    prefix: bool,
}

/// What a person typed into a search box, as the index looks it up: every
/// whitespace-separated term must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
}

impl SearchQuery {
    /// `None` when `text` holds nothing searchable (only punctuation or spaces).
    pub fn parse(text: &str) -> Option<SearchQuery> {
        let terms: Vec<Term> = text
            .split_whitespace()
            .filter_map(|t| {
                let tokens: Vec<String> = tokens(t).into_iter().map(|t| t.text).collect();
                let last = tokens.last()?;
                let prefix = !last.chars().all(stands_alone);
                Some(Term { tokens, prefix })
            })
            .collect();
        (!terms.is_empty()).then_some(SearchQuery { terms })
    }

    /// An FTS5 query: `"踩 踏" AND "yinch" *`. Tokens hold only letters and digits, so
    /// nothing in them is FTS5 syntax.
    fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                format!(
                    "\"{}\"{}",
                    t.tokens.join(" "),
                    if t.prefix { " *" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// A tsquery literal: `'踩' <-> '踏' & 'yinch':*`.
    fn tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                let n = t.tokens.len();
                let phrase: Vec<String> = t
                    .tokens
                    .iter()
                    .enumerate()
                    .map(|(k, w)| {
                        let star = if t.prefix && k + 1 == n { ":*" } else { "" };
                        format!("{}{star}", pg_quote(w))
                    })
                    .collect();
                format!("({})", phrase.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Where the query's terms appear in `text`: sorted, non-overlapping char ranges of
    /// the text as given, for marking the match.
    pub fn marks(&self, text: &str) -> Vec<(usize, usize)> {
        let toks = tokens(text);
        let mut found = Vec::new();
        for term in &self.terms {
            let n = term.tokens.len();
            if n == 0 || toks.len() < n {
                continue;
            }
            for i in 0..=toks.len() - n {
                let hit = term.tokens.iter().enumerate().all(|(k, want)| {
                    let got = &toks[i + k].text;
                    if term.prefix && k + 1 == n {
                        got.starts_with(want.as_str())
                    } else {
                        got == want
                    }
                });
                if hit {
                    found.push((toks[i].start, toks[i + n - 1].end));
                }
            }
        }
        found.sort();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in found {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// A lexeme of a tsvector or tsquery literal.
fn pg_quote(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// What the index holds for an item: its tokens joined by spaces (FTS5), or a tsvector
/// literal with positions (PostgreSQL).
fn document(backend: Backend, title: &str, summary: &str) -> String {
    let mut toks = tokens(title);
    toks.extend(tokens(summary));
    match backend {
        Backend::Sqlite => toks
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres => {
            let mut at: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
            for (k, t) in toks.iter().enumerate().take(PG_POSITION_MAX) {
                at.entry(&t.text).or_default().push(k + 1);
            }
            at.iter()
                .map(|(w, ps)| {
                    let ps: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
                    format!("{}:{}", pg_quote(w), ps.join(","))
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

/// One page of a list of items and how many it holds, counted up to
/// [`COUNT_PAGES_AHEAD`] pages past this one.
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub rows: Vec<ItemRow>,
    pub total: i64,
    /// The list holds more than `total`: the count stopped there.
    pub more: bool,
    /// Items of the page whose rows this version cannot read (a value written by a newer
    /// version), with why: named, not the page lost.
    pub unreadable: Vec<(i64, String)>,
}

use super::items::COLUMNS_OF_I as ITEM_COLUMNS;

impl Store {
    /// Indexes items for search (`(id, title, summary)`), in the transaction that stores
    /// them. An item indexed before is indexed anew.
    pub async fn index_items(&self, tx: &mut Tx, items: &[(i64, &str, &str)]) -> Result<()> {
        for batch in items.chunks(INDEX_BATCH) {
            let docs: Vec<(i64, String)> = batch
                .iter()
                .map(|(id, title, summary)| (*id, document(self.backend, title, summary)))
                .collect();
            let marks: Vec<String> = (0..docs.len())
                .map(|r| match self.backend {
                    Backend::Sqlite => format!("(${}, ${})", 2 * r + 1, 2 * r + 2),
                    Backend::Postgres => {
                        format!("(${}, CAST(${} AS tsvector))", 2 * r + 1, 2 * r + 2)
                    }
                })
                .collect();
            let sql = match self.backend {
                Backend::Sqlite => {
                    // A contentless table has no REPLACE: an item indexed before leaves first.
                    let ids: Vec<String> = docs.iter().map(|(id, _)| id.to_string()).collect();
                    query::execute(
                        &mut **tx,
                        &format!(
                            "DELETE FROM item_search WHERE rowid IN ({})",
                            ids.join(", ")
                        ),
                        (),
                    )
                    .await?;
                    format!(
                        "INSERT INTO item_search (rowid, doc) VALUES {}",
                        marks.join(", ")
                    )
                }
                Backend::Postgres => format!(
                    "INSERT INTO item_search (item_id, doc) VALUES {} \
                     ON CONFLICT (item_id) DO UPDATE SET doc = EXCLUDED.doc",
                    marks.join(", ")
                ),
            };
            let mut q = sqlx::query(&sql);
            for (id, doc) in docs {
                q = q.bind(id).bind(doc);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Removes items from the search index (before the items themselves go).
    pub(crate) async fn unindex_items(
        &self,
        conn: &mut sqlx::AnyConnection,
        ids: &[i64],
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "DELETE FROM item_search WHERE rowid IN ({})",
                list.join(", ")
            ),
            Backend::Postgres => format!(
                "DELETE FROM item_search WHERE item_id IN ({})",
                list.join(", ")
            ),
        };
        query::execute(&mut *conn, &sql, ()).await?;
        Ok(())
    }

    /// Indexes up to `batch` of the items stored before the index existed, newest first,
    /// in one transaction. Returns how many it indexed: 0 when none are left.
    pub async fn index_backlog(&self, batch: i64) -> Result<usize> {
        // Read first: with nothing left (the usual case) no write, so a read-only database
        // opens, and a command does not take the write lock to learn that.
        let left: Option<i64> =
            query::optional_scalar(self.pool(), "SELECT below FROM item_search_backlog", ())
                .await?;
        if left.is_none_or(|b| b <= 0) {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let below: Option<i64> =
            query::optional_scalar(&mut *tx, "SELECT below FROM item_search_backlog", ()).await?;
        let Some(below) = below.filter(|b| *b > 0) else {
            return Ok(0);
        };
        let rows: Vec<(i64, String, String)> = query::all(
            &mut *tx,
            "SELECT id, title, summary FROM items WHERE id < $1 ORDER BY id DESC LIMIT $2",
            (below, batch),
        )
        .await?;
        let refs: Vec<(i64, &str, &str)> = rows
            .iter()
            .map(|(id, t, s)| (*id, t.as_str(), s.as_str()))
            .collect();
        self.index_items(&mut tx, &refs).await?;
        let next = rows.last().map_or(0, |r| r.0);
        query::execute(
            &mut *tx,
            "UPDATE item_search_backlog SET below = $1",
            (if rows.len() < batch as usize { 0 } else { next },),
        )
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Indexes every item stored before the index existed (once, after the upgrade that
    /// brought migration 0025), a batch per transaction so that polls go on between them.
    pub async fn index_all_backlog(&self) -> Result<usize> {
        let mut done = 0;
        loop {
            let n = self.index_backlog(2_000).await?;
            if n == 0 {
                return Ok(done);
            }
            done += n;
            tracing::info!(indexed = done, "indexing stored items for search");
        }
    }

    /// One page of the items that `filter` selects and whose title or text holds every
    /// term of `query`, newest first, with their count up to [`COUNT_PAGES_AHEAD`] pages
    /// past this one.
    pub async fn search_items(
        &self,
        filter: &ItemFilter,
        query: &SearchQuery,
        limit: i64,
        offset: i64,
    ) -> Result<ItemPage> {
        let filter = ItemFilter {
            text: None,
            ..filter.clone()
        };
        let (cond, texts, ints, last) = filter.sql();
        let (from, matches, order, q) = match self.backend {
            Backend::Sqlite => (
                "item_search s JOIN items i ON i.id = s.rowid",
                format!("item_search MATCH ${}", last + 1),
                "s.rowid DESC",
                query.fts5(),
            ),
            Backend::Postgres => (
                "items i JOIN item_search s ON s.item_id = i.id",
                format!("s.doc @@ CAST(${} AS tsquery)", last + 1),
                "i.id DESC",
                query.tsquery(),
            ),
        };
        let page_sql = format!(
            "SELECT {ITEM_COLUMNS} FROM {from} WHERE {cond} AND {matches} \
             ORDER BY {order} LIMIT ${} OFFSET ${}",
            last + 2,
            last + 3
        );
        let filtered = || texts.clone().then(ints.clone());
        let page = filtered().then((q.clone(), limit, offset));
        let rows = query::each(self.pool(), &page_sql, page).await?;
        let from_where = format!("{from} WHERE {cond} AND {matches}");
        self.counted(rows, &from_where, filtered().then((q,)), limit, offset)
            .await
    }

    /// The page `rows` of what `from_where` (`… FROM … WHERE …` with `params`) selects,
    /// with its count up to [`COUNT_PAGES_AHEAD`] pages past the one at `offset`.
    pub(super) async fn counted(
        &self,
        (rows, unreadable): (Vec<ItemRow>, Vec<(i64, String)>),
        from_where: &str,
        params: impl for<'q> Params<'q>,
        limit: i64,
        offset: i64,
    ) -> Result<ItemPage> {
        let cap = count_cap(limit, offset);
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {from_where} LIMIT {}) AS found",
            cap + 1
        );
        let found: i64 = query::scalar(self.pool(), &sql, params).await?;
        Ok(ItemPage {
            rows,
            total: found.min(cap),
            more: found > cap,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chinese_characters_stand_alone_and_words_hold_together() {
        assert_eq!(texts("景区发生踩踏"), ["景", "区", "发", "生", "踩", "踏"]);
        assert_eq!(
            texts("Yinchuan 2026，景區！"),
            ["yinchuan", "2026", "景", "区"]
        );
        // Full-width letters fold to the same word; the range is of the text as given.
        let t = tokens("在ＡＢＣ里");
        assert_eq!(t[1].text, "abc");
        assert_eq!((t[1].start, t[1].end), (1, 4));
    }

    #[test]
    fn queries_become_phrases_in_both_languages() {
        let q = SearchQuery::parse(" 踩踏  yinch ").unwrap();
        assert_eq!(q.fts5(), "\"踩 踏\" AND \"yinch\" *");
        assert_eq!(q.tsquery(), "('踩' <-> '踏') & ('yinch':*)");
        assert_eq!(SearchQuery::parse(" ，。%_ "), None);
        // A quote cannot reach the query syntax.
        let q = SearchQuery::parse("a\"b'c").unwrap();
        assert_eq!(q.fts5(), "\"a b c\" *");
    }

    #[test]
    fn marks_point_at_the_text_as_given() {
        let q = SearchQuery::parse("踩踏").unwrap();
        // Traditional 踩踏 is the same characters; 景區 folds to 景区.
        assert_eq!(q.marks("景區發生踩踏，踩 踏"), vec![(4, 6), (7, 10)]);
        let q = SearchQuery::parse("景区 yinch").unwrap();
        assert_eq!(q.marks("YINCHUAN 景區"), vec![(0, 8), (9, 11)]);
        assert!(q.marks("无关").is_empty());
    }

    #[test]
    fn postgres_documents_carry_positions() {
        assert_eq!(
            document(Backend::Postgres, "踩踏", "踩 it's"),
            "'it':4 's':5 '踏':2 '踩':1,3"
        );
        assert_eq!(document(Backend::Sqlite, "踩踏", "ok"), "踩 踏 ok");
    }
}

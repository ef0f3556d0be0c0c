//! How an incident spread (issue 24 §3): where it was first published, how many sources
//! carried it, each source's items over time, and re-posts (the same text from another
//! source). Pure: computed from the incident's items and their sightings (another source
//! that carried the same item, issue 24 §2), as `incident show`, its JSON, the console's
//! incident page and the briefing show it.

use crate::classify::normalize::normalize_text;
use crate::store::{ItemRow, Sighting};
use serde::Serialize;
use std::collections::BTreeMap;

/// One source's part in an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSpread {
    pub source: String,
    pub items: usize,
    /// Its first and last item, by publication (else first seen), in seconds.
    pub first: i64,
    pub last: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spread {
    /// The source of the earliest item and that item's time.
    pub first_source: Option<String>,
    pub first_published: Option<i64>,
    pub sources: usize,
    /// Items whose text an earlier item of another source carried already.
    pub reposts: usize,
    /// Sources in the order they first carried the incident.
    pub per_source: Vec<SourceSpread>,
}

impl Spread {
    /// `sightings`: other sources that carried the same items; each counts as that
    /// source's item, at its own publication time (else when it was seen there).
    pub fn of(items: &[ItemRow], sightings: &[Sighting]) -> Spread {
        // (when, the item's id, whether a sighting, source, title): an item before its
        // sightings at the same time.
        let mut ordered: Vec<(i64, i64, bool, &str, &str)> = items
            .iter()
            .map(|i| {
                let at = i.published_at.unwrap_or(i.fetched_at);
                (at, i.id, false, i.source_id.as_str(), i.title.as_str())
            })
            .collect();
        for s in sightings {
            if let Some(i) = items.iter().find(|i| i.id == s.item_id) {
                let at = s.published_at.unwrap_or(s.seen_at);
                ordered.push((at, i.id, true, s.source_id.as_str(), i.title.as_str()));
            }
        }
        ordered.sort();
        let mut per: BTreeMap<&str, SourceSpread> = BTreeMap::new();
        // Each text, with the source that carried it first.
        let mut texts: BTreeMap<String, &str> = BTreeMap::new();
        let mut reposts = 0;
        for &(at, _, _, source, title) in &ordered {
            let e = per.entry(source).or_insert(SourceSpread {
                source: source.to_string(),
                items: 0,
                first: at,
                last: at,
            });
            e.items += 1;
            e.last = e.last.max(at);
            let text = normalize_text(title);
            match texts.get(&text) {
                Some(first) if *first != source => reposts += 1,
                Some(_) => {}
                None => {
                    texts.insert(text, source);
                }
            }
        }
        let mut per_source: Vec<SourceSpread> = per.into_values().collect();
        per_source.sort_by_key(|s| (s.first, s.source.clone()));
        Spread {
            first_source: ordered.first().map(|o| o.3.to_string()),
            first_published: ordered.first().map(|o| o.0),
            sources: per_source.len(),
            reposts,
            per_source,
        }
    }
}

impl Spread {
    /// In words, as `incident show` and the console's incident page show it:
    /// `传播：首发 【weibo/某景区】 2026-11-24 09:00；来源 3 个，转载 2 条`, then, when there
    /// are several, a line per source. Nothing for an incident without items.
    pub fn lines(&self, tz: chrono_tz::Tz) -> Vec<String> {
        use crate::vocab::clock::from_secs;
        use crate::vocab::clock::local;
        let (Some(first), Some(at)) = (&self.first_source, self.first_published) else {
            return Vec::new();
        };
        let mut out = vec![format!(
            "传播：首发 【{first}】 {}；来源 {} 个，转载 {} 条",
            local(from_secs(at), tz),
            self.sources,
            self.reposts
        )];
        // One source: its line would only repeat the first.
        for p in self.per_source.iter().filter(|_| self.sources > 1) {
            out.push(format!(
                "  【{}】{} 条，{} 至 {}",
                p.source,
                p.items,
                local(from_secs(p.first), tz),
                local(from_secs(p.last), tz)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, source: &str, title: &str, published: Option<i64>, fetched: i64) -> ItemRow {
        ItemRow {
            id,
            source_id: source.into(),
            guid: id.to_string(),
            link: None,
            title: title.into(),
            summary: String::new(),
            published_at: published,
            fetched_at: fetched,
            topics: Default::default(),
            tone: None,
            signature: None,
        }
    }

    #[test]
    fn first_source_per_source_and_reposts() {
        let items = [
            item(3, "news", "某景区栈道坍塌 多名游客受伤", Some(2_000), 2_100),
            item(
                1,
                "weibo/某景区",
                "某景区栈道坍塌 多名游客受伤",
                Some(1_000),
                1_500,
            ),
            item(2, "weibo/某景区", "现场视频：栈道坍塌瞬间", None, 1_800),
            // The same headline in Traditional script from a third source: a re-post.
            item(
                4,
                "forum",
                "某景區棧道坍塌 多名遊客受傷",
                Some(3_000),
                3_100,
            ),
        ];
        let s = Spread::of(&items, &[]);
        assert_eq!(s.first_source.as_deref(), Some("weibo/某景区"));
        assert_eq!(s.first_published, Some(1_000));
        assert_eq!(s.sources, 3);
        assert_eq!(s.reposts, 2);
        let order: Vec<(&str, usize, i64, i64)> = s
            .per_source
            .iter()
            .map(|p| (p.source.as_str(), p.items, p.first, p.last))
            .collect();
        assert_eq!(
            order,
            [
                ("weibo/某景区", 2, 1_000, 1_800),
                ("news", 1, 2_000, 2_000),
                ("forum", 1, 3_000, 3_000)
            ]
        );
        assert_eq!(Spread::of(&[], &[]).sources, 0);
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(s.lines(tz).len(), 4, "the first line and one per source");
        assert_eq!(
            Spread::of(&items[..1], &[]).lines(tz).len(),
            1,
            "one source: one line"
        );
        assert!(Spread::of(&[], &[]).lines(tz).is_empty());
    }

    #[test]
    fn a_sighting_is_its_source_carrying_the_item() {
        let items = [item(
            1,
            "news/某景区",
            "某景区栈道坍塌 多名游客受伤",
            Some(2_000),
            2_100,
        )];
        let seen = |source: &str, published: Option<i64>, seen_at: i64| Sighting {
            item_id: 1,
            source_id: source.into(),
            link: None,
            published_at: published,
            seen_at,
        };
        // Weibo had it earlier than the news search; a second search term found the same
        // post later; a sighting of an item not in the list is no part of it.
        let sightings = [
            seen("weibo/某景区", Some(1_000), 2_500),
            seen("weibo/栈道", None, 2_600),
            Sighting {
                item_id: 9,
                ..seen("forum", Some(10), 20)
            },
        ];
        let s = Spread::of(&items, &sightings);
        assert_eq!(s.first_source.as_deref(), Some("weibo/某景区"));
        assert_eq!(s.first_published, Some(1_000));
        assert_eq!(s.sources, 3);
        assert_eq!(s.reposts, 2, "the same text from two other sources");
        let order: Vec<&str> = s.per_source.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(order, ["weibo/某景区", "news/某景区", "weibo/栈道"]);
    }
}

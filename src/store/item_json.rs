//! An item as JSON shows it: one shape for `yuqing items --json`, `yuqing incident show
//! --json` and the console's `/items?format=json`, so a script reads the same keys from
//! each. Times are RFC 3339 in the deployment's zone; what is stored shows exact.

use super::{HeldFiling, ItemRow, Sighting, Topics};
use crate::classify::tone::Tone;
use crate::vocab::clock::{from_secs, rfc3339};
use serde::Serialize;

/// One item: its own fields, then every other source that carried it (issue 24 §2).
#[derive(Debug, Serialize)]
pub struct ItemJson<'a> {
    pub id: i64,
    pub source: &'a str,
    pub title: &'a str,
    pub link: Option<&'a str>,
    pub published: Option<String>,
    pub fetched: String,
    pub topics: &'a Topics,
    pub tone: Option<Tone>,
    pub seen_by: Vec<SeenByJson<'a>>,
    /// The topics under which its filing waits, because an incident row of the topic
    /// cannot be read (`held_filings`); left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_topics: Vec<&'a str>,
}

/// Another source that carried the item: its link and publication time as that source
/// gave them, and when yuqing saw it there.
#[derive(Debug, Serialize)]
pub struct SeenByJson<'a> {
    pub source: &'a str,
    pub link: Option<&'a str>,
    pub published: Option<String>,
    pub seen: String,
}

impl ItemRow {
    /// The item as JSON shows it, with those of `sightings` and `held` that are its own.
    pub fn json<'a>(
        &'a self,
        sightings: &'a [Sighting],
        held: &'a [HeldFiling],
        tz: chrono_tz::Tz,
    ) -> ItemJson<'a> {
        let time = |t: i64| rfc3339(from_secs(t), tz);
        ItemJson {
            id: self.id,
            source: &self.source_id,
            title: &self.title,
            link: self.link.as_deref(),
            published: self.published_at.map(time),
            fetched: time(self.fetched_at),
            topics: &self.topics,
            tone: self.tone,
            seen_by: sightings
                .iter()
                .filter(|s| s.item_id == self.id)
                .map(|s| SeenByJson {
                    source: &s.source_id,
                    link: s.link.as_deref(),
                    published: s.published_at.map(time),
                    seen: time(s.seen_at),
                })
                .collect(),
            held_topics: held
                .iter()
                .filter(|h| h.item_id == self.id)
                .map(|h| h.topic_id.as_str())
                .collect(),
        }
    }
}

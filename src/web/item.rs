//! One item as a row of the console: `/items` and an incident's page show the same view,
//! each marking its own words (a search's, or what the topic matched on) in the title.

use super::evidence::EvidenceView;
use crate::config::settings::Settings;
use crate::store::{ItemRow, Sighting};
use crate::vocab::clock::{from_secs, local};

/// A piece of text; `marked` when it is a word the page marks (a topic's match, a search's
/// word).
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// Text in pieces, the marked words apart.
pub type Marked = Vec<Piece>;

/// `text` in pieces, the char ranges `spans` (sorted) marked; one empty piece for an empty
/// text.
pub fn pieces(text: &str, spans: Vec<(usize, usize)>) -> Marked {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in spans {
        let (s, e) = (s.max(at).min(chars.len()), e.min(chars.len()));
        if s >= e {
            continue;
        }
        if s > at {
            out.push(Piece {
                text: chars[at..s].iter().collect(),
                marked: false,
            });
        }
        out.push(Piece {
            text: chars[s..e].iter().collect(),
            marked: true,
        });
        at = e;
    }
    if at < chars.len() || out.is_empty() {
        out.push(Piece {
            text: chars[at..].iter().collect(),
            marked: false,
        });
    }
    out
}

/// One item as a row of a page.
pub struct ItemView {
    pub id: i64,
    /// Its source's name.
    pub source: String,
    /// The other sources that carried it (issue 24 §2): each one's name and its link there
    /// (empty when not http).
    pub also: Vec<(String, String)>,
    pub fetched: String,
    /// When it was published; empty when unknown.
    pub published: String,
    /// Its link, empty when not http.
    pub link: String,
    pub title: Marked,
    /// Part of its text, its marks marked; empty when the page shows none.
    pub excerpt: Marked,
    /// Its topics' names.
    pub topics: Vec<String>,
    /// 负面 -0.62, empty for items stored before tone existed.
    pub tone: String,
    /// `negative`, `neutral`, `positive` (a CSS class), or empty.
    pub tone_class: &'static str,
    /// What became of its page, when it was captured (issue 23).
    pub evidence: Option<EvidenceView>,
    /// Its filing under a topic waits: an incident row of the topic cannot be read
    /// (`held_filings`), so no clock runs for it yet. Set by the page that asks.
    pub held: bool,
}

impl ItemView {
    /// `item` as stored, with the sightings of it among `sightings`; its title unmarked,
    /// no excerpt and no evidence until the page gives them.
    pub fn of(item: &ItemRow, sightings: &[Sighting], settings: &Settings) -> ItemView {
        let config = &settings.config;
        let tz = config.daemon.timezone;
        let source_name = |id: &str| crate::incident::source_name(config, id);
        let topic_name = |id: &str| {
            settings
                .watchlists
                .topics
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| id.to_string(), |t| t.name.clone())
        };
        ItemView {
            id: item.id,
            source: source_name(&item.source_id),
            also: sightings
                .iter()
                .filter(|s| s.item_id == item.id)
                .map(|s| (source_name(&s.source_id), web_link(&s.link)))
                .collect(),
            fetched: local(from_secs(item.fetched_at), tz),
            published: item
                .published_at
                .map(|t| local(from_secs(t), tz))
                .unwrap_or_default(),
            link: web_link(&item.link),
            title: pieces(&item.title, Vec::new()),
            excerpt: Vec::new(),
            topics: item.topics.iter().map(|t| topic_name(t)).collect(),
            tone: item
                .tone
                .map(|t| format!("{} {:+.2}", t.label.zh(), t.score))
                .unwrap_or_default(),
            tone_class: item.tone.map_or("", |t| t.label.as_str()),
            evidence: None,
            held: false,
        }
    }

    /// When it was published, else when it was fetched.
    pub fn time(&self) -> &str {
        if self.published.is_empty() {
            &self.fetched
        } else {
            &self.published
        }
    }
}

/// A link the page may make clickable: http(s) only, else empty.
pub fn web_link(link: &Option<String>) -> String {
    link.clone()
        .filter(|l| l.starts_with("http"))
        .unwrap_or_default()
}

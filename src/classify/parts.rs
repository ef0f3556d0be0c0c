//! Classifying an item in its parts: the title, the feed's summary, and the article's body
//! once it has been read, saying for each topic where its words were.
//!
//! A feed gives a title and a few lines; the article behind it says much more, and a topic
//! whose words are only in the body is worth knowing about, but it is a different kind of
//! match: the duty officer reads the title first, and an alert on a word deep in the body
//! must say so. The parts are classified as one text, `title\nsummary\nbody` (so a rule's
//! `all` and `near` see the item as a whole, as the poll always has for title and summary),
//! and each topic's evidence is placed back in the part it came from.

use serde::Serialize;

use super::explain::Explanation;
use super::{Classification, Classifier};
use crate::vocab::severity::Severity;

/// A part of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Title,
    Summary,
    Body,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Title => "title",
            Part::Summary => "summary",
            Part::Body => "body",
        }
    }

    /// `标题`, `摘要`, `正文`.
    pub fn zh(self) -> &'static str {
        match self {
            Part::Title => "标题",
            Part::Summary => "摘要",
            Part::Body => "正文",
        }
    }
}

/// An item's text in its parts; `body` is empty until the article has been read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
}

impl Parts<'_> {
    /// The text classified: `title\nsummary`, the poll's text for a feed item, and
    /// `\nbody` after it when there is a body.
    pub fn joined(&self) -> String {
        let mut text = format!("{}\n{}", self.title, self.summary);
        if !self.body.is_empty() {
            text.push('\n');
            text.push_str(self.body);
        }
        text
    }

    /// Where each part begins in [`Parts::joined`], in characters.
    pub fn bounds(&self) -> PartBounds {
        let summary = self.title.chars().count() + 1;
        PartBounds {
            summary,
            body: summary + self.summary.chars().count() + 1,
        }
    }
}

/// Character offsets at which the summary and the body begin in the joined text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartBounds {
    pub summary: usize,
    pub body: usize,
}

impl PartBounds {
    /// The part holding the character at `offset` of the joined text.
    pub fn part_at(&self, offset: usize) -> Part {
        if offset >= self.body {
            Part::Body
        } else if offset >= self.summary {
            Part::Summary
        } else {
            Part::Title
        }
    }
}

/// One matched topic and where its words were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    /// The parts that match it each on their own, in the order title, summary, body; for a
    /// rule that holds only across parts, the parts of the words that made it hold.
    pub found_in: Vec<Part>,
    /// The title and summary alone do not match it: only the body made it match.
    pub body_only: bool,
}

/// What an explanation of parts adds: where each part begins and where each topic matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsFound {
    pub bounds: PartBounds,
    pub matches: Vec<Match>,
}

/// What [`Classifier::classify_parts`] gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartsClassification {
    /// The classification of the joined text (topics, severity, tone).
    pub classification: Classification,
    /// Each matched topic of `classification`, in its order, with where it matched.
    pub matches: Vec<Match>,
}

impl Classifier {
    /// Classifies the item's parts as one text and says where each topic matched: in each
    /// part that matches it on its own, or, for a rule that holds only across parts (`all`
    /// with one word in the title and one in the body), in the parts of its words.
    pub fn classify_parts(&self, parts: &Parts<'_>, source: Option<&str>) -> PartsClassification {
        let classification = self.classify(&parts.joined(), source);
        if classification.topics.is_empty() {
            return PartsClassification {
                classification,
                matches: Vec::new(),
            };
        }
        // Most items match nothing; for those that do, each part is classified alone.
        let alone: Vec<(Part, Vec<String>)> = [
            (Part::Title, parts.title),
            (Part::Summary, parts.summary),
            (Part::Body, parts.body),
        ]
        .into_iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(part, text)| {
            let ids = self.classify(text, source).topics.into_iter().map(|t| t.id);
            (part, ids.collect())
        })
        .collect();
        let head = match parts.body.is_empty() {
            true => None,
            false => Some(self.classify(&Parts { body: "", ..*parts }.joined(), source)),
        };
        let bounds = parts.bounds();
        let matches = classification
            .topics
            .iter()
            .map(|t| {
                let mut found_in: Vec<Part> = alone
                    .iter()
                    .filter(|(_, ids)| ids.contains(&t.id))
                    .map(|(part, _)| *part)
                    .collect();
                if found_in.is_empty() {
                    found_in = t.evidence.iter().map(|e| bounds.part_at(e.start)).collect();
                    found_in.sort();
                    found_in.dedup();
                }
                Match {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    severity: t.severity,
                    found_in,
                    body_only: head
                        .as_ref()
                        .is_some_and(|h| !h.topics.iter().any(|m| m.id == t.id)),
                }
            })
            .collect();
        PartsClassification {
            classification,
            matches,
        }
    }

    /// [`Classifier::explain`] of the joined parts, each word labelled with its part and
    /// each matched topic with where it matched.
    pub fn explain_parts(&self, parts: &Parts<'_>, source: Option<&str>) -> Explanation {
        let mut e = self.explain(&parts.joined(), source);
        e.parts = Some(PartsFound {
            bounds: parts.bounds(),
            matches: self.classify_parts(parts, source).matches,
        });
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::watchlist::Watchlists;

    fn classifier() -> Classifier {
        let src = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\n\
                   all = [\"景区\", \"坍塌\"]\n\n\
                   [[topic]]\nid = \"water\"\nname = \"停水\"\nseverity = \"ordinary\"\n\
                   any = [\"停水\"]\n";
        Classifier::new(&Watchlists::of_file("t.toml", src)).unwrap_or_else(|d| panic!("{d}"))
    }

    #[test]
    fn each_topic_says_in_which_parts_its_words_were() {
        let c = classifier();
        let parts = Parts {
            title: "某景区栈道发生坍塌",
            summary: "多名游客被困",
            body: "今日上午，景区一段栈道坍塌。另据通知，园区周边明日停水。",
        };
        let got = c.classify_parts(&parts, None);
        assert_eq!(got.classification, c.classify(&parts.joined(), None));
        let scenic = got.matches.iter().find(|m| m.id == "scenic").unwrap();
        assert_eq!(scenic.found_in, [Part::Title, Part::Body]);
        assert!(!scenic.body_only, "the title alone matches it");
        let water = got.matches.iter().find(|m| m.id == "water").unwrap();
        assert_eq!(water.found_in, [Part::Body]);
        assert!(water.body_only);
    }

    #[test]
    fn a_rule_can_hold_across_parts_and_then_needs_the_body() {
        let c = classifier();
        let parts = Parts {
            title: "某景区游客激增",
            summary: "",
            body: "一段护栏坍塌，无人受伤。",
        };
        let got = c.classify_parts(&parts, None);
        assert_eq!(got.matches.len(), 1);
        assert_eq!(got.matches[0].found_in, [Part::Title, Part::Body]);
        assert!(
            got.matches[0].body_only,
            "title and summary alone do not match"
        );
    }

    #[test]
    fn without_a_body_the_text_is_the_polls() {
        let parts = Parts {
            title: "标题",
            summary: "摘要",
            body: "",
        };
        assert_eq!(parts.joined(), "标题\n摘要");
        let b = parts.bounds();
        assert_eq!(
            (b.part_at(0), b.part_at(3), b.part_at(5)),
            (Part::Title, Part::Summary, Part::Summary)
        );
        let c = classifier();
        let got = c.classify_parts(
            &Parts {
                title: "停水通知",
                ..parts
            },
            None,
        );
        assert_eq!(got.matches[0].found_in, [Part::Title]);
        assert!(!got.matches[0].body_only);
    }
}

//! Ids that are easy to mix up: an incident's and an item's are both numbers, and
//! `merge`, `split` and the record of actions take both; a topic's id is text that is
//! not any other text (a name, a source's id).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The number of an incident (`#12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct IncidentId(pub i64);

/// The id of a watchlist topic (`scenic`), as an item's topics and an incident's topic
/// carry it; a string as JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TopicId(String);

impl TopicId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for TopicId {
    fn from(id: String) -> Self {
        TopicId(id)
    }
}

impl From<&str> for TopicId {
    fn from(id: &str) -> Self {
        TopicId(id.to_string())
    }
}

impl std::ops::Deref for TopicId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for TopicId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TopicId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TopicId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The number of a stored item (`item 12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ItemId(pub i64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

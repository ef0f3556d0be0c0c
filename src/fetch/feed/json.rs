//! JSON Feed (1.0 and 1.1), read field by field: a field of the wrong type (a
//! `home_page_url` that is an array, an `id` that is an object) is ignored with a warning,
//! not a reason to reject every item.

use serde_json::Value;
use url::Url;

use super::date::Reader;
use super::{is_blank, Entry, FeedError, Read};
use crate::fetch::page::{absolute, collapse, html_to_text};

/// Warnings beyond this many are counted, not listed.
const MAX_WARNINGS: usize = 5;

pub(super) fn read(text: &str, base: &Url, dates: &Reader) -> Result<Read, FeedError> {
    let value: Value = serde_json::from_str(text).map_err(|e| FeedError::MalformedJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let not_a_feed = || FeedError::MalformedJson {
        line: 1,
        column: 1,
        message: "not a JSON Feed (no `version` and `items`)".into(),
    };
    let Value::Object(feed) = &value else {
        return Err(not_a_feed());
    };
    let mut warnings = Warnings::default();
    match feed.get("version") {
        Some(Value::String(v)) if v.starts_with("https://jsonfeed.org/version/") => {}
        Some(Value::String(v)) => {
            return Err(FeedError::UnsupportedJsonVersion(super::xml::printable(v)))
        }
        Some(other) => warnings.push(format!("`version` is {}, not a string", kind(other))),
        None if feed.contains_key("items") => warnings.push("`version` is missing".into()),
        None => return Err(not_a_feed()),
    }
    for key in ["title", "home_page_url", "feed_url", "description"] {
        if let Some(v) = feed.get(key) {
            if !v.is_string() && !v.is_null() {
                warnings.push(format!("`{key}` is {}, not a string; ignored", kind(v)));
            }
        }
    }
    let items = match feed.get("items") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(other) => {
            return Err(FeedError::MalformedJson {
                line: 1,
                column: 1,
                message: format!("`items` is {}, not an array", kind(other)),
            })
        }
        None => return Err(not_a_feed()),
    };
    let mut entries = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            warnings.push(format!(
                "items[{i}] is {}, not an object; skipped",
                kind(item)
            ));
            continue;
        };
        let mut string = |key: &str| -> Option<String> {
            match item.get(key)? {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                // An id is "a string"; numbers are common and unambiguous.
                Value::Number(n) if key == "id" => Some(n.to_string()),
                other => {
                    warnings.push(format!(
                        "items[{i}].{key} is {}, not a string; ignored",
                        kind(other)
                    ));
                    None
                }
            }
        };
        let id = string("id").map(|s| collapse(&s)).filter(|s| !s.is_empty());
        let url = string("url");
        let external = string("external_url");
        let title = string("title").map(|t| collapse(&t)).unwrap_or_default();
        let summary_text = string("summary");
        let html = string("content_html");
        let plain = string("content_text");
        let published = string("date_published");
        let modified = string("date_modified");
        let entry = Entry {
            guid: id,
            link: url
                .and_then(|u| absolute(base, &u))
                .or_else(|| external.and_then(|u| absolute(base, &u))),
            title,
            summary: summary_text
                .map(|s| collapse(&s))
                .filter(|s| !s.is_empty())
                .or_else(|| html.map(|h| html_to_text(&h)))
                .filter(|s| !s.is_empty())
                .or_else(|| plain.map(|p| collapse(&p)))
                .unwrap_or_default(),
            published: dates.first(published.iter().chain(modified.iter()).map(String::as_str)),
        };
        if !is_blank(&entry) {
            entries.push(entry);
        }
    }
    if entries.is_empty() && !items.is_empty() {
        return Err(FeedError::Unreadable {
            elements: items.len(),
            detail: warnings
                .first()
                .map(|w| format!(" ({w})"))
                .unwrap_or_default(),
        });
    }
    Ok(Read {
        entries,
        warnings: warnings.into_lines(),
    })
}

#[derive(Default)]
struct Warnings {
    lines: Vec<String>,
    more: usize,
}

impl Warnings {
    fn push(&mut self, line: String) {
        if self.lines.len() < MAX_WARNINGS {
            self.lines.push(line);
        } else {
            self.more += 1;
        }
    }

    fn first(&self) -> Option<&String> {
        self.lines.first()
    }

    fn into_lines(self) -> Vec<String> {
        if self.lines.is_empty() {
            return Vec::new();
        }
        let mut text = format!("JSON Feed: {}", self.lines.join("; "));
        if self.more > 0 {
            text.push_str(&format!(" (and {} more)", self.more));
        }
        vec![text]
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

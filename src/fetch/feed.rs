//! Reading items out of a syndication feed, whichever of the five formats a site chose.
//!
//! Government portals and media still publish RSS 0.91 next to RSS 2.0, RDF (RSS 1.0),
//! Atom and JSON Feed, often in GBK and often not quite valid. `feed-rs` knows the formats;
//! this module adds what the daemon needs around it: the text is first decoded by
//! [`crate::fetch::charset`] and its XML declaration rewritten to UTF-8 (so the parser does not
//! decode our UTF-8 a second time as GB2312), links are made absolute, titles and summaries
//! become plain text for the classifier, zone-less dates are read in the configured zone,
//! and a failure says what is wrong in words a duty officer can act on: "the document is
//! HTML" (the feed moved, or a login page answered) or "malformed XML at line 12".

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::fetch::charset::{self, Decoded};
use crate::fetch::chinese_date;
use crate::fetch::page::{absolute, collapse, html_to_text};

/// One item of a feed or list page, as the rest of the daemon sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The feed's own identifier (`<guid>`, `<id>`, JSON `id`); for a list page, the link.
    pub guid: Option<String>,
    /// Absolute URL of the item.
    pub link: Option<String>,
    /// Plain text, whitespace collapsed; may be empty when the site gave none.
    pub title: String,
    /// Plain text: HTML stripped, entities decoded, whitespace collapsed.
    pub summary: String,
    pub published: Option<DateTime<Utc>>,
}

/// Why a fetched document could not be read as a feed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("not a feed: the document is empty")]
    Empty,
    #[error(
        "not a feed: the document is HTML (the feed may have moved, or an error or login page \
         answered); open the source's URL in a browser"
    )]
    Html,
    #[error("not a feed: the document is XML with root element <{root}>, not <rss>, <rdf:RDF> or <feed>")]
    UnknownRoot { root: String },
    #[error("not a feed: the document is neither XML nor JSON")]
    NotXmlOrJson,
    #[error("malformed XML at line {line}, column {column}: {message}")]
    MalformedXml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("malformed JSON Feed at line {line}, column {column}: {message}")]
    MalformedJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("unsupported JSON Feed version `{0}`")]
    UnsupportedJsonVersion(String),
    #[error("the feed could not be read: {0}")]
    Other(String),
}

/// Parses a feed with feed-rs's own date reading (RFC 3339 / 2822 / 1123; no clock is
/// read). The daemon uses [`parse_in_zone`], which also reads zone-less and Chinese dates in
/// the configured zone, as Chinese sites mean them.
pub fn parse(decoded: &Decoded, base: &Url) -> Result<Vec<Entry>, FeedError> {
    parse_with(decoded, base, None)
}

/// Parses a feed. Dates with no zone (`2026-11-24 10:30:00`, common in Chinese CMS feeds) and
/// Chinese dates (`2026年11月24日`) are read in `tz`; `now` anchors relative ones.
pub fn parse_in_zone(
    decoded: &Decoded,
    base: &Url,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<Entry>, FeedError> {
    parse_with(decoded, base, Some((now, tz)))
}

fn parse_with(
    decoded: &Decoded,
    base: &Url,
    zone: Option<(DateTime<Utc>, Tz)>,
) -> Result<Vec<Entry>, FeedError> {
    let text = charset::to_utf8_xml(decoded);
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if start.is_empty() {
        return Err(FeedError::Empty);
    }
    if looks_like_html(start) {
        return Err(FeedError::Html);
    }
    let parse = |text: &str| {
        let mut builder = feed_rs::parser::Builder::new()
            .base_uri(Some(base.as_str()))
            // No invented ids: an item without a guid is deduplicated by its link downstream.
            .id_generator(|_, _, _| String::new());
        if let Some((now, tz)) = zone {
            builder = builder.timestamp_parser(move |s| timestamp(s, now, tz));
        }
        builder.build().parse(text.as_bytes())
    };
    let feed = match parse(start) {
        Ok(feed) => feed,
        // feed-rs knows only versions 0.91, 0.92 and 2.0 of <rss>; CMS templates often leave
        // the attribute out or write another number, and the content is RSS 2.0 all the same.
        Err(e) => match as_rss_2(start).map(|fixed| parse(&fixed)) {
            Some(Ok(feed)) => feed,
            _ => return Err(explain(start, e)),
        },
    };
    Ok(feed.entries.into_iter().map(|e| entry(e, base)).collect())
}

/// The document with its `<rss …>` root declared `version="2.0"`, if the root is `<rss>`
/// without a version feed-rs knows.
fn as_rss_2(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                if e.name().as_ref() != b"rss" {
                    return None;
                }
                let version = e
                    .try_get_attribute("version")
                    .ok()
                    .flatten()
                    .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                if matches!(version.as_deref(), Some("2.0" | "0.91" | "0.92")) {
                    return None;
                }
                let end = usize::try_from(reader.buffer_position()).ok()?;
                let mut tag = String::from("<rss version=\"2.0\"");
                for attr in e.attributes().flatten() {
                    if attr.key.as_ref() != b"version" {
                        tag.push(' ');
                        tag.push_str(&String::from_utf8_lossy(attr.key.as_ref()));
                        tag.push_str("=\"");
                        tag.push_str(&String::from_utf8_lossy(&attr.value).replace('"', "&quot;"));
                        tag.push('"');
                    }
                }
                tag.push('>');
                let tag_start = before + text.get(before..end)?.find("<rss")?;
                return Some(format!("{}{tag}{}", &text[..tag_start], &text[end..]));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn entry(e: feed_rs::model::Entry, base: &Url) -> Entry {
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(e.links.first())
        .and_then(|l| absolute(base, &l.href));
    let summary = e
        .summary
        .as_ref()
        .map(|t| t.content.as_str())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| e.content.as_ref().and_then(|c| c.body.as_deref()))
        .map(html_to_text)
        .unwrap_or_default();
    Entry {
        guid: Some(e.id.trim().to_string()).filter(|id| !id.is_empty()),
        link,
        title: e
            .title
            .map(|t| html_to_text(&t.content))
            .unwrap_or_default(),
        summary,
        published: e.published.or(e.updated),
    }
}

/// Feed dates: RFC 3339 / RFC 2822 with their zone, anything zone-less or Chinese in `tz`.
/// A wrong weekday (`Tue, 24 Nov 2026`, when the 24th is a Tuesday only in another year) is
/// common in hand-made feeds, so a date that fails is retried without its weekday.
fn timestamp(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let text = collapse(text);
    chinese_date::parse(&text, now, tz).or_else(|| {
        let (_, rest) = text.split_once(',')?;
        DateTime::parse_from_rfc2822(rest.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// HTML served where a feed was expected: a doctype or `<html>` before any feed root.
fn looks_like_html(text: &str) -> bool {
    let head: String = text.chars().take(2048).collect::<String>().to_lowercase();
    let html = ["<!doctype html", "<html"]
        .iter()
        .filter_map(|m| head.find(m))
        .min();
    let feed = ["<rss", "<rdf:rdf", "<feed", "<rdf"]
        .iter()
        .filter_map(|m| head.find(m))
        .min();
    match (html, feed) {
        (Some(h), Some(f)) => h < f,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Turns feed-rs's error into one that says where and what.
fn explain(text: &str, error: feed_rs::parser::ParseFeedError) -> FeedError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match error {
        ParseFeedError::JsonSerde(e) => FeedError::MalformedJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        },
        ParseFeedError::JsonUnsupportedVersion(v) => FeedError::UnsupportedJsonVersion(v),
        ParseFeedError::XmlReader(e) => xml_problem(text).unwrap_or(FeedError::MalformedXml {
            line: 1,
            column: 1,
            message: e.to_string(),
        }),
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            if let Some(problem) = xml_problem(text) {
                return problem;
            }
            match root_element(text) {
                Some(root) => FeedError::UnknownRoot { root },
                None if text.starts_with('{') => FeedError::MalformedJson {
                    line: 1,
                    column: 1,
                    message: "not a JSON Feed (no `version` and `items`)".into(),
                },
                None => FeedError::NotXmlOrJson,
            }
        }
        other => FeedError::Other(other.to_string()),
    }
}

/// Re-reads the XML with quick-xml to find where it breaks (feed-rs does not say).
fn xml_problem(text: &str) -> Option<FeedError> {
    if !text.starts_with('<') {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return None,
            Ok(_) => {}
            Err(e) => {
                let offset = usize::try_from(reader.error_position()).unwrap_or(0);
                let (line, column) = line_column(text, offset);
                return Some(FeedError::MalformedXml {
                    line,
                    column,
                    message: e.to_string(),
                });
            }
        }
    }
}

/// The name of the first element, e.g. `html` or `opml`.
fn root_element(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                return Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Decoded {
        charset::decode(text.as_bytes(), Some("application/xml; charset=utf-8"))
    }

    fn base() -> Url {
        Url::parse("http://example.gov.cn/news/rss.xml").expect("url")
    }

    #[test]
    fn zone_less_dates_are_read_in_the_configured_zone() {
        let xml = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                   <item><title>a</title><link>/a.html</link><pubDate>2026-11-24 10:30:00</pubDate></item>\
                   </channel></rss>";
        let now = Utc::now();
        let entries =
            parse_in_zone(&decoded(xml), &base(), now, chrono_tz::Asia::Shanghai).expect("feed");
        assert_eq!(
            entries[0].published.map(|t| t.to_rfc3339()),
            Some("2026-11-24T02:30:00+00:00".to_string())
        );
        assert_eq!(
            entries[0].link.as_deref(),
            Some("http://example.gov.cn/a.html")
        );
        assert_eq!(entries[0].guid, None);
    }

    #[test]
    fn rss_without_a_known_version_is_read_as_rss_2() {
        for root in [
            "<rss>",
            "<rss version=\"2.0.1\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">",
        ] {
            let xml = format!(
                "<?xml version=\"1.0\"?>\n{root}<channel><title>t</title>\
                 <item><title>景区</title><link>http://a.cn/1</link></item></channel></rss>"
            );
            let entries = parse(&decoded(&xml), &base()).expect(root);
            assert_eq!(entries[0].title, "景区", "{root}");
        }
    }

    #[test]
    fn an_opml_file_is_named_by_its_root() {
        let err = parse(&decoded("<opml version=\"2.0\"><body/></opml>"), &base())
            .expect_err("not a feed");
        assert_eq!(
            err,
            FeedError::UnknownRoot {
                root: "opml".into()
            }
        );
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\n景区x", 9), (2, 3));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}

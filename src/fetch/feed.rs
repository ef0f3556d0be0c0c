//! Reading items out of a syndication feed, whichever dialect a site chose, as readers
//! such as Python's feedparser read them.
//!
//! Government portals and media still publish RSS 0.90/0.91/0.92 next to RSS 2.0, RDF
//! (RSS 1.0), Atom 0.3 and 1.0 and JSON Feed, often in GBK and often not quite valid. A
//! strict parser loses every item after the first fault; worse, a feed it cannot read
//! yields no items and no error, and the duty officer thinks all is quiet. So:
//!
//! - the XML is read by a forgiving reader ([`xml`]) that repairs what it must (undefined
//!   entities, mismatched or unclosed tags, raw HTML) and lists the repairs, which come back
//!   as [`Read::warnings`] and are recorded on the source;
//! - elements are known by their local name and namespace, so a default namespace on the
//!   root (`<rss xmlns="http://backend.userland.com/rss2">`) or a prefixed Atom feed is read
//!   like any other, and a feed wrapped in an XHTML page is found inside it;
//! - a title is read by its type: Atom `type="text"` (and `text/plain`, `""`) is text, so
//!   "History of the <blink> tag" keeps its `<blink>`; `html` and `xhtml` are markup;
//!   Atom 0.3 `mode="base64"` and `mode="escaped"` are decoded; an RSS title is markup only
//!   when it looks like HTML (a closing tag or an entity, and only HTML's elements), as
//!   feedparser decides;
//! - an item without `<link>` takes it from `<guid isPermaLink="true">` (or a guid that is
//!   an absolute URL with no `isPermaLink="false"`), an Atom link, RSS 1.0's `rdf:about`,
//!   or its enclosure;
//! - dates: see [`date`]. Of several dates in an item the first readable one in this order
//!   wins: `pubDate`, Atom `published` (0.3: `issued`), `dc:date`, `dcterms:issued`, Atom
//!   `updated` (0.3: `modified`), `dcterms:modified` (a creation date is not a publication,
//!   as feedparser holds). So `pubDate` beats `dc:date` when both are readable; an
//!   unreadable one is skipped with a debug log and never hides a later readable one;
//! - JSON Feed fields of the wrong type are ignored with a warning, not the whole feed;
//! - a document with `<item>` or `<entry>` elements of which none could be read is an
//!   error ([`FeedError::Unreadable`]), never an empty success.
//!
//! Titles and summaries become plain text for the classifier, links absolute. Every
//! failure is one line a duty officer can act on, without control characters.

pub mod date;
mod json;
pub mod xml;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use regex::Regex;
use url::Url;

use crate::fetch::charset::{self, Decoded};
use crate::fetch::page::{absolute, collapse, html_to_text};
use xml::{printable, Node};

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

/// A feed as read: its entries, and what had to be repaired or skipped to read them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
    /// One line each, e.g. "malformed XML repaired at line 12, column 5: …".
    pub warnings: Vec<String>,
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
    #[error(
        "not a feed: the document is XML whose first element is <{root}>; a feed's is <rss>, \
         <rdf:RDF> or <feed>"
    )]
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
    /// Item elements were there, but not one could be read: never an empty success.
    #[error("the feed has {elements} <item>/<entry> elements but none could be read{detail}")]
    Unreadable { elements: usize, detail: String },
    #[error("the feed could not be read: {0}")]
    Other(String),
}

/// Parses a feed, reading only dates that carry their zone (or UTC when they do not).
pub fn parse(decoded: &Decoded, base: &Url) -> Result<Vec<Entry>, FeedError> {
    read(decoded, base, None).map(|r| r.entries)
}

/// Parses a feed. Dates with no zone (`2026-11-24 10:30:00`, common in Chinese CMS feeds) and
/// Chinese dates (`2026年11月24日`) are read in `tz`; `now` anchors relative ones.
pub fn parse_in_zone(
    decoded: &Decoded,
    base: &Url,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<Entry>, FeedError> {
    read(decoded, base, Some((now, tz))).map(|r| r.entries)
}

/// Reads a feed: its entries and the warnings to record on the source. `zone` is the
/// configured zone and now, for dates without a zone and Chinese dates; `None` reads
/// zone-less dates as UTC.
pub fn read(
    decoded: &Decoded,
    base: &Url,
    zone: Option<(DateTime<Utc>, Tz)>,
) -> Result<Read, FeedError> {
    let text = charset::to_utf8_xml(decoded);
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if start.is_empty() {
        return Err(FeedError::Empty);
    }
    let dates = date::Reader::new(zone);
    if start.starts_with('{') || start.starts_with('[') {
        return json::read(start, base, &dates);
    }
    let mut warnings = Vec::new();
    let start = if start.starts_with('<') {
        start
    } else {
        // A PHP notice or a stray line before the XML: skip it, say so.
        match start.char_indices().take(4096).find(|&(_, c)| c == '<') {
            Some((i, _)) if looks_like_feed(&start[i..]) => {
                warnings.push(format!(
                    "text before the XML was ignored: \"{}\"",
                    printable(collapse(&start[..i]).as_str())
                ));
                &start[i..]
            }
            _ => return Err(FeedError::NotXmlOrJson),
        }
    };
    let doc = xml::parse(start);
    let found = find_root(&doc.root);
    let html = looks_like_html(start);
    let Some((root, dialect)) = found.filter(|(_, d)| !(html && *d == Dialect::BareChannel)) else {
        if html {
            return Err(FeedError::Html);
        }
        if let Some(first) = doc.root.children.first() {
            if let Some(p) = doc.problems.first() {
                if item_elements(start) == 0 && first.children.is_empty() {
                    return Err(malformed(start, p));
                }
            }
            return Err(FeedError::UnknownRoot {
                root: printable(&first.name),
            });
        }
        return Err(match doc.problems.first() {
            Some(p) => malformed(start, p),
            None => FeedError::NotXmlOrJson,
        });
    };
    let ns = Namespaces::new(&doc, root, dialect);
    let feed_base = xml_base(base, root);
    let entries: Vec<Entry> = match dialect {
        Dialect::Atom10 | Dialect::Atom03 => all_named(&doc.root, &ns, &["entry"], Ns::Atom)
            .into_iter()
            .filter_map(|e| atom_entry(e, &ns, &feed_base, &dates))
            .collect(),
        _ => all_named(&doc.root, &ns, &["item"], Ns::Core)
            .into_iter()
            .filter_map(|i| rss_item(i, &ns, &feed_base, &dates))
            .collect(),
    };
    if let Some(p) = doc.problems.first() {
        let (line, column) = line_column(start, p.offset);
        let more = match doc.problems.len() {
            1 => String::new(),
            n if n >= 100 => " (and 99 more repairs)".to_string(),
            n => format!(" (and {} more repairs)", n - 1),
        };
        warnings.push(format!(
            "malformed XML repaired at line {line}, column {column}: {}{more}; {} entries read",
            p.message,
            entries.len()
        ));
    }
    if entries.is_empty() {
        let elements = item_elements(start);
        if elements > 0 {
            let detail = match doc.problems.first() {
                Some(p) => {
                    let (line, column) = line_column(start, p.offset);
                    format!(
                        " (malformed XML at line {line}, column {column}: {})",
                        p.message
                    )
                }
                None => String::new(),
            };
            return Err(FeedError::Unreadable { elements, detail });
        }
    }
    Ok(Read { entries, warnings })
}

fn malformed(text: &str, p: &xml::Problem) -> FeedError {
    let (line, column) = line_column(text, p.offset);
    FeedError::MalformedXml {
        line,
        column,
        message: p.message.clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Rss,
    Rdf,
    Atom10,
    Atom03,
    /// `<channel>` with no `<rss>` around it.
    BareChannel,
}

/// The feed's root element, searched through a wrapper (an XHTML page) if need be.
fn find_root(doc: &Node) -> Option<(&Node, Dialect)> {
    fn walk(n: &Node, depth: usize) -> Option<(&Node, Dialect)> {
        for c in &n.children {
            let dialect = match c.local() {
                "rss" => Some(Dialect::Rss),
                "RDF" => Some(Dialect::Rdf),
                "feed" => Some(
                    if c.attr("version")
                        .is_some_and(|v| v.trim().starts_with("0."))
                        || c.attr("xmlns")
                            .is_some_and(|v| v.contains("purl.org/atom/ns"))
                    {
                        Dialect::Atom03
                    } else {
                        Dialect::Atom10
                    },
                ),
                _ => None,
            };
            if let Some(d) = dialect {
                return Some((c, d));
            }
            if depth < 6 {
                if let Some(found) = walk(c, depth + 1) {
                    return Some(found);
                }
            }
        }
        None
    }
    walk(doc, 0).or_else(|| {
        doc.descendants()
            .into_iter()
            .take(200)
            .find(|n| n.local() == "channel")
            .map(|n| (n, Dialect::BareChannel))
    })
}

/// Which vocabulary an element belongs to, by its namespace (or, undeclared, its prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// The feed's own: RSS (any version) in an RSS feed, Atom in an Atom feed.
    Core,
    Atom,
    Dc,
    Dcterms,
    Content,
    Rdf,
    Other,
}

struct Namespaces<'d> {
    doc: &'d xml::Doc,
    atom: bool,
}

impl<'d> Namespaces<'d> {
    fn new(doc: &'d xml::Doc, _root: &Node, dialect: Dialect) -> Namespaces<'d> {
        Namespaces {
            doc,
            atom: matches!(dialect, Dialect::Atom10 | Dialect::Atom03),
        }
    }

    fn of(&self, n: &Node) -> Ns {
        let Some(prefix) = n.prefix() else {
            return Ns::Core;
        };
        let uri = self.doc.namespace(prefix).unwrap_or("");
        let by_uri = if uri.contains("purl.org/dc/elements") {
            Some(Ns::Dc)
        } else if uri.contains("purl.org/dc/terms") {
            Some(Ns::Dcterms)
        } else if uri.contains("purl.org/rss/1.0/modules/content") {
            Some(Ns::Content)
        } else if uri.contains("www.w3.org/2005/Atom") || uri.contains("purl.org/atom/ns") {
            Some(Ns::Atom)
        } else if uri.contains("22-rdf-syntax-ns") {
            Some(Ns::Rdf)
        } else if uri.contains("purl.org/rss/1.0")
            || uri.contains("my.netscape.com/rdf/simple/0.9")
            || uri.contains("backend.userland.com/rss")
        {
            Some(Ns::Core)
        } else if !uri.is_empty() {
            Some(Ns::Other)
        } else {
            None
        };
        let ns = by_uri.unwrap_or(match prefix {
            "dc" => Ns::Dc,
            "dcterms" => Ns::Dcterms,
            "content" => Ns::Content,
            "atom" => Ns::Atom,
            "rdf" => Ns::Rdf,
            _ => Ns::Other,
        });
        // In an Atom feed written with a prefix (`<atom:feed>`), Atom is the feed's own.
        if self.atom && ns == Ns::Atom {
            Ns::Core
        } else {
            ns
        }
    }

    /// Whether `n` is `local` of `ns` (Atom in an Atom feed is `Core`).
    fn is(&self, n: &Node, ns: Ns, local: &str) -> bool {
        let ns = if self.atom && ns == Ns::Atom {
            Ns::Core
        } else {
            ns
        };
        n.local() == local && self.of(n) == ns
    }

    fn child<'n>(&self, n: &'n Node, ns: Ns, local: &str) -> Option<&'n Node> {
        n.children.iter().find(|c| self.is(c, ns, local))
    }
}

/// Every `local` element of `ns` in the document, not counting one inside another.
fn all_named<'n>(root: &'n Node, ns: &Namespaces<'_>, locals: &[&str], want: Ns) -> Vec<&'n Node> {
    let mut out = Vec::new();
    fn walk<'n>(
        n: &'n Node,
        ns: &Namespaces<'_>,
        locals: &[&str],
        want: Ns,
        out: &mut Vec<&'n Node>,
    ) {
        for c in &n.children {
            if locals.iter().any(|l| ns.is(c, want, l)) {
                out.push(c);
            } else {
                walk(c, ns, locals, want, out);
            }
        }
    }
    walk(root, ns, locals, want, &mut out);
    out
}

/// `base` with the element's `xml:base` applied.
fn xml_base(base: &Url, n: &Node) -> Url {
    n.attr("xml:base")
        .and_then(|b| base.join(b.trim()).ok())
        .unwrap_or_else(|| base.clone())
}

fn rss_item(item: &Node, ns: &Namespaces<'_>, base: &Url, dates: &date::Reader) -> Option<Entry> {
    let base = xml_base(base, item);
    let get = |n: Ns, local: &str| ns.child(item, n, local);
    let title = get(Ns::Core, "title")
        .map(rss_text)
        .filter(|t| !t.is_empty())
        .or_else(|| get(Ns::Dc, "title").map(rss_text))
        .or_else(|| get(Ns::Atom, "title").map(|t| text_construct(t, false)))
        .unwrap_or_default();
    let guid_node = get(Ns::Core, "guid");
    let guid = guid_node
        .map(|g| collapse(&g.text))
        .filter(|g| !g.is_empty())
        .or_else(|| item.attr_local("about").map(collapse))
        .filter(|g| !g.is_empty());
    let link = item
        .children
        .iter()
        .filter(|c| ns.is(c, Ns::Core, "link"))
        .find_map(|l| {
            let href = if l.text.trim().is_empty() {
                l.attr("href").unwrap_or("")
            } else {
                l.text.as_str()
            };
            link_to(&base, href)
        })
        .or_else(|| atom_link(item, ns, &base))
        .or_else(|| {
            let g = guid_node?;
            let text = g.text.trim();
            match g.attr("isPermaLink").map(|v| v.trim().to_ascii_lowercase()) {
                Some(v) if v == "true" => link_to(&base, text),
                None if text.starts_with("http://") || text.starts_with("https://") => {
                    link_to(&base, text)
                }
                _ => None,
            }
        })
        .or_else(|| {
            let about = item.attr_local("about")?.trim();
            (about.starts_with("http://") || about.starts_with("https://"))
                .then(|| link_to(&base, about))
                .flatten()
        })
        .or_else(|| {
            item.children
                .iter()
                .filter(|c| ns.is(c, Ns::Core, "enclosure"))
                .find_map(|e| e.attr("url").and_then(|u| link_to(&base, u)))
        });
    let summary = get(Ns::Core, "description")
        .map(|d| html_to_text(&d.html))
        .filter(|s| !s.is_empty())
        .or_else(|| get(Ns::Content, "encoded").map(|c| html_to_text(&c.html)))
        .filter(|s| !s.is_empty())
        .or_else(|| get(Ns::Dc, "description").map(|d| html_to_text(&d.html)))
        .filter(|s| !s.is_empty())
        .or_else(|| get(Ns::Atom, "summary").map(|s| text_construct(s, false)))
        .or_else(|| get(Ns::Atom, "content").map(|s| text_construct(s, false)))
        .unwrap_or_default();
    let published = dates.first(
        [
            get(Ns::Core, "pubDate"),
            get(Ns::Atom, "published"),
            get(Ns::Dc, "date"),
            get(Ns::Dcterms, "issued"),
            get(Ns::Atom, "updated"),
            get(Ns::Dcterms, "modified"),
        ]
        .into_iter()
        .flatten()
        .map(|n| n.text.as_str()),
    );
    let entry = Entry {
        guid,
        link,
        title,
        summary,
        published,
    };
    (!is_blank(&entry)).then_some(entry)
}

/// A link made absolute; one that names its scheme must be a whole URL by itself (a feed
/// cut off after `http:/` would otherwise resolve to the site's home page).
fn link_to(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    let lower = href.get(..6).unwrap_or(href).to_ascii_lowercase();
    if lower.starts_with("http:") || lower.starts_with("https:") {
        let url = Url::parse(href).ok()?;
        if !url.has_host() || !(href[lower.find(':')? + 1..].starts_with("//")) {
            return None;
        }
    }
    absolute(base, href)
}

fn is_blank(e: &Entry) -> bool {
    e.guid.is_none() && e.link.is_none() && e.title.is_empty() && e.summary.is_empty()
}

/// An Atom `<link>` to the item itself: `rel="alternate"` or no `rel`, else an enclosure,
/// else any link but the feed's own (`self`, `edit`, `replies`).
fn atom_link(item: &Node, ns: &Namespaces<'_>, base: &Url) -> Option<String> {
    let links: Vec<&Node> = item
        .children
        .iter()
        .filter(|c| ns.is(c, Ns::Atom, "link") && c.attr("href").is_some())
        .collect();
    let rel = |l: &&Node| l.attr("rel").map(|r| r.trim().to_ascii_lowercase());
    let pick = links
        .iter()
        .find(|l| rel(l).is_none_or(|r| r == "alternate" || r.is_empty()))
        .or_else(|| {
            links
                .iter()
                .find(|l| rel(l).as_deref() == Some("enclosure"))
        })
        .or_else(|| {
            links
                .iter()
                .find(|l| !matches!(rel(l).as_deref(), Some("self" | "edit" | "replies" | "hub")))
        })?;
    let base = xml_base(base, pick);
    link_to(&base, pick.attr("href")?)
}

fn atom_entry(
    entry: &Node,
    ns: &Namespaces<'_>,
    base: &Url,
    dates: &date::Reader,
) -> Option<Entry> {
    let base = xml_base(base, entry);
    let get = |local: &str| ns.child(entry, Ns::Atom, local);
    let atom03 = ns
        .doc
        .default_ns
        .as_deref()
        .is_some_and(|u| u.contains("purl.org/atom/ns"));
    let title = get("title")
        .map(|t| text_construct(t, atom03))
        .or_else(|| ns.child(entry, Ns::Dc, "title").map(rss_text))
        .unwrap_or_default();
    let summary = get("summary")
        .map(|s| text_construct(s, atom03))
        .filter(|s| !s.is_empty())
        .or_else(|| get("content").map(|c| text_construct(c, atom03)))
        .unwrap_or_default();
    let published = dates.first(
        [
            get("published"),
            get("issued"),
            ns.child(entry, Ns::Dc, "date"),
            get("updated"),
            get("modified"),
        ]
        .into_iter()
        .flatten()
        .map(|n| n.text.as_str()),
    );
    let entry = Entry {
        guid: get("id")
            .map(|i| collapse(&i.text))
            .filter(|i| !i.is_empty()),
        link: atom_link(entry, ns, &base),
        title,
        summary,
        published,
    };
    (!is_blank(&entry)).then_some(entry)
}

/// An Atom text construct (title, summary, content) as plain text, by its `type` (and, in
/// Atom 0.3, its `mode`).
fn text_construct(n: &Node, atom03: bool) -> String {
    let ty = n.attr("type").map(|t| t.trim().to_ascii_lowercase());
    let mode = n.attr("mode").map(|m| m.trim().to_ascii_lowercase());
    let has_markup = !n.children.is_empty();
    let mut content = if has_markup {
        n.html.clone()
    } else {
        n.text.clone()
    };
    if mode.as_deref() == Some("base64") {
        use base64::Engine;
        let compact: String = content.split_whitespace().collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact) {
            content = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let markup = match ty.as_deref() {
        Some("html" | "text/html" | "xhtml" | "application/xhtml+xml") => true,
        Some("text" | "text/plain" | "") => has_markup,
        None if atom03 => mode.as_deref() == Some("escaped") && looks_like_markup(&content),
        None => has_markup,
        Some(_) => has_markup,
    };
    if markup {
        html_to_text(&content)
    } else {
        collapse(&content)
    }
}

/// An RSS title: markup only when it looks like HTML, as feedparser decides.
fn rss_text(n: &Node) -> String {
    if !n.children.is_empty() {
        return html_to_text(&n.html);
    }
    if looks_like_markup(&n.text) {
        html_to_text(&n.text)
    } else {
        collapse(&n.text)
    }
}

static CLOSING_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</[A-Za-z][A-Za-z0-9]*\s*>").expect("closing tag"));
static ENTITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"&#?[A-Za-z0-9]+;").expect("entity"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?([A-Za-z][A-Za-z0-9]*)").expect("tag"));

/// feedparser's test: text is HTML when it has a closing tag or an entity, and every tag in
/// it is one of HTML's elements (so "the <blink> tag" is text).
fn looks_like_markup(text: &str) -> bool {
    if !(CLOSING_TAG.is_match(text) || ENTITY.is_match(text)) {
        return false;
    }
    TAG.captures_iter(text).all(|c| {
        let name = c[1].to_ascii_lowercase();
        HTML_ELEMENTS.binary_search(&name.as_str()).is_ok()
    })
}

/// HTML's elements, sorted.
const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "event-source",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "m",
    "map",
    "menu",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "noscript",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "sound",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

/// How many `<item>`/`<entry>` start tags the text has (any prefix).
fn item_elements(text: &str) -> usize {
    static ITEM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<(?:[A-Za-z0-9_.-]+:)?(?:item|entry)[\s>/]").expect("item pattern")
    });
    ITEM.find_iter(text).count()
}

/// A feed root somewhere in the first few kilobytes.
fn looks_like_feed(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect::<String>().to_lowercase();
    ["<?xml", "<rss", "<rdf:rdf", "<feed"]
        .iter()
        .any(|m| head.contains(m))
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
        assert_eq!(
            err.to_string(),
            "not a feed: the document is XML whose first element is <opml>; a feed's is <rss>, <rdf:RDF> or <feed>"
        );
    }

    #[test]
    fn a_text_title_keeps_its_angle_brackets_and_an_html_title_loses_them() {
        let xml = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id>\
                   <title type=\"text\">History of the &lt;blink&gt; tag</title></entry>\
                   <entry><id>2</id><title type=\"html\">History of the &lt;blink&gt; tag</title></entry></feed>";
        let entries = parse(&decoded(xml), &base()).expect("feed");
        assert_eq!(entries[0].title, "History of the <blink> tag");
        assert_eq!(entries[1].title, "History of the tag");
    }

    #[test]
    fn items_with_nothing_readable_are_an_error_not_silence() {
        let xml =
            "<rss version=\"2.0\"><channel><title>t</title><item></item><item/></channel></rss>";
        let err = parse(&decoded(xml), &base()).expect_err("unreadable");
        assert!(
            matches!(err, FeedError::Unreadable { elements: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn markup_test_follows_feedparser() {
        assert!(!looks_like_markup("History of the <blink> tag"));
        assert!(looks_like_markup("a <b>bold</b> move"));
        assert!(looks_like_markup("AT&amp;T"));
        assert!(!looks_like_markup("a <blink>b</blink>"));
        assert!(!looks_like_markup("plain"));
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\n景区x", 9), (2, 3));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}

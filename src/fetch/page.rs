//! Reading items off an HTML list page with the CSS selectors a source is configured with.
//!
//! Forums, news columns and many government sites publish no feed: their news is an HTML
//! list (`ul.news > li`, a title link, a printed date). This module turns such a page into the
//! same [`Entry`] values a feed gives, so everything after the fetch treats both alike. It is
//! pure: the page's text, its URL (to make links absolute), `now` and the time zone (to read
//! `昨天 10:30` or `3小时前`) are parameters. Layouts change without notice, so besides the
//! entries it reports how many item elements the selectors matched: the caller can tell
//! "nothing new" from "the site was redesigned and our selectors find nothing".

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::config::PageSelectors;
use crate::fetch::chinese_date;
use crate::fetch::feed::Entry;

/// What a list page yielded.
#[derive(Debug, Clone, PartialEq)]
pub struct PageItems {
    /// Items with a title or a link, in page order.
    pub entries: Vec<Entry>,
    /// How many elements the `item` selector matched, usable or not. Zero means the
    /// selectors no longer fit the page (or the list is empty); many matched and no entries
    /// means the title and link selectors no longer fit.
    pub matched: usize,
}

/// A selector that config validation let through but that does not parse here; it means the
/// two disagree, which is a bug, but the duty officer still needs to know which source.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("the `{field}` selector `{selector}` is not valid CSS: {reason}")]
    InvalidSelector {
        field: &'static str,
        selector: String,
        reason: String,
    },
}

/// A configured selector: which elements (`None`: the item element itself) and which
/// attribute to read (`None`: the element's text).
struct Pick {
    css: Option<Selector>,
    attr: Option<String>,
}

impl Pick {
    /// `a.title@href` → elements `a.title`, attribute `href`; `@title` → the item's own
    /// `title`; `span.time` → text. Split at the first `@`, as config validation does.
    fn parse(field: &'static str, text: &str) -> Result<Pick, PageError> {
        let text = text.trim();
        let (css, attr) = match text.split_once('@') {
            Some((css, attr)) => (css.trim(), Some(attr.trim().to_string())),
            None => (text, None),
        };
        let css = if css.is_empty() || css == ":scope" {
            None
        } else {
            Some(
                Selector::parse(css).map_err(|e| PageError::InvalidSelector {
                    field,
                    selector: text.to_string(),
                    reason: e.to_string(),
                })?,
            )
        };
        Ok(Pick {
            css,
            attr: attr.filter(|a| !a.is_empty()),
        })
    }

    /// The first element this picks within `item`.
    fn element<'a>(&self, item: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match &self.css {
            None => Some(item),
            Some(css) => item.select(css).next(),
        }
    }

    /// The attribute's value, or the element's collapsed text; `None` when absent or empty.
    fn value(&self, item: ElementRef<'_>) -> Option<String> {
        let element = self.element(item)?;
        let value = match &self.attr {
            Some(attr) => collapse(element.value().attr(attr)?),
            None => element_text(element),
        };
        Some(value).filter(|v| !v.is_empty())
    }
}

/// Reads the items of a list page. Zero items is not an error here: the caller records
/// "selectors found nothing" with [`PageItems::matched`] as evidence.
pub fn parse(
    html: &str,
    base: &Url,
    sel: &PageSelectors,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<PageItems, PageError> {
    let item = Pick::parse("item", &sel.item)?;
    let title = Pick::parse("title", &sel.title)?;
    let mut link = Pick::parse("link", &sel.link)?;
    // A link selector without `@` means the element's href.
    link.attr.get_or_insert_with(|| "href".to_string());
    let date = sel
        .date
        .as_deref()
        .map(|d| Pick::parse("date", d))
        .transpose()?;
    let summary = sel
        .summary
        .as_deref()
        .map(|s| Pick::parse("summary", s))
        .transpose()?;

    let document = Html::parse_document(html);
    let base = document_base(&document, base);
    let items: Vec<ElementRef<'_>> = match &item.css {
        Some(css) => document.select(css).collect(),
        None => vec![document.root_element()],
    };
    let matched = items.len();
    let entries = items
        .into_iter()
        .filter_map(|element| {
            let title = title.value(element).unwrap_or_default();
            let link = link.value(element).and_then(|href| absolute(&base, &href));
            if title.is_empty() && link.is_none() {
                return None;
            }
            Some(Entry {
                guid: link.clone(),
                link,
                title,
                summary: summary
                    .as_ref()
                    .and_then(|s| s.value(element))
                    .unwrap_or_default(),
                published: date
                    .as_ref()
                    .and_then(|d| d.value(element))
                    .and_then(|d| chinese_date::parse(&d, now, tz)),
            })
        })
        .collect();
    Ok(PageItems { entries, matched })
}

/// The readable text of an item's own page, for classifying more than its title: the
/// elements `selector` picks (e.g. `div.article-content`), or the whole body when there is no
/// selector or it matches nothing (a redesigned template then yields more text, not none).
/// Scripts and styles are left out; whitespace is collapsed.
pub fn body_text(html: &str, selector: Option<&str>) -> String {
    let document = Html::parse_document(html);
    if let Some(css) = selector.and_then(|s| Selector::parse(s).ok()) {
        let parts: Vec<String> = document
            .select(&css)
            .map(element_text)
            .filter(|t| !t.is_empty())
            .collect();
        if !parts.is_empty() {
            return parts.join(" ");
        }
    }
    let body = Selector::parse("body")
        .ok()
        .and_then(|b| document.select(&b).next())
        .unwrap_or_else(|| document.root_element());
    element_text(body)
}

/// Plain text of an HTML fragment (a feed's description): tags dropped, entities decoded,
/// whitespace collapsed. Text without markup is only collapsed.
pub fn html_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return collapse(fragment);
    }
    let html = Html::parse_fragment(fragment);
    let mut out = String::new();
    push_text(*html.root_element(), &mut out);
    collapse(&out)
}

/// The collapsed text inside an element.
fn element_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    push_text(*element, &mut out);
    collapse(&out)
}

/// Appends the text under `node`, with a space at block boundaries so that `<p>a</p><p>b</p>`
/// reads `a b`, but none inside inline markup, so that `<b>景</b>区` still reads `景区` and
/// the watchlist term matches.
fn push_text(node: NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(text) => out.push_str(text),
        Node::Element(element) => {
            let name = element.name();
            if matches!(name, "script" | "style" | "noscript" | "template") {
                return;
            }
            let block = is_block(name);
            if block {
                out.push(' ');
            }
            for child in node.children() {
                push_text(child, out);
            }
            if block {
                out.push(' ');
            }
        }
        Node::Document | Node::Fragment => {
            for child in node.children() {
                push_text(child, out);
            }
        }
        _ => {}
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "blockquote"
            | "pre"
            | "hr"
            | "img"
    )
}

/// Trims and collapses runs of whitespace (including U+3000 and no-break spaces, which
/// Chinese pages use for indentation) to one ASCII space.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page's `<base href>` resolved against its URL, or its URL.
fn document_base(document: &Html, url: &Url) -> Url {
    Selector::parse("base[href]")
        .ok()
        .and_then(|s| document.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| url.join(href.trim()).ok())
        .unwrap_or_else(|| url.clone())
}

/// `href` made absolute; `None` for links that lead nowhere a person could read
/// (`javascript:`, `#`, `mailto:`).
pub(crate) fn absolute(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_keeps_inline_words_together_and_splits_blocks() {
        assert_eq!(
            html_to_text("<p><b>景</b>区 &amp; 踩踏</p><p>第二段&nbsp;&nbsp;内容</p>"),
            "景区 & 踩踏 第二段 内容"
        );
        assert_eq!(html_to_text("  a\n\t b  "), "a b");
        assert_eq!(html_to_text("<script>x()</script>正文"), "正文");
    }

    #[test]
    fn links_are_made_absolute_and_dead_ends_dropped() {
        let base = Url::parse("http://bbs.example.cn/forum/list.html").expect("url");
        assert_eq!(
            absolute(&base, "../thread-1.html").as_deref(),
            Some("http://bbs.example.cn/thread-1.html")
        );
        assert_eq!(absolute(&base, "javascript:void(0)"), None);
        assert_eq!(absolute(&base, "#top"), None);
    }

    #[test]
    fn body_text_falls_back_to_the_body_when_the_selector_misses() {
        let html = "<html><body><div class=a>正文</div><p>其他</p><script>x</script></body></html>";
        assert_eq!(body_text(html, Some("div.a")), "正文");
        assert_eq!(body_text(html, Some("div.gone")), "正文 其他");
        assert_eq!(body_text(html, None), "正文 其他");
    }
}

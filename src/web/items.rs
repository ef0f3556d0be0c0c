//! `/items`: what was fetched, filtered by topic, source, time and text (the filters stay
//! in the URL), a page at a time; `?format=json` for scripts. The text is looked up in the
//! search index (`store::search`) and its words are marked in each title, and in an
//! excerpt of the item's text when they are found there.

use super::item::{pieces, ItemView, Marked, Piece};
use super::pages::{self, Answer, Layout, Viewer};
use super::Console;
use crate::store::{ItemFilter, SearchQuery};
use crate::vocab::clock::{from_secs, midnight, secs};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json};
use serde_json::json;

pub const PER_PAGE: i64 = 50;

#[derive(serde::Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    source: String,
    /// A date, `YYYY-MM-DD`, in the configured zone.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    page: Option<i64>,
    format: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "items.html")]
struct ItemsPage {
    layout: Layout,
    p: Params,
    topics: Vec<(String, String)>,
    sources: Vec<(String, String)>,
    /// Each item's title with the search's words marked, and the text around the first
    /// of them when a search found it there.
    lines: Vec<ItemView>,
    /// Items of the page this version cannot read, with why.
    unreadable: Vec<(i64, String)>,
    total: i64,
    /// The search found more than `total` (its count stops there).
    more: bool,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    json_link: String,
}

/// The start of the day `text` (`YYYY-MM-DD`) in `tz`, in UTC seconds.
fn day(text: &str, tz: chrono_tz::Tz) -> Option<i64> {
    Some(midnight(pages::date(text)?, tz).timestamp())
}

/// The URL of this listing with another page (or format), filters kept.
fn link(p: &Params, page: i64, format: Option<&str>) -> String {
    let filters = [
        ("topic", &p.topic),
        ("source", &p.source),
        ("from", &p.from),
        ("to", &p.to),
        ("q", &p.q),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k, v.as_str()));
    let number = page.to_string();
    let page = (page > 1).then_some(("page", number.as_str()));
    pages::href(
        "/items",
        filters.chain(page).chain(format.map(|f| ("format", f))),
    )
}

pub async fn page(State(c): State<Console>, v: Viewer, Query(p): Query<Params>) -> Answer {
    let (settings, tz) = (&v.settings, v.tz);
    let config = &settings.config;
    let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = ItemFilter {
        topic: nonempty(&p.topic),
        source: nonempty(&p.source),
        since: day(&p.from, tz),
        until: day(&p.to, tz).map(|t| t + 86_400),
        text: nonempty(&p.q),
    };
    let page = p.page.unwrap_or(1).max(1);
    let found = c
        .store
        .items_page(&filter, PER_PAGE, (page - 1) * PER_PAGE)
        .await?;
    let (rows, total, more) = (found.rows, found.total, found.more);
    // One this version cannot read is named below the others, not the page lost.
    let unreadable = found.unreadable;
    let query = filter.text.as_deref().and_then(SearchQuery::parse);
    let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
    let sightings = c.store.sightings(c.store.pool(), &ids).await?;
    // Few if any: the filings held back by a row that cannot be read.
    let held = c.store.held_filings().await?;
    let lines: Vec<ItemView> = rows
        .iter()
        .map(|i| ItemView {
            held: held.iter().any(|h| h.item_id == i.id),
            title: marked(&i.title, query.as_ref().map(|q| q.marks(&i.title))),
            excerpt: query
                .as_ref()
                .map(|q| excerpt(&i.summary, &q.marks(&i.summary)))
                .unwrap_or_default(),
            ..ItemView::of(i, &sightings, settings)
        })
        .collect();
    if p.format.as_deref() == Some("json") {
        let list: Vec<_> = rows.iter().map(|i| i.json(&sightings, &held, tz)).collect();
        return Ok(Json(json!({
            "total": total, "more": more, "page": page, "per_page": PER_PAGE, "items": list,
            "unreadable": unreadable.iter().map(|(id, why)| json!({"id": id, "error": why})).collect::<Vec<_>>(),
            "as_of": from_secs(secs(v.now)).with_timezone(&tz).to_rfc3339(),
        }))
        .into_response());
    }
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let view = ItemsPage {
        layout: v.layout("信息", "/items"),
        topics: settings
            .watchlists
            .topics
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect(),
        sources: config
            .sources
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect(),
        lines,
        unreadable,
        total,
        more,
        page,
        pages,
        prev: (page > 1).then(|| link(&p, page - 1, None)),
        next: (page < pages).then(|| link(&p, page + 1, None)),
        json_link: link(&p, page, Some("json")),
        p,
    };
    Ok((v.token, view).into_response())
}

/// `text` in pieces, the char ranges `marks` marked.
fn marked(text: &str, marks: Option<Vec<(usize, usize)>>) -> Marked {
    pieces(text, marks.unwrap_or_default())
}

/// About 100 characters of `summary` around its first mark, the marks in it marked; empty
/// when nothing in the summary is marked.
fn excerpt(summary: &str, marks: &[(usize, usize)]) -> Marked {
    const BEFORE: usize = 30;
    const LENGTH: usize = 100;
    let Some(&(first, _)) = marks.first() else {
        return Vec::new();
    };
    let chars: Vec<char> = summary.chars().collect();
    let start = first.saturating_sub(BEFORE);
    let end = (start + LENGTH).min(chars.len());
    let window: String = chars[start..end]
        .iter()
        .map(|&c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let inside: Vec<(usize, usize)> = marks
        .iter()
        .filter(|(s, _)| *s < end)
        .map(|&(s, e)| (s - start, e.min(end) - start))
        .collect();
    let mut out = marked(&window, Some(inside));
    if start > 0 {
        out.insert(
            0,
            Piece {
                text: "…".into(),
                marked: false,
            },
        );
    }
    if end < chars.len() {
        out.push(Piece {
            text: "…".into(),
            marked: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(m: &Marked) -> String {
        m.iter()
            .map(|p| {
                if p.marked {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn a_search_marks_its_words_in_the_title_and_around_them_in_the_text() {
        let q = SearchQuery::parse("踩踏").unwrap();
        assert_eq!(
            show(&marked("景區發生踩踏", Some(q.marks("景區發生踩踏")))),
            "景區發生[踩踏]"
        );
        assert_eq!(show(&marked("无关", None)), "无关");
        let text = format!("{}踩踏事故\n{}", "前".repeat(40), "后".repeat(100));
        let shown = show(&excerpt(&text, &q.marks(&text)));
        assert!(shown.starts_with("…前前"), "{shown}");
        assert!(shown.contains("[踩踏]事故 后"), "{shown}");
        assert!(shown.ends_with("后…"), "{shown}");
        assert!(excerpt("无关", &q.marks("无关")).is_empty());
    }

    #[test]
    fn a_link_keeps_the_filters_given_encoded_and_moves_the_page() {
        let p = Params {
            topic: "scenic".into(),
            q: "踩踏 事故".into(),
            ..Params::default()
        };
        let q = "q=%E8%B8%A9%E8%B8%8F+%E4%BA%8B%E6%95%85";
        assert_eq!(link(&p, 2, None), format!("/items?topic=scenic&{q}&page=2"));
        assert_eq!(
            link(&p, 1, Some("json")),
            format!("/items?topic=scenic&{q}&format=json")
        );
        assert_eq!(link(&Params::default(), 1, None), "/items?");
    }
}

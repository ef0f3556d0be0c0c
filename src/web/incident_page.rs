//! `/incidents/{id}`: the incident's title and topic, clock start and deadlines, the items
//! with the matched words marked, one timeline of everything (actions, mail, escalations)
//! with who and when, the forms of the duty officer's actions, and two charts.
//!
//! Items and record are shown a page at a time (`?items=N`, `?record=N`): an incident of
//! 920 items with 2 KB titles once made a page too large to serve, and took its action
//! forms with it (issue 26). The forms come before both lists and do not depend on them.

use super::charts;
use super::dashboard::{DeadlineView, Heading};
use super::item::{pieces, ItemView, Marked};
use super::pages::{self, Answer, Layout, Viewer};
use super::words;
use super::Console;
use crate::config::settings::Settings;
use crate::store::{IncidentRow, ItemRow};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::ids::IncidentId;
use crate::vocab::state::DeadlineKind;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use tower_sessions::Session;

/// Items on one page of an incident.
pub const ITEMS_PER_PAGE: usize = 100;
/// Entries of the record on one page of an incident.
pub const RECORD_PER_PAGE: usize = 100;
/// Characters of an item's text shown under its title, on one line.
const EXCERPT_CHARS: usize = 160;

/// Which page of the items and of the record to show (1-based; the record's last page,
/// the latest entries, when not given).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Paging {
    items: Option<String>,
    record: Option<String>,
}

/// Where a list stands: page `page` of `pages`, `total` entries, and the links around it.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub first: String,
    pub prev: String,
    pub next: String,
    pub last: String,
}

impl Pager {
    /// `total` entries by `per` a page, at `page` (clamped); `href(n)` links page `n`.
    fn new(total: usize, per: usize, page: usize, href: impl Fn(usize) -> String) -> Pager {
        let pages = total.div_ceil(per).max(1);
        let page = page.clamp(1, pages);
        let link = |n: usize, show: bool| if show { href(n) } else { String::new() };
        Pager {
            page,
            pages,
            total,
            first: link(1, page > 2),
            prev: link(page.saturating_sub(1), page > 1),
            next: link(page + 1, page < pages),
            last: link(pages, page + 1 < pages),
        }
    }

    /// The entries of this page: the range of indices into the whole list.
    fn range(&self, per: usize) -> std::ops::Range<usize> {
        let start = (self.page - 1) * per;
        start.min(self.total)..(start + per).min(self.total)
    }
}

/// Another incident still being handled, as the merge form offers it.
pub struct Other {
    pub id: i64,
    pub title: String,
    pub topic: String,
}

pub struct Entry {
    pub at: String,
    pub who: String,
    pub what: &'static str,
    pub detail: String,
    pub mail: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident.html")]
pub struct IncidentPage {
    pub layout: Layout,
    pub now: i64,
    pub head: Heading,
    pub active: bool,
    pub unacked: bool,
    /// A release (or response, or working-day duty) deadline is still open.
    pub owes_release: bool,
    /// The press-conference deadline is still open.
    pub owes_press: bool,
    pub acknowledged: String,
    pub opened: String,
    pub clock_start: String,
    pub links: Vec<(String, i64)>,
    pub deadlines: Vec<DeadlineView>,
    pub items: Vec<ItemView>,
    /// The items of this page whose rows this version cannot read, with why.
    pub unreadable_items: Vec<(i64, String)>,
    pub items_pager: Pager,
    /// How it spread (`notify::spread`): the first source, sources, re-posts, then at most
    /// ten sources' lines.
    pub spread: Vec<String>,
    pub timeline: Vec<Entry>,
    pub record_pager: Pager,
    /// The other incidents still being handled, for the merge form: the same topic's first.
    pub others: Vec<Other>,
    pub can_act: bool,
    /// May rename it (a duty officer, also once it has ended: the report names it).
    pub can_rename: bool,
    pub title_max: usize,
    pub note_max: usize,
    pub can_note: bool,
    pub flash: Option<(bool, String)>,
    pub authenticity_token: String,
    pub per_hour: String,
    pub by_source: String,
    /// Each severity's key and name, and whether it is the incident's.
    pub severities: Vec<(&'static str, &'static str, bool)>,
    /// A version of an item's page is kept, and the user may download the WARC file.
    pub can_download: bool,
}

/// Cuts `text` at the evidence spans of `topic` (character offsets).
fn mark(settings: &Settings, text: &str, topic: &str, source: &str) -> Marked {
    let found = settings.classifier.classify(text, Some(source));
    let mut spans: Vec<(usize, usize)> = found
        .topics
        .iter()
        .filter(|t| t.id == topic)
        .flat_map(|t| t.evidence.iter().map(|e| (e.start, e.end)))
        .collect();
    spans.sort();
    pieces(text, spans)
}

/// A record's detail as the page shows it: a note stored before notes had a limit (one
/// of 650 KB once was) is cut to the limit, saying how long it is and where to read it whole.
fn shown(detail: String, id: i64) -> String {
    let n = detail.chars().count();
    if n <= crate::incident::NOTE_MAX_CHARS {
        return detail;
    }
    format!(
        "{}（共 {n} 字，全文见 yuqing incident show {id}）",
        crate::vocab::text::one_line(&detail, crate::incident::NOTE_MAX_CHARS)
    )
}

/// The page of `incident` as `v` sees it, `flash` the answer to their last action on it.
pub async fn build(
    c: &Console,
    v: &Viewer,
    incident: IncidentRow,
    flash: Option<(bool, String)>,
    paging: &Paging,
) -> anyhow::Result<IncidentPage> {
    let (settings, user, tz, now) = (&*v.settings, &v.user, v.tz, v.now);
    let config = &settings.config;
    let store = &c.store;
    let id = incident.id;
    let deadlines = store.deadlines_of(store.pool(), id).await?;
    let number = |s: &Option<String>| s.as_deref().and_then(|n| n.trim().parse::<usize>().ok());
    let (items_at, record_at) = (number(&paging.items), number(&paging.record));
    let href = |items: Option<usize>, record: Option<usize>, anchor: &str| {
        let mut q = Vec::new();
        if let Some(n) = items {
            q.push(format!("items={n}"));
        }
        if let Some(n) = record {
            q.push(format!("record={n}"));
        }
        format!("/incidents/{id}?{}#{anchor}", q.join("&"))
    };
    let counted = store.incident_item_times(id).await?;
    let sightings = store.incident_sightings(store.pool(), id).await?;
    // Items this version cannot read are named in the list below, not the page lost.
    let (all_items, _) = store.readable_items_of(store.pool(), id, 0).await?;
    let spread: Vec<String> = crate::notify::spread::Spread::of(&all_items, &sightings)
        .lines(tz)
        .into_iter()
        .take(11)
        .collect();
    let items_pager = Pager::new(counted.len(), ITEMS_PER_PAGE, items_at.unwrap_or(1), |n| {
        href(Some(n), record_at, "items")
    });
    let range = items_pager.range(ITEMS_PER_PAGE);
    let (rows, unreadable_items): (Vec<ItemRow>, _) = store
        .incident_items_page(id, range.start as i64, ITEMS_PER_PAGE as i64)
        .await?;
    let evidence = crate::store::evidence_summaries(&store.incident_evidence(id).await?);
    let items = rows
        .iter()
        .map(|it| ItemView {
            title: mark(settings, &it.title, &incident.topic_id, &it.source_id),
            excerpt: mark(
                settings,
                &crate::vocab::text::one_line(&it.summary, EXCERPT_CHARS),
                &incident.topic_id,
                &it.source_id,
            ),
            evidence: evidence
                .get(&it.id)
                .map(|e| super::evidence::EvidenceView::of(e, tz)),
            ..ItemView::of(it, &sightings, settings)
        })
        .collect();
    let timeline = record(store, id, tz).await?;
    // The record reads oldest first; without a page asked for, its latest entries show.
    let record_pager = Pager::new(
        timeline.len(),
        RECORD_PER_PAGE,
        record_at.unwrap_or(usize::MAX),
        |n| href(items_at, Some(n), "timeline"),
    );
    let keep = record_pager.range(RECORD_PER_PAGE);
    let timeline: Vec<Entry> = timeline
        .into_iter()
        .skip(keep.start)
        .take(keep.len())
        .map(|(_, e)| e)
        .collect();
    let others = if user.can_act() && incident.status.is_active() {
        merge_targets(store, &incident).await?
    } else {
        Vec::new()
    };
    let mut links = Vec::new();
    if let Some(into) = incident.merged_into {
        links.push(("已并入".to_string(), into.0));
    }
    if let Some(from) = incident.split_from {
        links.push(("拆分自".to_string(), from.0));
    }
    let times: Vec<i64> = counted.iter().map(|(_, t)| *t).collect();
    let per_hour = charts::items_per_hour(incident.clock_start, &times, secs(now), tz);
    let by_source = charts::bars(&per_source(config, &counted));
    Ok(IncidentPage {
        layout: v.layout(format!("#{id} {}", incident.title), ""),
        now: secs(now),
        head: Heading::of(&incident),
        active: incident.status.is_active(),
        unacked: incident.acknowledged_by.is_none(),
        owes_release: deadlines
            .iter()
            .any(|d| words::is_open(d) && d.kind != DeadlineKind::PressConference),
        owes_press: deadlines
            .iter()
            .any(|d| words::is_open(d) && d.kind == DeadlineKind::PressConference),
        acknowledged: match (&incident.acknowledged_by, incident.acknowledged_at) {
            (Some(by), Some(at)) => format!("{by}（{}）", local(from_secs(at), tz)),
            _ => "未确认".into(),
        },
        opened: local(from_secs(incident.opened_at), tz),
        clock_start: match crate::notify::mail::heard_after(&incident) {
            // How much of the clock had gone when yuqing heard of it.
            Some(gone) => format!(
                "{}（发现时已过 {gone}）",
                local(from_secs(incident.clock_start), tz)
            ),
            None => local(from_secs(incident.clock_start), tz),
        },
        links,
        deadlines: deadlines
            .iter()
            .map(|d| DeadlineView::new(&incident, d, now, tz))
            .collect(),
        items,
        unreadable_items,
        items_pager,
        spread,
        timeline,
        record_pager,
        others,
        can_act: user.can_act() && incident.status.is_active(),
        can_rename: user.can_act()
            && incident.status != crate::vocab::state::IncidentStatus::Merged,
        title_max: crate::incident::TITLE_MAX_CHARS,
        note_max: crate::incident::NOTE_MAX_CHARS,
        can_note: user.can_note(),
        flash,
        authenticity_token: v.token.authenticity_token().unwrap_or_default(),
        per_hour,
        by_source,
        severities: crate::vocab::severity::Severity::ALL
            .iter()
            .map(|s| (s.as_str(), s.zh(), *s == incident.severity))
            .collect(),
        can_download: user.can_note() && evidence.values().any(|e| e.kept_id.is_some()),
    })
}

/// The incident's record (留痕) and the mail sent about it, in one timeline, oldest first,
/// each entry with its time.
async fn record(
    store: &crate::store::Store,
    id: IncidentId,
    tz: chrono_tz::Tz,
) -> anyhow::Result<Vec<(i64, Entry)>> {
    let mut timeline: Vec<(i64, Entry)> = store
        .actions_of(id)
        .await?
        .into_iter()
        .map(|a| {
            let detail = words::detail_zh(a.action, a.detail.as_deref().unwrap_or(""));
            let entry = Entry {
                at: local(from_secs(a.at), tz),
                who: a.actor,
                what: words::action_zh(a.action),
                detail: shown(detail, id.0),
                mail: false,
            };
            (a.at, entry)
        })
        .collect();
    for m in store.mails_of(id).await? {
        let to = match crate::store::read_recipients(&m.recipients, m.id) {
            Ok(to) => format!("致 {}", to.join("、")),
            Err(e) => {
                tracing::warn!("{e:#}");
                format!("收件人记录无法读取（邮件 {}，详见日志）", m.id)
            }
        };
        let sent = match m.sent_at {
            Some(t) => format!("已发送 {}", local(from_secs(t), tz)),
            None => "待发送".into(),
        };
        let entry = Entry {
            at: local(from_secs(m.created_at), tz),
            who: crate::vocab::action::OWN_ACTOR.into(),
            what: "邮件",
            detail: format!("《{}》 {to}（{sent}）", m.subject),
            mail: true,
        };
        timeline.push((m.created_at, entry));
    }
    timeline.sort_by_key(|(t, _)| *t);
    Ok(timeline)
}

/// The active incidents `incident` could be merged into: its own topic's first, newest
/// first within each. One this version cannot read is no target (the dashboard names it).
async fn merge_targets(
    store: &crate::store::Store,
    incident: &IncidentRow,
) -> anyhow::Result<Vec<Other>> {
    let mut others: Vec<Other> = store
        .readable_incidents(false)
        .await?
        .0
        .into_iter()
        .filter(|o| o.id != incident.id)
        .map(|o| Other {
            id: o.id.0,
            title: o.title,
            topic: o.topic_name,
        })
        .collect();
    others.sort_by_key(|o| (o.topic != incident.topic_name, -o.id));
    Ok(others)
}

/// How many of the incident's items each source (by name) gave, most first.
fn per_source(config: &crate::config::Config, counted: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut by: Vec<(String, i64)> = Vec::new();
    for (source, _) in counted {
        let n = crate::incident::source_name(config, source);
        match by.iter_mut().find(|(s, _)| *s == n) {
            Some((_, k)) => *k += 1,
            None => by.push((n, 1)),
        }
    }
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by
}

pub const FLASH: &str = "flash";

pub async fn page(
    State(c): State<Console>,
    v: Viewer,
    session: Session,
    Path(id): Path<i64>,
    Query(paging): Query<Paging>,
) -> Answer {
    let incident = pages::incident(&c, id).await?;
    let flash: Option<(bool, String)> = session.remove(FLASH).await.ok().flatten();
    let page = build(&c, &v, incident, flash, &paging).await?;
    Ok((v.token, page).into_response())
}

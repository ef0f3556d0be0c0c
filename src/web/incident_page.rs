//! `/incidents/{id}`: clock start and deadlines, the items with the matched words marked,
//! one timeline of everything (actions, mail, escalations) with who and when, the forms of
//! the duty officer's actions, and two charts.

use super::auth::User;
use super::charts;
use super::csrf::CsrfToken;
use super::dashboard::DeadlineView;
use super::pages::{self, Layout};
use super::words;
use super::Console;
use crate::notify::mail::local;
use crate::store::{IncidentRow, ItemRow};
use crate::vocab::clock::{from_secs, secs};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

/// A piece of text; `marked` when it is a word the topic matched on.
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// Text in pieces, the matched words marked.
pub type Marked = Vec<Piece>;

pub struct ItemView {
    pub id: i64,
    pub source: String,
    pub time: String,
    pub link: String,
    pub title: Marked,
    pub excerpt: Marked,
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
    pub id: i64,
    pub topic: String,
    pub severity: &'static str,
    pub severity_class: &'static str,
    pub status: &'static str,
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
    pub timeline: Vec<Entry>,
    pub can_act: bool,
    pub can_note: bool,
    pub flash: Option<(bool, String)>,
    pub authenticity_token: String,
    pub per_hour: String,
    pub by_source: String,
    /// Each severity's key and name, and whether it is the incident's.
    pub severities: Vec<(&'static str, &'static str, bool)>,
}

/// Cuts `text` at the evidence spans of `topic` (character offsets).
fn mark(c: &Console, text: &str, topic: &str, source: &str) -> Marked {
    let settings = c.settings.get();
    let found = settings.classifier.classify(text, Some(source));
    let mut spans: Vec<(usize, usize)> = found
        .topics
        .iter()
        .filter(|t| t.id == topic)
        .flat_map(|t| t.evidence.iter().map(|e| (e.start, e.end)))
        .collect();
    spans.sort();
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
    if at < chars.len() {
        out.push(Piece {
            text: chars[at..].iter().collect(),
            marked: false,
        });
    }
    out
}

fn excerpt(summary: &str) -> String {
    const MAX: usize = 160;
    let s: String = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > MAX {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    } else {
        s
    }
}

pub async fn build(
    c: &Console,
    layout: Layout,
    user: &User,
    token: &CsrfToken,
    incident: IncidentRow,
    flash: Option<(bool, String)>,
) -> anyhow::Result<IncidentPage> {
    let settings = c.settings.get();
    let config = &settings.config;
    let tz = config.daemon.timezone;
    let now = c.clock.now();
    let store = &c.store;
    let id = incident.id;
    let deadlines = store.deadlines_of(store.pool(), id).await?;
    let rows: Vec<ItemRow> = store.incident_items(store.pool(), id).await?;
    let name_of = |s: &str| crate::incident::source_name(config, s);
    let items = rows
        .iter()
        .map(|it| ItemView {
            id: it.id,
            source: name_of(&it.source_id),
            time: local(from_secs(it.published_at.unwrap_or(it.fetched_at)), tz),
            link: it
                .link
                .clone()
                .filter(|l| l.starts_with("http"))
                .unwrap_or_default(),
            title: mark(c, &it.title, &incident.topic_id, &it.source_id),
            excerpt: mark(c, &excerpt(&it.summary), &incident.topic_id, &it.source_id),
        })
        .collect();
    let mut timeline: Vec<(i64, Entry)> = store
        .actions_of(id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.at,
                Entry {
                    at: local(from_secs(a.at), tz),
                    who: a.actor,
                    what: words::action_zh(&a.action),
                    detail: words::detail_zh(&a.action, a.detail.as_deref().unwrap_or("")),
                    mail: false,
                },
            )
        })
        .collect();
    for m in store.mails_of(id).await? {
        let to: Vec<String> = serde_json::from_str(&m.recipients).unwrap_or_default();
        let sent = match m.sent_at {
            Some(t) => format!("已发送 {}", local(from_secs(t), tz)),
            None => "待发送".into(),
        };
        timeline.push((
            m.created_at,
            Entry {
                at: local(from_secs(m.created_at), tz),
                who: "yuqing".into(),
                what: "邮件",
                detail: format!("《{}》 致 {}（{sent}）", m.subject, to.join("、")),
                mail: true,
            },
        ));
    }
    timeline.sort_by_key(|(t, _)| *t);
    let mut links = Vec::new();
    if let Some(into) = incident.merged_into {
        links.push(("已并入".to_string(), into));
    }
    if let Some(from) = incident.split_from {
        links.push(("拆分自".to_string(), from));
    }
    let times: Vec<i64> = rows
        .iter()
        .map(|i| i.published_at.unwrap_or(i.fetched_at))
        .collect();
    let per_hour = charts::items_per_hour(incident.clock_start, &times, secs(now), tz);
    let mut by: Vec<(String, i64)> = Vec::new();
    for it in &rows {
        let n = name_of(&it.source_id);
        match by.iter_mut().find(|(s, _)| *s == n) {
            Some((_, k)) => *k += 1,
            None => by.push((n, 1)),
        }
    }
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let by_source = charts::bars(&by);
    Ok(IncidentPage {
        layout,
        now: secs(now),
        id,
        topic: incident.topic_name.clone(),
        severity: words::severity_zh(incident.severity),
        severity_class: words::severity_class(incident.severity),
        status: words::status_zh(incident.status),
        active: words::is_active(&incident),
        unacked: incident.acknowledged_by.is_none(),
        owes_release: deadlines
            .iter()
            .any(|d| words::is_open(d) && d.kind != "press_conference"),
        owes_press: deadlines
            .iter()
            .any(|d| words::is_open(d) && d.kind == "press_conference"),
        acknowledged: match (&incident.acknowledged_by, incident.acknowledged_at) {
            (Some(by), Some(at)) => format!("{by}（{}）", local(from_secs(at), tz)),
            _ => "未确认".into(),
        },
        opened: local(from_secs(incident.opened_at), tz),
        clock_start: local(from_secs(incident.clock_start), tz),
        links,
        deadlines: deadlines
            .iter()
            .map(|d| DeadlineView::new(&incident, d, now, tz))
            .collect(),
        items,
        timeline: timeline.into_iter().map(|(_, e)| e).collect(),
        can_act: user.can_act() && words::is_active(&incident),
        can_note: user.can_note(),
        flash,
        authenticity_token: token.authenticity_token().unwrap_or_default(),
        per_hour,
        by_source,
        severities: crate::vocab::severity::Severity::ALL
            .iter()
            .map(|s| (s.as_str(), s.zh(), *s == incident.severity))
            .collect(),
    })
}

pub const FLASH: &str = "flash";

pub async fn page(
    State(c): State<Console>,
    user: User,
    token: CsrfToken,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    let incident = match c.store.incident(c.store.pool(), id).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return pages::error_page(StatusCode::NOT_FOUND, &format!("没有编号为 #{id} 的事件。"))
        }
        Err(e) => return pages::failure(&e),
    };
    let flash: Option<(bool, String)> = session.remove(FLASH).await.ok().flatten();
    let layout = Layout::new(format!("事件 #{id}"), &user, &token, "");
    match build(&c, layout, &user, &token, incident, flash).await {
        Ok(p) => (token, p).into_response(),
        Err(e) => pages::failure(&e),
    }
}

//! `/` (总览): open incidents by the nearest deadline, each pending deadline with a live
//! countdown, counts by state, the own channels' duties, sources failing or silent.

use super::pages::{Answer, Layout, Viewer};
use super::sources::{self, Duty, Health};
use super::words;
use super::Console;
use crate::store::{DeadlineRow, IncidentRow};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::ids::IncidentId;
use crate::vocab::state::{DeadlineState, IncidentStatus};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// A deadline as both the dashboard and the incident page show it.
pub struct DeadlineView {
    pub label: String,
    pub due: i64,
    pub due_local: String,
    /// `Some` while running: the countdown's text and colour class.
    pub countdown: Option<(String, &'static str)>,
    /// Otherwise what became of it.
    pub outcome: String,
    pub met_by: String,
}

impl DeadlineView {
    pub fn new(i: &IncidentRow, d: &DeadlineRow, now: DateTime<Utc>, tz: Tz) -> DeadlineView {
        // Still owed (pending, or overdue while the incident is handled): a countdown;
        // otherwise what became of it, in the report's words.
        let (countdown, outcome) = match d.state(i, now) {
            DeadlineState::Pending { .. } | DeadlineState::Missed { ended: false, .. } => (
                Some((
                    words::countdown(d.due_at, now),
                    words::urgency(d.due_at, now),
                )),
                String::new(),
            ),
            _ => (None, crate::notify::report::outcome_of(i, d, now)),
        };
        DeadlineView {
            label: d.what(),
            due: d.due_at,
            due_local: local(from_secs(d.due_at), tz),
            countdown,
            outcome,
            met_by: d.met_by.clone().unwrap_or_default(),
        }
    }
}

/// An incident's heading, on its card here and atop its own page: its number and title
/// (the main line; the topic a tag beside it), its severity and status in words.
pub struct Heading {
    pub id: i64,
    pub title: String,
    pub topic: String,
    pub severity: &'static str,
    pub severity_class: &'static str,
    pub status: &'static str,
}

impl Heading {
    pub fn of(i: &IncidentRow) -> Heading {
        Heading {
            id: i.id.0,
            title: i.title.clone(),
            topic: i.topic_name.clone(),
            severity: i.severity.zh(),
            severity_class: words::severity_class(i.severity),
            status: i.status.zh(),
        }
    }
}

pub struct Row {
    pub head: Heading,
    pub acknowledged_by: String,
    pub opened: String,
    pub items: i64,
    pub deadlines: Vec<DeadlineView>,
    /// The nearest pending deadline, for the order.
    nearest: Option<i64>,
}

/// An item that matched a topic but waits to be filed: an incident row of the topic
/// cannot be read (`held_filings`). Until the repair it starts no clock and alerts nobody,
/// so the duty officer judges it by hand.
pub struct HeldLine {
    pub title: String,
    /// Its link, empty when not http.
    pub link: String,
    pub topic: String,
    pub source: String,
    /// Since when it waits, local time.
    pub since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub now: i64,
    pub rows: Vec<Row>,
    pub held: Vec<HeldLine>,
    /// Incidents this version cannot read: their number and why.
    pub unreadable: Vec<(i64, String)>,
    pub counts: Vec<(&'static str, &'static str, i64)>,
    pub duties: Vec<Duty>,
    pub troubled: Vec<Health>,
}

/// Everything the dashboard shows, as `v` sees it.
pub async fn build(c: &Console, v: &Viewer) -> anyhow::Result<DashboardPage> {
    let (tz, now) = (v.tz, v.now);
    let (incidents, unreadable) = c.store.readable_incidents(false).await?;
    for (id, why) in &unreadable {
        tracing::error!(incident_id = id.0, error = %why, "an incident this version cannot read is left off the dashboard and named on it");
    }
    let mut deadlines: HashMap<IncidentId, Vec<DeadlineRow>> = HashMap::new();
    for d in c.store.active_deadlines().await? {
        deadlines.entry(d.incident_id).or_default().push(d);
    }
    let items: HashMap<i64, i64> = c.store.active_item_counts().await?.into_iter().collect();
    let mut rows: Vec<Row> = incidents
        .iter()
        .map(|i| {
            let ds = deadlines.remove(&i.id).unwrap_or_default();
            let views: Vec<DeadlineView> = ds
                .iter()
                .map(|d| DeadlineView::new(i, d, now, tz))
                .collect();
            let nearest = crate::store::nearest_owed(i, &ds, now);
            Row {
                head: Heading::of(i),
                acknowledged_by: i.acknowledged_by.clone().unwrap_or_default(),
                opened: local(from_secs(i.opened_at), tz),
                items: items.get(&i.id.0).copied().unwrap_or(0),
                deadlines: views,
                nearest,
            }
        })
        .collect();
    // Nearest deadline first; incidents owing nothing more after, newest first.
    rows.sort_by_key(|r| crate::store::urgency(r.nearest, IncidentId(r.head.id)));
    let have: HashMap<String, i64> = c.store.incident_counts().await?.into_iter().collect();
    let counts = IncidentStatus::ALL
        .into_iter()
        .map(|s| {
            (
                s.as_str(),
                s.zh(),
                have.get(s.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let held = held_lines(c, v).await?;
    let duties = sources::duties(c, v).await?;
    // Which sources are in trouble (their states, or items held back), not a week of
    // their items.
    let troubled = sources::health(c, v, false)
        .await?
        .into_iter()
        .filter(|h| matches!(h.state, "unreachable" | "silent") || !h.held.is_empty())
        .collect();
    Ok(DashboardPage {
        layout: v.layout("总览", "/"),
        now: secs(now),
        rows,
        held,
        unreadable: unreadable
            .into_iter()
            .map(|(id, why)| (id.0, why))
            .collect(),
        counts,
        duties,
        troubled,
    })
}

/// The items whose filing is held back, oldest first; one gone since is left out.
async fn held_lines(c: &Console, v: &Viewer) -> anyhow::Result<Vec<HeldLine>> {
    let config = &v.settings.config;
    let mut out = Vec::new();
    for h in c.store.held_filings().await? {
        let Some(item) = c.store.item(h.item_id).await? else {
            continue;
        };
        let topic = v
            .settings
            .watchlists
            .topics
            .iter()
            .find(|t| t.id == *h.topic_id);
        out.push(HeldLine {
            title: item.title.clone(),
            link: super::item::web_link(&item.link),
            topic: topic.map_or_else(|| h.topic_id.to_string(), |t| t.name.clone()),
            source: crate::incident::source_name(config, &item.source_id),
            since: local(from_secs(h.held_at), v.tz),
        });
    }
    Ok(out)
}

pub async fn page(State(c): State<Console>, v: Viewer) -> Answer {
    let page = build(&c, &v).await?;
    Ok((v.token, page).into_response())
}

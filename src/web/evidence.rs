//! The evidence of an incident's items on the console (issue 23 §6): each item's state on
//! the incident page (`view`), a kept version's text as plain text (`/evidence/{id}`), and
//! the incident's WARC file for duty officers and leaders
//! (`/incidents/{id}/evidence.warc.gz`).
//!
//! The archived HTML is never served, nor its scripts: the page shows the text the article
//! reader extracted, escaped like every text on the console.

use super::pages::{self, Answer, Layout, PageError, Viewer};
use super::Console;
use crate::store::EvidenceSummary;
use crate::vocab::clock::from_secs;
use crate::vocab::clock::local;
use crate::vocab::ids::IncidentId;
use crate::vocab::state::EvidenceState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// An item's evidence as the incident page shows it.
pub struct EvidenceView {
    /// `原帖已删除` …, or `未能保存`.
    pub state: &'static str,
    /// `ev-online`, `ev-changed`, `ev-deleted`, `ev-unreachable`: its colour.
    pub class: &'static str,
    /// `2026-11-24 09:05 保存（共 2 版）`, or why nothing could be kept.
    pub kept: String,
    pub checked: String,
    /// The kept text's page, when a version holds one.
    pub href: String,
}

impl EvidenceView {
    pub fn of(e: &EvidenceSummary, tz: chrono_tz::Tz) -> EvidenceView {
        let class = match e.state {
            EvidenceState::Online => "ev-online",
            EvidenceState::Changed => "ev-changed",
            EvidenceState::Deleted => "ev-deleted",
            EvidenceState::Unreachable => "ev-unreachable",
        };
        let kept = match (&e.sha256, &e.error) {
            (Some(_), _) => format!(
                "{} 保存（共 {} 版）",
                local(from_secs(e.captured_at), tz),
                e.versions
            ),
            (None, Some(err)) => format!("未能保存：{}", crate::vocab::text::one_line(err, 200)),
            (None, None) => "未能保存".into(),
        };
        EvidenceView {
            state: e.state.zh(),
            class,
            kept,
            checked: format!("{} 复查", local(from_secs(e.checked_at), tz)),
            href: e
                .kept_id
                .map(|id| format!("/evidence/{id}"))
                .unwrap_or_default(),
        }
    }
}

/// One version of an item's page, as text.
#[derive(Template, WebTemplate)]
#[template(path = "evidence.html")]
pub struct EvidencePage {
    pub layout: Layout,
    pub item: i64,
    pub incidents: Vec<i64>,
    pub title: String,
    pub url: String,
    pub final_url: String,
    pub version: i64,
    pub state: &'static str,
    pub captured: String,
    pub checked: String,
    pub sha256: String,
    pub text: String,
    /// The item's other versions: (row id, version, captured).
    pub versions: Vec<(i64, i64, String)>,
}

/// `GET /evidence/{id}`: a kept version's title and text, escaped; any role that reads
/// incidents.
pub async fn page(State(c): State<Console>, v: Viewer, Path(id): Path<i64>) -> Answer {
    let row = match c.store.evidence_version(id).await? {
        Some(r) if r.sha256.is_some() => r,
        _ => return Err(PageError::NotFound(format!("没有编号为 {id} 的存档。"))),
    };
    let tz = v.tz;
    let incidents = c.store.incidents_of_item(row.item_id).await?;
    let mut versions = Vec::new();
    for i in &incidents {
        for e in c.store.incident_evidence(IncidentId(*i)).await? {
            if e.item_id == row.item_id
                && e.sha256.is_some()
                && !versions.iter().any(|(id, _, _)| *id == e.id)
            {
                versions.push((e.id, e.version, local(from_secs(e.captured_at), tz)));
            }
        }
    }
    let title = row
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "（无标题）".into());
    let page = EvidencePage {
        layout: v.layout(format!("存档：{title}"), ""),
        item: row.item_id,
        incidents,
        title,
        url: row.url.clone(),
        final_url: row.final_url.clone().unwrap_or_default(),
        version: row.version,
        state: row.state.zh(),
        captured: local(from_secs(row.captured_at), tz),
        checked: local(from_secs(row.checked_at), tz),
        sha256: row.sha256.clone().unwrap_or_default(),
        text: row.text.clone().unwrap_or_default(),
        versions,
    };
    Ok((v.token, page).into_response())
}

/// `GET /incidents/{id}/evidence.warc.gz`: the incident's evidence as one WARC file, as
/// `yuqing evidence export` writes it; duty officers and leaders only.
pub async fn download(State(c): State<Console>, v: Viewer, Path(id): Path<i64>) -> Answer {
    if !v.user.can_note() {
        return Ok(pages::error_page(
            StatusCode::FORBIDDEN,
            "只有值班员和领导可以下载证据存档。",
        ));
    }
    pages::incident(&c, id).await?;
    let rows = c.store.incident_evidence(IncidentId(id)).await?;
    let name = format!("incident-{id}.warc.gz");
    let dir = v.settings.config.evidence.dir.clone();
    let (tz, now) = (v.tz, v.now);
    let file = name.clone();
    let b = tokio::task::spawn_blocking(move || {
        crate::evidence::export::bundle(id, &rows, &dir, &file, tz, now)
    })
    .await
    .map_err(|e| anyhow::anyhow!("the export failed: {e}"))??;
    tracing::info!(incident_id = id, user = %v.user.name, versions = b.versions, "evidence downloaded");
    Ok(pages::attachment(&name, "application/gzip", b.warc))
}

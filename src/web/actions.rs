//! `POST /incidents/{id}/{action}`: the duty officer's actions, each through the same
//! workflow function as the command line (one transaction, recorded with the logged-in
//! user's name). The role is checked here, on the server, for every request.

use super::auth::User;
use super::csrf::{Form, Posted};
use super::incident_page::FLASH;
use super::pages::{self, Viewer};
use super::Console;
use crate::incident::{self, Step};
use crate::vocab::ids::{IncidentId, ItemId};
use crate::vocab::severity::Severity;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// The actions of the route contract.
pub const ACTIONS: [&str; 10] = [
    "ack", "release", "press", "severity", "title", "note", "merge", "split", "close", "dismiss",
];

pub async fn act(
    State(c): State<Console>,
    user: User,
    session: Session,
    Path((id, action)): Path<(i64, String)>,
    Posted { token, form }: Posted,
) -> Response {
    if !ACTIONS.contains(&action.as_str()) {
        return pages::error_page(StatusCode::NOT_FOUND, "没有这个操作。");
    }
    let v = Viewer::new(&c, user, token);
    let user = &v.user;
    let allowed = if action == "note" {
        user.can_note()
    } else {
        user.can_act()
    };
    if !allowed {
        tracing::warn!(user = %user.name, role = user.role.as_str(), incident_id = id, action, "console action refused: role");
        return pages::forbidden("执行此操作（仅值班员可处置事件；领导可添加备注）");
    }
    let back = format!("/incidents/{id}");
    // The new incident of a split is where the duty officer looks next.
    let (result, target) = match run(&c, &v, id, &action, &form).await {
        Ok((said, to)) => {
            tracing::info!(user = %user.name, incident_id = id, action, "console action: {said}");
            ((true, said), to.unwrap_or(back))
        }
        Err(Refused(msg)) => ((false, msg), back),
        Err(Failed(e)) => return pages::failure(&e),
    };
    let _ = session.insert(FLASH, result).await;
    (v.token, Redirect::to(&target)).into_response()
}

enum Outcome {
    Refused(String),
    Failed(anyhow::Error),
}
use Outcome::{Failed, Refused};

fn refused(msg: impl Into<String>) -> Outcome {
    Refused(msg.into())
}

/// Sorts a workflow error: the step refused (a user's mistake, shown on the page) or the
/// database failing (500).
/// The workflow's answer by cause: refused (shown on the page) or failed (a 500).
fn sort(e: incident::StepError) -> Outcome {
    match e {
        incident::StepError::Refused(why) => Refused(format!("未执行：{why}")),
        incident::StepError::Failed(e) => Failed(e),
    }
}

/// What the workflow said, and where to go next when not back to the incident.
async fn run(
    c: &Console,
    v: &Viewer,
    id: i64,
    action: &str,
    form: &Form,
) -> Result<(String, Option<String>), Outcome> {
    let (settings, now, by) = (&v.settings, v.now, v.user.name.as_str());
    let config = &settings.config;
    let text = |k: &str| form.get(k).map(str::trim).filter(|s| !s.is_empty());
    let step = match action {
        "ack" => Step::Acknowledge,
        "release" => {
            let Some(u) = text("url") else {
                return Err(refused("请填写权威信息发布的链接（URL）。"));
            };
            if crate::vocab::text::http_link(u).is_none() {
                return Err(refused(format!(
                    "「{u}」不是网址（只接受 http:// 或 https:// 开头的链接）：请填写发布页面的完整链接。"
                )));
            }
            // A detected candidate with this link counts at its own publication time.
            let at = c
                .store
                .release_candidates(c.store.pool(), IncidentId(id))
                .await
                .map_err(Failed)?
                .into_iter()
                .find(|cand| cand.status == "candidate" && cand.link.as_deref() == Some(u))
                .map(|cand| crate::vocab::clock::from_secs(cand.posted_at));
            Step::Release {
                url: u.to_string(),
                at,
            }
        }
        "press" => Step::PressConference {
            note: text("note").map(String::from),
        },
        "severity" => match text("level").map(str::parse::<Severity>) {
            Some(Ok(s)) => Step::Severity(s),
            _ => return Err(refused("请选择级别。")),
        },
        "title" => match text("title") {
            Some(t) => Step::Title(t.to_string()),
            None => return Err(refused("标题不能为空。")),
        },
        "note" => match text("text") {
            Some(t) => Step::Note(t.to_string()),
            None => return Err(refused("备注不能为空。")),
        },
        "close" => Step::Close,
        "dismiss" => match text("reason") {
            Some(r) => Step::Dismiss {
                reason: r.to_string(),
            },
            None => return Err(refused("请说明为何判定为误报。")),
        },
        "merge" => {
            let Some(from) =
                text("from").and_then(|f| f.trim_start_matches('#').parse::<i64>().ok())
            else {
                return Err(refused("请填写要并入本事件的事件编号。"));
            };
            return incident::merge(&c.store, config, IncidentId(id), IncidentId(from), by, now)
                .await
                .map(|s| (s, None))
                .map_err(sort);
        }
        "split" => {
            let items: Vec<ItemId> = form
                .all("item")
                .iter()
                .filter_map(|s| s.parse().ok().map(ItemId))
                .collect();
            if items.is_empty() {
                return Err(refused("请勾选要拆分出去的信息。"));
            }
            let (new, said) = incident::split(
                &c.store,
                config,
                incident::Obligations::of_settings(settings),
                IncidentId(id),
                &items,
                by,
                now,
            )
            .await
            .map_err(sort)?;
            return Ok((said, Some(format!("/incidents/{new}"))));
        }
        _ => return Err(refused("没有这个操作。")),
    };
    incident::act(&c.store, config, IncidentId(id), &step, by, now)
        .await
        .map(|s| (s, None))
        .map_err(sort)
}

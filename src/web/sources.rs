//! `/sources`: each source's and own channel's health (unreachable versus silent), and the
//! board of publication duties.

use super::pages::{Answer, Layout, Viewer};
use super::words::ago;
use super::Console;
use crate::obligations;
use crate::vocab::clock::from_secs;
use crate::vocab::clock::local;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use std::collections::HashMap;

/// One source or channel's health as a person reads it.
pub struct Health {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    /// `ok`, `unreachable`, `silent` or `new` (never polled).
    pub state: &'static str,
    pub state_zh: &'static str,
    pub last_success: String,
    pub last_item: String,
    pub failures: i64,
    /// How late its items were first seen over the last 7 days (`rules::lag`), in words.
    pub lag: String,
    /// Why it fails, in Chinese (`fetch::failure_zh`); empty while it reads.
    pub reason: String,
    /// The stored error itself (or what had to be repaired), as the detail under it.
    pub last_error: String,
    /// While some of its items' filing into incidents is held back (a stored row that
    /// cannot be read is in the way; the items are stored): since when, in Chinese; empty
    /// otherwise.
    pub held: String,
    /// The stored error that holds them back, as the detail under it.
    pub held_error: String,
}

/// The health of every source and every own channel, as `v` sees it.
/// `reading`: also when each source's newest item came and how late its items were heard
/// (a week of items read), which the sources page shows and the dashboard does not.
pub async fn health(c: &Console, v: &Viewer, reading: bool) -> anyhow::Result<Vec<Health>> {
    let (config, tz, now) = (&v.settings.config, v.tz, v.now);
    let states: HashMap<String, crate::store::SourceState> = c
        .store
        .source_states()
        .await?
        .into_iter()
        .map(|s| (s.source_id.clone(), s))
        .collect();
    let (last_items, lags): (HashMap<String, i64>, _) = if reading {
        (
            c.store.last_item_per_source().await?.into_iter().collect(),
            c.store
                .source_lags(now.timestamp() - crate::rules::lag::WINDOW_S)
                .await?,
        )
    } else {
        Default::default()
    };
    let when = |t: Option<i64>| {
        t.map(|t| local(from_secs(t), tz))
            .unwrap_or_else(|| "从未".into())
    };
    let one = |id: &str, name: &str, kind: &'static str| {
        let st = states.get(id).cloned().unwrap_or_default();
        let last_item = last_items.get(id).copied();
        let state = st.health();
        let state_zh = crate::vocab::words::source_health_zh(state);
        Health {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            state,
            state_zh,
            last_success: when(st.last_success),
            last_item: last_item.map(|t| ago(t, now)).unwrap_or_else(|| "—".into()),
            failures: st.failures,
            lag: crate::notify::operator_mail::lag_zh(lags.get(id)),
            reason: st
                .last_error
                .as_deref()
                .filter(|_| st.failures > 0)
                .map(crate::fetch::failure_zh)
                .unwrap_or_default(),
            // The error while failing; while it reads, what had to be repaired to read
            // its last document (as `yuqing sources` shows it).
            last_error: st
                .last_error
                .filter(|_| st.failures > 0)
                .or_else(|| st.last_warning.map(|w| format!("已修复后读取：{w}")))
                .unwrap_or_default(),
            held: st
                .held_since
                .map(|t| crate::vocab::words::held_back_zh(&when(Some(t))))
                .unwrap_or_default(),
            held_error: st.held_since.and(st.held_error.clone()).unwrap_or_default(),
        }
    };
    let mut out: Vec<Health> = config
        .sources
        .iter()
        .map(|s| one(&s.id, &s.name, "来源"))
        .collect();
    out.extend(
        config
            .channels
            .iter()
            .map(|ch| one(&ch.id, &ch.name, "自有渠道")),
    );
    Ok(out)
}

/// One own channel's publication duty.
pub struct Duty {
    pub name: String,
    pub state: &'static str,
    pub state_zh: &'static str,
    pub last_post: String,
    pub posts: u32,
    pub due: String,
    pub note: String,
}

/// The publication duty of every own channel, as `v` sees it.
pub async fn duties(c: &Console, v: &Viewer) -> anyhow::Result<Vec<Duty>> {
    let (settings, tz) = (&v.settings, v.tz);
    let all =
        obligations::evaluate(&c.store, &settings.config, Some(&settings.calendar), v.now).await?;
    Ok(all
        .into_iter()
        .filter_map(|d| {
            let s = d.status?;
            // The same words as `yuqing obligations` and the mail (无法判断, not 未知).
            let (state, state_zh) = (s.state.as_str(), s.state.zh());
            Some(Duty {
                name: d.channel.name.clone(),
                state,
                state_zh,
                last_post: s
                    .last_post
                    .map(|t| local(t, tz))
                    .unwrap_or_else(|| "无".into()),
                posts: s.posts_this_period,
                due: s.due.map(|t| local(t, tz)).unwrap_or_default(),
                note: s.note.clone().unwrap_or_default(),
            })
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "sources.html")]
struct SourcesPage {
    layout: Layout,
    health: Vec<Health>,
    duties: Vec<Duty>,
}

pub async fn page(State(c): State<Console>, v: Viewer) -> Answer {
    let page = SourcesPage {
        layout: v.layout("来源与渠道", "/sources"),
        health: health(&c, &v, true).await?,
        duties: duties(&c, &v).await?,
    };
    Ok((v.token, page).into_response())
}

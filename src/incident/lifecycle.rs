//! An incident after the response: monitoring, closing, resurgence (回温), merge and
//! split, and the working-day obligations some topics carry.
//!
//! States, in order: `open` → `acknowledged` → `released` (release or response recorded)
//! → `press_conference` → `monitoring` → `closed`; `merged` ends an incident merged into
//! another. An incident enters `monitoring` by itself once no deadline is left running
//! (release and press conference for 重大 and above, the response below, and any
//! working-day obligation), for `[deadlines] monitoring` (7 days), and closes by itself when
//! that ends; the duty officer may close it earlier. A regrade that adds a deadline takes a
//! monitored incident back to `released`.
//!
//! A new item about the same event while the incident is monitored joins it and mails 回温
//! (once per monitoring period; later items go into the usual new-items batches). After
//! closing, within `[grouping] reopen_within` (30 days), it reopens the incident: status
//! `open` again, to be acknowledged again, and the 回温 mail carries the incident's record.
//! A reopened incident owes no new statutory deadline (its release and response stand as
//! recorded); once acknowledged it is monitored again, and the duty officer records any
//! further response as a note.

use super::{
    clock_start_of, one_by_one, record_both, record_own, refuse, source_name, Ctx, Snapshot,
    StepError,
};
use crate::classify::grouping::ItemSignature;
use crate::classify::watchlist::Topic;
use crate::config::settings::Settings;
use crate::config::Config;
use crate::notify::alert::{alert, queue};
use crate::notify::mail;
use crate::rules::calendar::{Calendar, Obligation};
use crate::rules::deadline;
use crate::rules::escalation::Audience;
use crate::rules::escalation::Step as EStep;
use crate::store::{IncidentRow, ItemRow, NewIncident, Store, Tx};
use crate::vocab::action::{ActionKind, OWN_ACTOR};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::ids::{IncidentId, ItemId};
use crate::vocab::severity::Severity;
use crate::vocab::state::IncidentStatus;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

/// Items of one incident compared with a new item, newest first.
const MAX_COMPARED: usize = 200;

/// How many of an incident's items one read fetches: few at first, since during a surge
/// the newest item is usually alike enough and the comparison stops there, then more.
const PAGES: [usize; 3] = [8, 56, MAX_COMPARED - 64];

/// The incident `item` is about, if any: of the same topic, active or closed within
/// `reopen_within`, with an item at least `similarity` alike. Items of incidents not yet
/// monitored count only when fetched within `window`; a monitored or closed incident is
/// compared with all its items, since 回温 comes days later by nature.
///
/// Each incident is compared by its latest `MAX_COMPARED` items, newest first, and the
/// comparison stops as soon as more items cannot change the answer: at the first item
/// alike enough when the incident is the topic's only candidate, at a perfect match
/// otherwise (the most alike incident wins, the newest on a tie). So the decision is the
/// one a full comparison makes, and a join into an incident of 10,000 items reads about as
/// many rows as one into an incident of 10.
pub(super) async fn same_event(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    item: &ItemRow,
    topic_id: &str,
) -> Result<Option<IncidentRow>> {
    let Ctx { store, config, now } = ctx;
    let g = config.grouping;
    // Computed once per item and stored (by a poll with the item itself): an incident's
    // items are compared by their stored signatures, never recomputed from text.
    let sig = match item.signature.as_deref().and_then(ItemSignature::from_text) {
        Some(sig) => sig,
        None => {
            let sig = ItemSignature::of(&item.title, &item.summary);
            store.set_signature(tx, item.id, &sig.to_text()).await?;
            sig
        }
    };
    let window_since = secs(now) - g.window.as_secs() as i64;
    let closed_since = secs(now) - g.reopen_within.as_secs() as i64;
    let candidates = store
        .grouping_candidates(tx, topic_id, closed_since)
        .await?;
    let enough = if candidates.len() == 1 {
        g.similarity
    } else {
        1.0
    };
    let mut best: Option<(f64, IncidentRow)> = None;
    for cand in candidates {
        let settled = matches!(
            cand.status,
            IncidentStatus::Monitoring | IncidentStatus::Closed
        );
        let mut score = f64::NEG_INFINITY;
        let mut before = i64::MAX;
        'pages: for page in PAGES {
            let rows = store
                .latest_signatures(tx, cand.id, before, page as i64)
                .await?;
            let last_page = rows.len() < page;
            for (id, fetched_at, stored) in rows {
                before = id;
                if id == item.id || !(settled || fetched_at >= window_since) {
                    continue;
                }
                let theirs = match stored.as_deref().and_then(ItemSignature::from_text) {
                    Some(s) => s,
                    // An item stored before signatures were (or with one unreadable):
                    // computed now, and kept.
                    None => {
                        let Some(row) = store.item_in(tx, id).await? else {
                            continue;
                        };
                        let s = ItemSignature::of(&row.title, &row.summary);
                        store.set_signature(tx, id, &s.to_text()).await?;
                        s
                    }
                };
                score = score.max(theirs.similarity(&sig));
                if score >= enough {
                    break 'pages;
                }
            }
            if last_page {
                break;
            }
        }
        if score >= g.similarity && best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, cand));
        }
    }
    Ok(best.map(|(_, i)| i))
}

/// When `incident` is monitored or closed, `item` is a resurgence: mails 回温 (once per
/// monitoring period) and reopens a closed incident. Returns the incident as it is now.
pub(super) async fn resurge(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    incident: IncidentRow,
    item: &ItemRow,
) -> Result<IncidentRow> {
    let Ctx { store, config, now } = ctx;
    let t = secs(now);
    let reopened = match incident.status {
        IncidentStatus::Closed => {
            store.reopen(tx, incident.id, t).await?;
            let closed = incident.closed_at.unwrap_or(t);
            let why = format!(
                "item {}, closed {}",
                item.id,
                local(from_secs(closed), config.daemon.timezone)
            );
            record_own(ctx, tx, incident.id, ActionKind::Reopened, &why).await?;
            true
        }
        IncidentStatus::Monitoring => {
            let since = store.last_met_at(tx, incident.id).await?.unwrap_or(0);
            if !store.mark_resurged(tx, incident.id, since, t).await? {
                return Ok(incident);
            }
            let why = format!("item {}", item.id);
            record_own(ctx, tx, incident.id, ActionKind::Resurgence, &why).await?;
            false
        }
        _ => return Ok(incident),
    };
    store.add_incident_item(tx, incident.id, item.id, t).await?;
    // The resurgence mail reports this item itself: later items go into new-items batches.
    store.mark_items_mailed(tx, incident.id, item.id, t).await?;
    let snap = Snapshot::read(ctx, tx, incident.id).await?;
    let tz = config.daemon.timezone;
    let history: Vec<String> = store
        .actions_in(tx, incident.id)
        .await?
        .into_iter()
        .map(|a| {
            format!(
                "{} {} {}",
                local(from_secs(a.at), tz),
                a.actor,
                crate::vocab::words::record_zh(a.action, a.detail.as_deref())
            )
        })
        .collect();
    let who = snap.audience(EStep::Resurgence);
    alert(store, tx, config, who, now, |to| {
        mail::resurgence(
            &snap.view(),
            item,
            &source_name(config, &item.source_id),
            reopened,
            &history,
            to,
        )
    })
    .await?;
    tracing::info!(incident_id = incident.id.0, reopened, "resurgence (回温)");
    Ok(snap.incident)
}

/// The working-day duties a new incident owes: its topic's `obligation` (e.g. a reply to a
/// 市长信箱 message within 5 working days), counted on the calendar. An incident an item
/// opens and one split off another owe them alike.
#[derive(Clone, Copy)]
pub struct Obligations<'a> {
    pub calendar: &'a Calendar,
    pub topics: &'a [Topic],
}

impl<'a> Obligations<'a> {
    /// The running settings' calendar and watchlists.
    pub fn of_settings(settings: &'a Settings) -> Obligations<'a> {
        Obligations {
            calendar: &settings.calendar,
            topics: &settings.watchlists.topics,
        }
    }

    fn of(&self, topic_id: &str) -> Option<Obligation> {
        self.topics
            .iter()
            .find(|t| t.id == topic_id)
            .and_then(|t| t.obligation)
    }
}

/// Opens incident `new` with the deadlines it owes from its clock start: the statutory ones
/// of its severity, and its topic's working-day obligation. An incident an item opens and
/// one split off another are opened alike.
pub(super) async fn open(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    obligations: Obligations<'_>,
    new: &NewIncident<'_>,
) -> Result<IncidentId> {
    let Ctx { store, config, .. } = ctx;
    let id = store.insert_incident(tx, new).await?;
    let start = from_secs(new.clock_start);
    for (kind, due) in deadline::schedule(new.severity, start, &config.deadlines) {
        store.insert_deadline(tx, id, kind, secs(due)).await?;
    }
    add_obligation(ctx, tx, obligations, id, new.topic_id, start).await?;
    Ok(id)
}

/// Moves incident `id`'s clock start to `start` and counts its deadlines at `severity`
/// again from there; met ones move too, so that met or missed is judged against the clock
/// as it now stands.
pub(super) async fn restart_clock(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    severity: Severity,
    start: DateTime<Utc>,
) -> Result<()> {
    let Ctx { store, config, .. } = ctx;
    store.set_clock_start(tx, id, secs(start)).await?;
    for (kind, due) in deadline::schedule(severity, start, &config.deadlines) {
        store.reschedule_deadline(tx, id, kind, secs(due)).await?;
    }
    Ok(())
}

/// Adds the working-day deadline that incidents of `topic_id` owe, if any, counted from
/// `start` on the calendar; a count that reaches a year without data is counted
/// Monday–Friday and flagged.
async fn add_obligation(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    obligations: Obligations<'_>,
    incident: IncidentId,
    topic_id: &str,
    start: DateTime<Utc>,
) -> Result<()> {
    let Ctx { store, config, .. } = ctx;
    let Some(obligation) = obligations.of(topic_id) else {
        return Ok(());
    };
    let due = obligations.calendar.add_working_days(
        start,
        obligation.working_days(),
        config.daemon.timezone,
    );
    let years: Vec<String> = due.uncertain_years.iter().map(|y| y.to_string()).collect();
    let duty = format!(
        "{}（{}个工作日）",
        obligation.zh(),
        obligation.working_days()
    );
    store
        .insert_obligation(
            tx,
            incident,
            secs(due.due),
            &duty,
            (!years.is_empty()).then(|| years.join(",")).as_deref(),
        )
        .await?;
    if !due.is_certain() {
        tracing::warn!(
            incident_id = incident.0,
            years = %years.join(","),
            "working-day deadline counted without calendar data (Monday–Friday); flagged in mail"
        );
    }
    Ok(())
}

/// Enters monitoring when no deadline is left running, or leaves it when a regrade added
/// one; mails the duty officer on entering.
pub(super) async fn settle(ctx: Ctx<'_>, tx: &mut Tx, id: IncidentId, by: &str) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let Some(incident) = store.incident(&mut **tx, id).await? else {
        return Ok(());
    };
    let running = store.open_deadline_count(tx, id).await?;
    let t = secs(now);
    if running > 0 && incident.status == IncidentStatus::Monitoring {
        store
            .set_status(
                tx,
                id,
                IncidentStatus::Released,
                t,
                by,
                "released (monitoring ended: new deadline)",
            )
            .await?;
        return Ok(());
    }
    let ended = matches!(
        incident.status,
        IncidentStatus::Monitoring | IncidentStatus::Closed | IncidentStatus::Merged
    );
    if running > 0 || ended {
        return Ok(());
    }
    let until = now + config.deadlines.monitoring.chrono();
    if !store.start_monitoring(tx, id, secs(until)).await? {
        return Ok(());
    }
    let until_zh = format!("until {}", local(until, config.daemon.timezone));
    record_own(ctx, tx, id, ActionKind::Monitoring, &until_zh).await?;
    let snap = Snapshot::read(ctx, tx, id).await?;
    let draft = mail::monitoring(&snap.view(), until, &config.people.duty);
    queue(store, tx, config, &draft, now).await?;
    tracing::info!(incident_id = id.0, "response duties met; monitoring");
    Ok(())
}

/// Closes an incident, records it and mails the duty officer.
pub(super) async fn close(ctx: Ctx<'_>, tx: &mut Tx, id: IncidentId, by: &str) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let t = secs(now);
    if !store.close_incident(tx, id, t, by).await? {
        return Ok(());
    }
    let detail = (by == OWN_ACTOR).then_some("monitoring ended");
    store
        .record_action(tx, id, t, by, ActionKind::Closed, detail)
        .await?;
    let snap = Snapshot::read(ctx, tx, id).await?;
    // The leaders told of an escalation hear that it closed, too.
    let mut who = Audience {
        mailboxes: config.people.duty.clone(),
        notifiers: Vec::new(),
    };
    who.add(snap.escalated_audience(tx).await?);
    alert(store, tx, config, who, now, |to| {
        mail::closed(&snap.view(), by, to)
    })
    .await?;
    tracing::info!(incident_id = id.0, by, "incident closed");
    Ok(())
}

/// After `what` (发布权威信息, 召开新闻发布会) was recorded on incident `id`: the people
/// told of its escalation are told it is handled, and how late. Nothing when nobody was.
pub(super) async fn tell_handled(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    what: &str,
    by: &str,
) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let snap = Snapshot::read(ctx, tx, id).await?;
    let who = snap.escalated_audience(tx).await?;
    if who.is_empty() {
        return Ok(());
    }
    alert(store, tx, config, who, now, |to| {
        mail::handled(&snap.view(), what, by, to)
    })
    .await?;
    Ok(())
}

/// Ends incident `id` as a false positive (误报) for `reason`: its deadlines are cancelled,
/// and the people who were told of it (those of the opening mail, and those of any
/// escalation) are told it was dismissed.
pub(super) async fn dismiss(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    reason: &str,
    by: &str,
) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let t = secs(now);
    if !store.dismiss_incident(tx, id, t, by).await? {
        return Ok(());
    }
    store
        .record_action(tx, id, t, by, ActionKind::Dismissed, Some(reason))
        .await?;
    let snap = Snapshot::read(ctx, tx, id).await?;
    let mut who = snap.audience(EStep::Opened);
    who.add(snap.escalated_audience(tx).await?);
    alert(store, tx, config, who, now, |to| {
        mail::dismissed(&snap.view(), reason, by, to)
    })
    .await?;
    tracing::info!(
        incident_id = id.0,
        by,
        "incident dismissed as a false positive"
    );
    Ok(())
}

/// Closes the incidents whose monitoring period ended; returns how many.
pub async fn fire_lifecycle(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize> {
    // Read first (see `fire_breaches`).
    if store
        .monitoring_ended(store.pool(), secs(now))
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let ids = store.monitoring_ended(&mut *tx, secs(now)).await?;
    let about = |id: &IncidentId| (*id, "end of monitoring".to_string());
    let ctx = Ctx { store, config, now };
    one_by_one(store, tx, ids, about, |mut tx, id| async move {
        let done = close(ctx, &mut tx, id, OWN_ACTOR).await;
        (tx, done.map(|()| true))
    })
    .await
}

fn active(i: &IncidentRow) -> bool {
    i.status.is_active()
}

/// Merges incident `from` into `into`: its items and record move over, it ends as
/// `merged`, and `into` keeps its title, the earlier clock start and the higher severity,
/// with its running deadlines recomputed from them.
pub async fn merge(
    store: &Store,
    config: &Config,
    into: IncidentId,
    from: IncidentId,
    by: &str,
    now: DateTime<Utc>,
) -> Result<String, StepError> {
    if into == from {
        refuse!("不能把事件 #{into} 并入它自己");
    }
    let ctx = Ctx { store, config, now };
    let mut tx = store.begin().await?;
    let Some(a) = store.incident(&mut *tx, into).await? else {
        refuse!("没有事件 #{into}");
    };
    let Some(b) = store.incident(&mut *tx, from).await? else {
        refuse!("没有事件 #{from}");
    };
    if !active(&a) || !active(&b) {
        refuse!(
            "只能合并处置中的事件（#{into} {}，#{from} {}）",
            a.status.zh(),
            b.status.zh()
        );
    }
    let t = secs(now);
    let items: Vec<i64> = store
        .incident_items(&mut *tx, from)
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    // What moves is what INTO did not have already (one item can be in both).
    let moved = store.move_items(&mut tx, from, into, &items).await?;
    store.copy_actions(&mut tx, from, into).await?;
    store.mark_merged(&mut tx, from, into, t, by).await?;
    let start = a.clock_start.min(b.clock_start);
    let merged_in = format!(
        "#{from} merged in ({moved} items); clock start {}",
        local(from_secs(start), config.daemon.timezone)
    );
    record_both(
        ctx,
        &mut tx,
        by,
        ActionKind::Merged,
        [(from, format!("into #{into}")), (into, merged_in)],
    )
    .await?;
    let (sa, sb) = (a.severity, b.severity);
    restart_clock(ctx, &mut tx, into, sa, from_secs(start)).await?;
    if sb > sa {
        let a = store
            .incident(&mut *tx, into)
            .await?
            .context("incident vanished")?;
        super::regrade(ctx, &mut tx, &a, sb, by).await?;
    }
    let snap = Snapshot::read(ctx, &mut tx, into).await?;
    let draft = mail::merged(&snap.view(), &b, by, &config.people.duty);
    queue(store, &mut tx, config, &draft, now).await?;
    tx.commit().await?;
    let already = if moved == items.len() {
        String::new()
    } else {
        format!("；另 {} 条已在 #{into} 中", items.len() - moved)
    };
    Ok(format!(
        "事件 #{from} 已并入 #{into}（移入 {moved} 条信息{already}），标题仍为「{}」",
        a.title
    ))
}

/// Moves `items` of incident `from` into a new incident of the same topic and severity,
/// with its own deadlines counted from those items' clock start (and the topic's working-day
/// obligation); returns the new id.
pub async fn split(
    store: &Store,
    config: &Config,
    obligations: Obligations<'_>,
    from: IncidentId,
    items: &[ItemId],
    by: &str,
    now: DateTime<Utc>,
) -> Result<(IncidentId, String), StepError> {
    let ctx = Ctx { store, config, now };
    let mut tx = store.begin().await?;
    let Some(a) = store.incident(&mut *tx, from).await? else {
        refuse!("没有事件 #{from}");
    };
    if !active(&a) {
        refuse!("事件 #{from} {}，只能拆分处置中的事件", a.status.zh());
    }
    let all = store.incident_items(&mut *tx, from).await?;
    let mut moved: Vec<&ItemRow> = Vec::new();
    for ItemId(id) in items {
        match all.iter().find(|i| i.id == *id) {
            Some(i) => moved.push(i),
            None => {
                refuse!("信息 #{id} 不属于事件 #{from}（`yuqing incident show {from}` 列出其信息）")
            }
        }
    }
    if moved.is_empty() {
        refuse!("请至少指定一条要拆出的信息");
    }
    if moved.len() == all.len() {
        refuse!("不能拆出事件 #{from} 的全部信息，至少留下一条");
    }
    moved.sort_by_key(|i| i.id);
    let start = moved
        .iter()
        .copied()
        .map(clock_start_of)
        .min()
        .unwrap_or(now);
    let severity = a.severity;
    let t = secs(now);
    // The new incident is named by its own first item, not by what it was split from.
    let title = super::default_title(&moved[0].title, &a.topic_name);
    let new = NewIncident {
        topic_id: &a.topic_id,
        topic_name: &a.topic_name,
        title: &title,
        severity,
        opened_at: t,
        clock_start: secs(start),
        first_item_id: moved[0].id,
    };
    let id = open(ctx, &mut tx, obligations, &new).await?;
    let ids: Vec<i64> = moved.iter().map(|i| i.id).collect();
    store.move_items(&mut tx, from, id, &ids).await?;
    store.set_split_from(&mut tx, id, from).await?;
    // What stays behind keeps the clock start of its own items, and its deadlines follow.
    let rest = all
        .iter()
        .filter(|i| !ids.contains(&i.id))
        .map(clock_start_of)
        .min()
        .unwrap_or(from_secs(a.clock_start));
    if secs(rest) != a.clock_start {
        restart_clock(ctx, &mut tx, from, severity, rest).await?;
    }
    let list = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    record_both(
        ctx,
        &mut tx,
        by,
        ActionKind::Split,
        [
            (id, format!("from #{from}: items {list}")),
            (from, format!("items {list} to #{id}")),
        ],
    )
    .await?;
    let snap = Snapshot::read(ctx, &mut tx, id).await?;
    let view = snap.view();
    // The new incident's own thread starts with its opening mail; the split is told in
    // the thread of the incident it came from.
    let to = config
        .escalation
        .mailboxes(&config.people, severity, EStep::Opened);
    let opened = mail::opened(&view, &to, &[]);
    queue(store, &mut tx, config, &opened, now).await?;
    let mut draft = mail::split(&view, from.0, ids.len(), by, &config.people.duty);
    draft.incident_id = Some(from.0);
    queue(store, &mut tx, config, &draft, now).await?;
    tx.commit().await?;
    Ok((
        id,
        format!("事件 #{from} 的信息 {list} 已拆分为新事件 #{id}「{title}」"),
    ))
}

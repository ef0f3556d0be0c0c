//! Incidents: an item that matches a topic opens one, or joins the one already open for
//! that topic; the duty officer's actions move it along.
//!
//! Every function here is one transaction that changes the incident, records who did it
//! (留痕), and queues the mail the change causes, so that a crash at any instant leaves
//! either all of it or none of it.

pub mod release;

use crate::classify::grouping::SameItem;
use crate::classify::TopicMatch;
use crate::config::settings::Settings;
use crate::config::Config;
use crate::notify::alert::{alert, queue};
use crate::notify::mail::{self, IncidentView};
use crate::rules::deadline;
use crate::rules::escalation::{Audience, Step as EStep};
use crate::store::{DeadlineRow, IncidentRow, ItemRow, NewIncident, Store, Tx};
use crate::vocab::action::{is_own_actor, ActionKind, OWN_ACTOR};
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::ids::IncidentId;
use crate::vocab::severity::Severity;
use crate::vocab::state::DeadlineKind as Kind;
use crate::vocab::state::IncidentStatus;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

mod held;
mod lifecycle;

pub use held::{file_or_hold, fire_held, Filing, FoundBy};
pub use lifecycle::{fire_lifecycle, merge, split, Obligations};

/// The longest title a person may give an incident, in characters: one line of a list, a
/// mail's subject, a row of the briefing.
pub const TITLE_MAX_CHARS: usize = 100;

/// The deadlines a release (or a reply) discharges; the first of them still open is the
/// one it answers.
pub(crate) const RELEASE_MEETS: [Kind; 3] = [Kind::Release, Kind::Response, Kind::Obligation];

/// The longest note (and press-conference note, and dismissal reason) in characters: a
/// record holds what was done, not documents; six notes of 650 KB once made the incident's
/// page too large to show (issue 26).
pub const NOTE_MAX_CHARS: usize = 10_000;

/// What every step of the incident module works with: where incidents are kept, the
/// configuration they are judged by, and the moment the step happens at. The transaction a
/// step writes in is passed beside it, since the step borrows it mutably.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub now: DateTime<Utc>,
}

/// An incident's title until a person sets one: its first item's title on one line, cut
/// to `TITLE_MAX_CHARS` with `…`; the topic's name when the item has no title.
pub fn default_title(item_title: &str, topic_name: &str) -> String {
    let title = crate::vocab::text::one_line(item_title, TITLE_MAX_CHARS - 1);
    if title.is_empty() {
        topic_name.to_string()
    } else {
        title
    }
}

/// The clock starts one poll moved back, by incident: the clock start before the poll's
/// first move and the 计时提前 mail queued for it. A page listed newest first moves an
/// incident's clock back item by item; the poll mails it once, from where it was to where
/// it ends (issue 26: one poll of 320 items once sent 71 such mails).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClockMoves(std::collections::HashMap<IncidentId, (i64, i64)>);

/// What a matched item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Opened(IncidentId),
    Joined(IncidentId),
}

/// An item that matched a topic, as `on_match` files it: the poll and the capture of its
/// page build it the same way (`Match::new`).
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub item: &'a ItemRow,
    pub topic_id: &'a str,
    pub topic_name: &'a str,
    /// The severity the topic matched at.
    pub severity: Severity,
    /// The words that made it match (`matched_words`): what an alert quotes as the reason.
    pub words: Vec<String>,
}

impl<'a> Match<'a> {
    /// `item` matched `topic` in `text`, the text the topic's evidence points into.
    pub fn new(item: &'a ItemRow, topic: &'a TopicMatch, text: &str) -> Match<'a> {
        Match {
            item,
            topic_id: &topic.id,
            topic_name: &topic.name,
            severity: topic.severity,
            words: matched_words(text, topic),
        }
    }
}

/// The words of `text` that made `m` match (its evidence, in characters), each once, in
/// the order found: what an alert quotes as the reason.
pub fn matched_words(text: &str, m: &TopicMatch) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words: Vec<String> = Vec::new();
    for ev in &m.evidence {
        let w: String = chars[ev.start.min(chars.len())..ev.end.min(chars.len())]
            .iter()
            .collect();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

/// When the statutory clock starts for an incident of `item`: at the earliest credible
/// moment, its publication, or when it was fetched.
fn clock_start_of(item: &ItemRow) -> DateTime<Utc> {
    deadline::clock_start(
        None,
        item.published_at.map(from_secs),
        from_secs(item.fetched_at),
    )
}

/// Writes a step yuqing took by itself into incident `id`'s record (留痕), at the step's
/// moment.
async fn record_own(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    kind: ActionKind,
    detail: &str,
) -> Result<()> {
    let at = secs(ctx.now);
    ctx.store
        .record_action(tx, id, at, OWN_ACTOR, kind, Some(detail))
        .await
}

/// Writes one step that concerns two incidents into the record (留痕) of each, with what
/// each needs to say, at the step's moment: an item that opened both, a merge, a split.
async fn record_both(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    by: &str,
    kind: ActionKind,
    both: [(IncidentId, String); 2],
) -> Result<()> {
    let at = secs(ctx.now);
    for (id, detail) in both {
        ctx.store
            .record_action(tx, id, at, by, kind, Some(&detail))
            .await?;
    }
    Ok(())
}

/// Opens an incident for `topic` with `item` as its first item, or joins the incident of
/// the same event (same topic, similar text: see `grouping`); raises the incident's
/// severity when the item matched at a higher one. An item about an incident under
/// monitoring or recently closed is a resurgence (回温): it is mailed, and a closed incident
/// is reopened.
pub async fn on_match(
    store: &Store,
    tx: &mut Tx,
    settings: &Settings,
    matched: &Match<'_>,
    now: DateTime<Utc>,
    moves: &mut ClockMoves,
) -> Result<Outcome> {
    let &Match {
        item,
        topic_id,
        topic_name,
        severity,
        ref words,
    } = matched;
    let config = &settings.config;
    let ctx = Ctx { store, config, now };
    if let Some(open) = lifecycle::same_event(ctx, tx, item, topic_id).await? {
        return join(ctx, tx, open, matched, moves).await;
    }

    // The same item may already have opened an incident under another topic (a cable-car
    // accident under 冰雪旅游安全 and under 景区安全): one report, two statutory clocks.
    // `[grouping] same_item = "merge"` makes it one incident at the higher severity; by
    // default each topic has its own, and both say so.
    let siblings = store
        .active_incidents_with_item(tx, item.id, topic_id)
        .await?;
    if let (SameItem::Merge, Some(first)) = (config.grouping.same_item, siblings.first()) {
        let merged = format!("item {} also matches {topic_name}; merged", item.id);
        record_own(ctx, tx, first.id, ActionKind::Linked, &merged).await?;
        if severity > first.severity {
            regrade(ctx, tx, first, severity, OWN_ACTOR).await?;
        }
        tracing::info!(
            incident_id = first.id.0,
            item_id = item.id,
            topic = topic_id,
            "item matched another topic too; kept in one incident ([grouping] same_item = merge)"
        );
        return Ok(Outcome::Joined(first.id));
    }

    // Incidents of the topic still being handled that this item's text did not match: a
    // follow-up worded differently (市大剧院后台起火后续…) may be the same event, and the
    // duty officer is shown them with the merge command rather than left with two clocks.
    let related = store.active_incidents_of_topic(tx, topic_id, 3).await?;
    let start = clock_start_of(item);
    let title = default_title(&item.title, topic_name);
    let new = NewIncident {
        topic_id,
        topic_name,
        title: &title,
        severity,
        opened_at: secs(now),
        clock_start: secs(start),
        first_item_id: item.id,
    };
    let obligations = Obligations::of_settings(settings);
    let id = lifecycle::open(ctx, tx, obligations, &new).await?;
    let first = format!("first item {}", item.id);
    record_own(ctx, tx, id, ActionKind::Opened, &first).await?;
    let also = |other: IncidentId, topic: &str| {
        format!("item {}: also opened #{other} ({topic})", item.id)
    };
    for sibling in &siblings {
        record_both(
            ctx,
            tx,
            OWN_ACTOR,
            ActionKind::Linked,
            [
                (id, also(sibling.id, &sibling.topic_name)),
                (sibling.id, also(id, topic_name)),
            ],
        )
        .await?;
    }
    let snap = Snapshot::read(ctx, tx, id).await?;
    // The opening mail quotes the words that matched.
    let view = IncidentView {
        evidence: words,
        ..snap.view()
    };
    let who = snap.audience(EStep::Opened);
    let related: Vec<mail::Related> = siblings
        .iter()
        .map(|r| (r, Some(r.topic_name.clone())))
        .chain(related.iter().map(|r| (r, None)))
        .map(|(r, same_item)| mail::Related {
            id: r.id.0,
            severity: r.severity,
            status: r.status,
            opened_at: from_secs(r.opened_at),
            link: config.notify.incident_link(r.id.0),
            same_item,
        })
        .collect();
    alert(store, tx, config, who, now, |to| {
        mail::opened(&view, to, &related)
    })
    .await?;
    tracing::info!(incident_id = id.0, topic = topic_id, severity = %severity, "incident opened");
    Ok(Outcome::Opened(id))
}

/// `item` joins `open`, the incident of the same event: kept with it and told to nobody
/// when it was dismissed as a false positive; otherwise a resurgence if it was monitored or
/// closed, its clock moved back if the item is older, and its severity raised by the item's
/// own or by the surge rule.
async fn join(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    open: IncidentRow,
    matched: &Match<'_>,
    moves: &mut ClockMoves,
) -> Result<Outcome> {
    let Ctx { store, config, now } = ctx;
    let &Match { item, severity, .. } = matched;
    if open.status == IncidentStatus::Dismissed {
        // More of what a person judged a false positive: kept with it, told to nobody.
        store
            .add_incident_item(tx, open.id, item.id, secs(now))
            .await?;
        tracing::info!(
            incident_id = open.id.0,
            item_id = item.id,
            "item joined an incident dismissed as a false positive; nobody is told"
        );
        return Ok(Outcome::Joined(open.id));
    }
    let open = lifecycle::resurge(ctx, tx, open, item).await?;
    let open = move_clock_back(ctx, tx, open, item, moves).await?;
    store
        .add_incident_item(tx, open.id, item.id, secs(now))
        .await?;
    let current = open.severity;
    if severity > current {
        regrade(ctx, tx, &open, severity, OWN_ACTOR).await?;
    } else if let Some(surge) = config
        .surge
        .filter(|s| s.applies(current, open.surged_at.is_some()))
    {
        // Counted only until the rule has fired, which it does once: so the joins into
        // an event that keeps growing read no more than the first ones did.
        let (items, sources) = store
            .recent_spread(tx, open.id, surge.since(secs(now)), surge.negative_only)
            .await?;
        if let Some(by) = surge.raised_by(items, sources) {
            if store.mark_surged(tx, open.id, secs(now)).await? {
                regrade(ctx, tx, &open, current.raised(), &by).await?;
            }
        }
    }
    tracing::info!(
        incident_id = open.id.0,
        item_id = item.id,
        "item joined incident"
    );
    Ok(Outcome::Joined(open.id))
}

/// The statutory clock runs from the earliest credible moment: when `item`, which joined
/// `incident`, was published before the incident's clock start, moves the clock start
/// back to it. Its deadlines are counted again from there (met ones move too, so that met
/// or missed is judged against the clock as it now stands), and the people told of a
/// regrade are told, with what is now overdue. Returns the incident as it is.
async fn move_clock_back(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    incident: IncidentRow,
    item: &ItemRow,
    moves: &mut ClockMoves,
) -> Result<IncidentRow> {
    let Ctx { store, config, now } = ctx;
    let start = clock_start_of(item);
    if secs(start) >= incident.clock_start {
        return Ok(incident);
    }
    let was = from_secs(incident.clock_start);
    // Moved already in this poll: the mail says where it was before the poll.
    let earlier = moves.0.get(&incident.id).copied();
    let mailed_was = earlier.map_or(was, |(before, _)| from_secs(before));
    lifecycle::restart_clock(ctx, tx, incident.id, incident.severity, start).await?;
    let tz = config.daemon.timezone;
    let moved = format!(
        "{} -> {} (item {}, published earlier)",
        crate::vocab::clock::local(was, tz),
        crate::vocab::clock::local(start, tz),
        item.id
    );
    record_own(ctx, tx, incident.id, ActionKind::ClockStart, &moved).await?;
    let snap = Snapshot::read(ctx, tx, incident.id).await?;
    let who = snap.audience(EStep::Regraded);
    let source = source_name(config, &item.source_id);
    let mut draft = mail::clock_moved(&snap.view(), mailed_was, item, &source, &who.mailboxes);
    draft.notify = who.notifiers;
    // One mail per incident per poll: the one queued by this poll's earlier move says the
    // latest start instead, unless it went out meanwhile.
    let replaced = match earlier {
        Some((_, queued)) => store.replace_unsent(tx, queued, &draft).await?,
        None => false,
    };
    if !replaced {
        let queued = queue(store, tx, config, &draft, now).await?;
        moves.0.insert(incident.id, (secs(mailed_was), queued));
    }
    tracing::info!(
        incident_id = incident.id.0,
        item_id = item.id,
        from = %was,
        to = %start,
        "clock start moved back to an earlier item"
    );
    Ok(snap.incident)
}

/// Changes an incident's severity; deadlines follow from the same clock start, so an
/// incident raised to 重大 late may be overdue at once (the next breach pass mails it).
pub(crate) async fn regrade(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    incident: &IncidentRow,
    to: Severity,
    by: &str,
) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let from = incident.severity;
    store.set_severity(tx, incident.id, to).await?;
    let start = from_secs(incident.clock_start);
    let owed = deadline::schedule(to, start, &config.deadlines);
    for kind in [Kind::Release, Kind::PressConference, Kind::Response] {
        if !owed.iter().any(|(k, _)| *k == kind) {
            store
                .cancel_deadline(tx, incident.id, kind, secs(now))
                .await?;
        }
    }
    for (kind, due) in owed {
        store
            .insert_deadline(tx, incident.id, kind, secs(due))
            .await?;
    }
    store
        .record_action(
            tx,
            incident.id,
            secs(now),
            by,
            ActionKind::Severity,
            Some(&format!("{} -> {}", from.as_str(), to.as_str())),
        )
        .await?;
    let snap = Snapshot::read(ctx, tx, incident.id).await?;
    let who = config.escalation.regraded(&config.people, from, to);
    lifecycle::settle(ctx, tx, incident.id, by).await?;
    alert(store, tx, config, who, now, |people| {
        mail::regraded(&snap.view(), from, to, by, people)
    })
    .await?;
    tracing::info!(incident_id = incident.id.0, from = %from, to = %to, "incident regraded");
    Ok(())
}

/// An incident as its mail shows it, read in `tx` at the step's moment: its row, its items
/// (oldest first), its deadlines and the name of its first item's source. Every mail about
/// an incident is worded from `view`, and sent to `audience` of its step. An item this
/// version cannot read (a value written by a newer version) is counted and logged, not
/// shown: it holds back no reminder or escalation of the incident.
pub(crate) struct Snapshot<'c> {
    incident: IncidentRow,
    items: Vec<ItemRow>,
    /// How many of its items could not be read.
    unread: usize,
    deadlines: Vec<DeadlineRow>,
    source_name: String,
    ctx: Ctx<'c>,
}

impl<'c> Snapshot<'c> {
    pub(crate) async fn read(ctx: Ctx<'c>, tx: &mut Tx, id: IncidentId) -> Result<Snapshot<'c>> {
        let store = ctx.store;
        let incident = store
            .incident(&mut **tx, id)
            .await?
            .with_context(|| format!("incident {id} vanished"))?;
        let (items, unread) = store.readable_items_of(&mut **tx, id, 0).await?;
        for (item, why) in &unread {
            tracing::error!(incident_id = id.0, item_id = item, error = %why, "an item this version cannot read is counted, not shown, in the incident's mail");
        }
        if items.is_empty() {
            match unread.first() {
                Some((item, why)) => {
                    bail!("incident {id}: no item can be read (item {item}: {why})")
                }
                None => bail!("incident {id} has no items"),
            }
        }
        let deadlines = store.deadlines_of(&mut **tx, id).await?;
        let mut snap = Snapshot {
            incident,
            items,
            unread: unread.len(),
            deadlines,
            source_name: String::new(),
            ctx,
        };
        snap.source_name = source_name(ctx.config, &snap.first().source_id);
        Ok(snap)
    }

    /// What a mail about the incident says of it.
    pub(crate) fn view(&self) -> IncidentView<'_> {
        let config = self.ctx.config;
        IncidentView {
            incident: &self.incident,
            first: self.first(),
            source_name: &self.source_name,
            items: self.items.len() + self.unread,
            deadlines: &self.deadlines,
            evidence: &[],
            owners: &config.people.duty,
            people: &config.people,
            tz: config.daemon.timezone,
            now: self.ctx.now,
        }
    }

    /// Who is told of `step` on the incident, at its severity.
    pub(crate) fn audience(&self, step: EStep) -> Audience {
        let config = self.ctx.config;
        config
            .escalation
            .audience(&config.people, self.severity(), step)
    }

    /// The people told of an escalation of the incident (a missed deadline, or nobody
    /// acknowledging it), with their instant-message notifiers: they must also hear how it
    /// ends, handled, closed or dismissed. Empty when there was no escalation.
    pub(crate) async fn escalated_audience(&self, tx: &mut Tx) -> Result<Audience> {
        let mut who = Audience::default();
        if self.ctx.store.was_escalated(tx, self.incident.id).await? {
            for step in [EStep::Breach, EStep::Unacknowledged] {
                who.add(self.audience(step));
            }
        }
        Ok(who)
    }

    pub(crate) fn severity(&self) -> Severity {
        self.incident.severity
    }

    pub(crate) fn first(&self) -> &ItemRow {
        self.items
            .iter()
            .find(|i| i.id == self.incident.first_item_id)
            .unwrap_or(&self.items[0])
    }
}

/// Mails leaders about every deadline that passed unmet, once each; returns how many.
///
/// Like every step of the loop, it reads before it takes the write lock: on SQLite a
/// write transaction holds the database's one write lock, and an idle daemon that took it
/// every turn would keep a command or the console waiting, and write every turn.
pub async fn fire_breaches(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize> {
    let repeat_before = secs(now) - config.deadlines.repeat_escalation.as_secs() as i64;
    let pending = store.breached_deadlines(store.pool(), secs(now), repeat_before);
    if pending.await?.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let due = store
        .breached_deadlines(&mut *tx, secs(now), repeat_before)
        .await?;
    let about = |d: &DeadlineRow| (d.incident_id, format!("{} deadline", d.kind));
    let ctx = Ctx { store, config, now };
    one_by_one(store, tx, due, about, |mut tx, d| async move {
        let done = breach(ctx, &mut tx, &d).await;
        (tx, done.map(|()| true))
    })
    .await
}

/// Mails the escalation of one missed deadline and records it.
async fn breach(ctx: Ctx<'_>, tx: &mut Tx, d: &DeadlineRow) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    let snap = Snapshot::read(ctx, tx, d.incident_id).await?;
    let again = d.breach_mailed_at.is_some();
    let step = if again {
        EStep::RepeatBreach
    } else {
        EStep::Breach
    };
    alert(store, tx, config, snap.audience(step), now, |to| {
        mail::breached(&snap.view(), d, again, to)
    })
    .await?;
    store.mark_breach_mailed(tx, d.id, secs(now)).await?;
    let kind = d.kind.as_str();
    record_own(ctx, tx, d.incident_id, ActionKind::Escalated, kind).await?;
    tracing::warn!(incident_id = d.incident_id.0, deadline = %d.kind, "deadline missed; leaders mailed");
    Ok(())
}

/// Does a timed step one incident (or deadline) at a time: `step` on each of `rows` (read
/// in `tx`), each in a savepoint of `tx`, which is then committed. An incident that cannot
/// be read or mailed is taken back and named, by what `about` says of its row (the
/// incident, and `release deadline`, `new items` …), and the others' mail still goes out
/// (one bad row must not silence every escalation). Returns how many rows `step` counted,
/// or the first such error, for the log and /healthz. `step` is lent the transaction and
/// hands it back with its outcome (a borrowed one would tie its future to every lifetime).
async fn one_by_one<T, Fut>(
    store: &Store,
    mut tx: Tx,
    rows: Vec<T>,
    about: impl Fn(&T) -> (IncidentId, String),
    mut step: impl FnMut(Tx, T) -> Fut,
) -> Result<usize>
where
    Fut: std::future::Future<Output = (Tx, Result<bool>)>,
{
    let mut counted = 0;
    let mut failed = None;
    for row in rows {
        store.begin_one(&mut tx).await?;
        let (id, what) = about(&row);
        let done;
        (tx, done) = step(tx, row).await;
        match done {
            Ok(counts) => {
                store.keep_one(&mut tx).await?;
                counted += usize::from(counts);
            }
            Err(e) => {
                store.undo_one(&mut tx).await?;
                let e = e.context(format!("incident #{id} ({what})"));
                tracing::debug!(error = %format!("{e:#}"), "skipped; the other incidents go on");
                failed.get_or_insert(e);
            }
        }
    }
    tx.commit().await?;
    failed.map_or(Ok(counted), Err)
}

/// Reminds the duty officer before each deadline, at the configured offsets; returns how
/// many reminders were queued. After a pause (a restart), only the latest reminder that is
/// due goes out, not a burst of all the ones missed.
pub async fn fire_reminders(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize> {
    let d = &config.deadlines;
    let offsets = |kind: Kind| -> Vec<i64> {
        d.reminders(kind)
            .iter()
            .map(|s| s.as_secs() as i64)
            .collect()
    };
    let horizon = [
        &d.release_reminders,
        &d.press_conference_reminders,
        &d.response_reminders,
    ]
    .into_iter()
    .flatten()
    .map(|s| s.as_secs() as i64)
    .max()
    .unwrap_or(0);
    if horizon == 0 {
        return Ok(0);
    }
    // The closest-to-due offset already reached and not yet reminded. Offsets reached
    // before the incident opened are skipped: the opening mail told the time left.
    let offset_due = |dl: &DeadlineRow, opened_at: i64| {
        offsets(dl.kind)
            .into_iter()
            .filter(|o| *o >= dl.due_at - secs(now) && dl.due_at - o > opened_at)
            .filter(|o| dl.reminded_before.is_none_or(|r| *o < r))
            .min()
    };
    // Read first (see `fire_breaches`): a deadline is upcoming for hours, a reminder due
    // for one turn.
    let mut pending = false;
    let (from, until) = (secs(now), secs(now) + horizon);
    for dl in store.upcoming_deadlines(store.pool(), from, until).await? {
        // An incident that cannot be read is left to the loop below, which names it and
        // goes on with the others.
        let due = match store.incident(store.pool(), dl.incident_id).await {
            Ok(incident) => incident.is_some_and(|i| offset_due(&dl, i.opened_at).is_some()),
            Err(_) => true,
        };
        if due {
            pending = true;
            break;
        }
    }
    if !pending {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let upcoming = store.upcoming_deadlines(&mut *tx, from, until).await?;
    let about = |dl: &DeadlineRow| (dl.incident_id, format!("{} deadline", dl.kind));
    let offset_due = &offset_due;
    let ctx = Ctx { store, config, now };
    one_by_one(store, tx, upcoming, about, |mut tx, dl| async move {
        let done = async {
            let snap = Snapshot::read(ctx, &mut tx, dl.incident_id).await?;
            let left = dl.due_at - secs(now);
            let Some(offset) = offset_due(&dl, snap.incident.opened_at) else {
                return Ok(false);
            };
            let who = snap.audience(EStep::Reminder);
            alert(store, &mut tx, config, who, now, |to| {
                mail::reminder(&snap.view(), &dl, to)
            })
            .await?;
            store.mark_reminded(&mut tx, dl.id, offset).await?;
            tracing::info!(incident_id = dl.incident_id.0, deadline = %dl.kind, left_s = left, "deadline reminder queued");
            Ok(true)
        }
        .await;
        (tx, done)
    })
    .await
}

/// Mails the leaders about incidents nobody acknowledged within `unacknowledged_after`,
/// once each; returns how many.
pub async fn fire_unacknowledged(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<usize> {
    let policy = |severity: Severity| config.escalation.policy(severity).unacknowledged_after;
    let after = |s| policy(s).as_secs() as i64;
    let due =
        |i: &IncidentRow| i.reopened_at.unwrap_or(i.opened_at) + after(i.severity) <= secs(now);
    // Opened long enough ago for the shortest policy; each then by its own.
    let since = secs(now) - Severity::ALL.into_iter().map(after).min().unwrap_or(0);
    // Read first (see `fire_breaches`). An incident that cannot be read is left to the
    // loop below, which names it and goes on with the others.
    let mut pending = false;
    for id in store.unacknowledged(store.pool(), since).await? {
        let read = store.incident(store.pool(), id).await;
        if read.map_or(true, |i| i.is_some_and(|i| due(&i))) {
            pending = true;
            break;
        }
    }
    if !pending {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let ids = store.unacknowledged(&mut *tx, since).await?;
    let about = |id: &IncidentId| (*id, "unacknowledged".to_string());
    let due = &due;
    let ctx = Ctx { store, config, now };
    one_by_one(store, tx, ids, about, |mut tx, id| async move {
        let done = unacknowledged(ctx, &mut tx, id, due).await;
        (tx, done)
    })
    .await
}

/// Tells the leaders that nobody acknowledged incident `id`, when it is `due`; false when
/// it is not. Marked told with its mail, so that none is marked unmailed or mailed twice.
async fn unacknowledged(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    due: &(dyn Fn(&IncidentRow) -> bool + Sync),
) -> Result<bool> {
    let Ctx { store, config, now } = ctx;
    let incident = store.incident(&mut **tx, id).await?;
    if !incident.is_some_and(|i| due(&i))
        || !store.mark_unacknowledged_mailed(tx, id, secs(now)).await?
    {
        return Ok(false);
    }
    let snap = Snapshot::read(ctx, tx, id).await?;
    let policy = config.escalation.policy(snap.severity());
    let after = crate::vocab::span::zh_span(policy.unacknowledged_after.chrono());
    let who = snap.audience(EStep::Unacknowledged);
    alert(store, tx, config, who, now, |to| {
        mail::unacknowledged(&snap.view(), &after, to)
    })
    .await?;
    record_own(ctx, tx, id, ActionKind::Escalated, "unacknowledged").await?;
    tracing::warn!(
        incident_id = id.0,
        "not acknowledged in time; leaders mailed"
    );
    Ok(true)
}

/// Mails the duty officer the items that joined each open incident, at most once per
/// incident per `[mail] new_items_every`; returns how many mails were queued.
pub async fn fire_new_items(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize> {
    let mailed_before = secs(now) - config.mail.new_items_every.as_secs() as i64;
    // Read first (see `fire_breaches`).
    let pending = store.with_new_items(store.pool(), mailed_before);
    if pending.await?.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let rows = store.with_new_items(&mut *tx, mailed_before).await?;
    let about = |&(id, _): &(IncidentId, i64)| (id, "new items".to_string());
    let ctx = Ctx { store, config, now };
    one_by_one(store, tx, rows, about, |mut tx, (id, upto)| async move {
        let done = new_items(ctx, &mut tx, id, upto).await;
        (tx, done.map(|()| true))
    })
    .await
}

/// Mails the duty officer the items that joined incident `id` after item `upto`, and marks
/// them mailed with it.
async fn new_items(ctx: Ctx<'_>, tx: &mut Tx, id: IncidentId, upto: i64) -> Result<()> {
    let Ctx { store, config, now } = ctx;
    // One this version cannot read is counted and logged (by the snapshot), not shown.
    let (items, unread) = store.readable_items_of(&mut **tx, id, upto).await?;
    let snap = Snapshot::read(ctx, tx, id).await?;
    let names = |s: &str| source_name(config, s);
    let to = config
        .escalation
        .mailboxes(&config.people, snap.severity(), EStep::NewItems);
    let draft = mail::new_items(&snap.view(), &items, unread.len(), &names, &to);
    queue(store, tx, config, &draft, now).await?;
    let read = items.iter().map(|i| i.id);
    let upto = read.chain(unread.iter().map(|u| u.0)).max().unwrap_or(upto);
    store.mark_items_mailed(tx, id, upto, secs(now)).await
}

pub(crate) fn source_name(config: &Config, id: &str) -> String {
    config
        .polled()
        .find(|p| p.id == id)
        .map_or(id, |p| p.name)
        .to_string()
}

/// The duty officer's actions on an incident, each recorded with who and when.
#[derive(Debug, Clone)]
pub enum Step {
    Acknowledge,
    /// A false positive (误报): the incident ends, its deadlines are cancelled and never
    /// counted as unmet; the reason is kept in the record.
    Dismiss {
        reason: String,
    },
    /// The authoritative release (or, below 重大, the response), with its URL and, when
    /// known, the time it was published (a detected post's own time; else now).
    Release {
        url: String,
        at: Option<DateTime<Utc>>,
    },
    PressConference {
        note: Option<String>,
    },
    Severity(Severity),
    /// Renames the incident (at most `TITLE_MAX_CHARS` characters, on one line).
    Title(String),
    Note(String),
    Close,
}

/// Why a duty officer's step did not happen, by cause: the command line (exit 2 or 1)
/// and the console (4xx or 500) answer by variant, never by guessing from the error's
/// type.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The person's mistake, or a step the incident's state refuses: no such incident or
    /// item, a closed or merged incident, a merge into itself, nothing left to record.
    #[error("{0}")]
    Refused(String),
    /// Something underneath failed (the database, the mail queue); the step can be tried
    /// again as it was.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        StepError::Failed(e.into())
    }
}

/// Returns `StepError::Refused` with a formatted reason.
macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err($crate::incident::StepError::Refused(format!($($arg)*)))
    };
}
pub(crate) use refuse;

/// Refuses `step` on `incident` in its state, or a text the step carries that is empty or
/// too long; otherwise returns the new title on one line (empty for other steps).
fn admissible(incident: &IncidentRow, step: &Step) -> Result<String, StepError> {
    let id = incident.id;
    if incident.status == IncidentStatus::Merged && !matches!(step, Step::Note(_)) {
        refuse!(
            "事件 #{id} 已并入 #{}，请在该事件上操作",
            incident.merged_into.unwrap_or(IncidentId(0))
        );
    }
    // An ended incident can still be annotated, and renamed: the report names it.
    let any_state = matches!(step, Step::Note(_) | Step::Title(_));
    if incident.status == IncidentStatus::Closed && !any_state {
        refuse!("事件 #{id} 已结案");
    }
    if incident.status == IncidentStatus::Dismissed && !any_state {
        refuse!("事件 #{id} 已判定为误报并撤销");
    }
    if let Step::Dismiss { reason } = step {
        if reason.trim().is_empty() {
            refuse!("请说明事件 #{id} 为何是误报：--reason 理由");
        }
    }
    let written = match step {
        Step::Note(text) => Some(("备注", text.as_str())),
        Step::Dismiss { reason } => Some(("误报原因", reason.as_str())),
        Step::PressConference { note: Some(note) } => Some(("发布会说明", note.as_str())),
        _ => None,
    };
    if let Some((what, text)) = written {
        let n = text.chars().count();
        if n > NOTE_MAX_CHARS {
            refuse!(
                "{what}过长：{n} 个字，最多 {NOTE_MAX_CHARS} 个字。请分成几条，或把长文放在别处并附上链接"
            );
        }
    }
    let title = match step {
        Step::Title(text) => {
            let title = crate::vocab::text::one_line(text, usize::MAX);
            let n = title.chars().count();
            if n == 0 {
                refuse!("标题不能为空");
            }
            if n > TITLE_MAX_CHARS {
                refuse!("标题过长：{n} 个字，最多 {TITLE_MAX_CHARS} 个字");
            }
            title
        }
        _ => String::new(),
    };
    Ok(title)
}

/// Applies a duty officer's step; returns a sentence for the terminal.
pub async fn act(
    store: &Store,
    config: &Config,
    id: IncidentId,
    step: &Step,
    by: &str,
    now: DateTime<Utc>,
) -> Result<String, StepError> {
    let mut tx = store.begin().await?;
    let said = act_in(Ctx { store, config, now }, &mut tx, id, step, by).await?;
    tx.commit().await?;
    Ok(said)
}

/// [`act`] inside the caller's transaction.
pub(crate) async fn act_in(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    id: IncidentId,
    step: &Step,
    by: &str,
) -> Result<String, StepError> {
    let Ctx { store, config, now } = ctx;
    let Some(incident) = store.incident(&mut **tx, id).await? else {
        refuse!("没有事件 #{id}（`yuqing incidents --all` 列出全部事件）");
    };
    let title = admissible(&incident, step)?;
    let t = secs(now);
    // Any step a person takes on the incident shows they have it in hand: it acknowledges
    // the incident if nobody did yet, so mail stops saying 尚无人确认接报 and the leaders
    // are not told it went unacknowledged. A note does not (a leader's comment changes no
    // state), nor do yuqing's own steps (a release confirmed from an own channel).
    if !matches!(step, Step::Acknowledge | Step::Note(_))
        && !is_own_actor(by)
        && store.acknowledge(tx, id, t, by).await?
    {
        store
            .record_action(tx, id, t, by, ActionKind::Acknowledged, Some("by acting"))
            .await?;
    }
    let said = match step {
        Step::Acknowledge => {
            if store.acknowledge(tx, id, t, by).await? {
                store
                    .record_action(tx, id, t, by, ActionKind::Acknowledged, None)
                    .await?;
                // A reopened incident owes nothing new: acknowledged, it is monitored again.
                lifecycle::settle(ctx, tx, id, by).await?;
                format!("事件 #{id} 已由 {by} 确认接报")
            } else {
                format!("事件 #{id} 此前已确认接报")
            }
        }
        Step::Release { url, at } => {
            // Met when it was published: a detected post confirmed later met its deadline
            // at the post's time, not at the confirmation's.
            let met = match at {
                Some(at) if *at > now => refuse!("发布时间 {at} 晚于当前时间"),
                Some(at) => secs(*at),
                None => t,
            };
            let mut kind = None;
            for k in RELEASE_MEETS {
                if store.meet_deadline(tx, id, k, met, by, Some(url)).await? {
                    kind = Some(k);
                    break;
                }
            }
            let Some(kind) = kind else {
                refuse!("事件 #{id} 没有待完成的发布或回应时限可记录");
            };
            // A reply that answers the public also discharges a working-day duty to reply.
            let also = if kind != Kind::Obligation
                && store
                    .meet_deadline(tx, id, Kind::Obligation, met, by, Some(url))
                    .await?
            {
                "，并履行时限义务"
            } else {
                ""
            };
            let detail = match at {
                Some(at) => format!(
                    "{url} (published {})",
                    crate::vocab::clock::local(*at, config.daemon.timezone)
                ),
                None => url.clone(),
            };
            store
                .record_action(tx, id, t, by, kind.into(), Some(&detail))
                .await?;
            store.settle_release_candidates(tx, id, Some(url)).await?;
            handled(ctx, tx, &incident, kind, by).await?;
            format!(
                "事件 #{id}：已记录{}{also}（{url}），相关提醒停止",
                kind.zh()
            )
        }
        Step::PressConference { note } => {
            if !store
                .meet_deadline(tx, id, Kind::PressConference, t, by, note.as_deref())
                .await?
            {
                refuse!("事件 #{id} 没有待完成的新闻发布会时限可记录");
            }
            store
                .record_action(tx, id, t, by, ActionKind::PressConference, note.as_deref())
                .await?;
            handled(ctx, tx, &incident, Kind::PressConference, by).await?;
            format!("事件 #{id}：已记录召开新闻发布会")
        }
        Step::Severity(to) => {
            regrade(ctx, tx, &incident, *to, by).await?;
            format!("事件 #{id}：级别调整为{}", to.zh())
        }
        Step::Title(_) => {
            if store.set_title(tx, id, &title).await? {
                store
                    .record_action(tx, id, t, by, ActionKind::Title, Some(&title))
                    .await?;
                format!("事件 #{id} 标题改为：{title}")
            } else {
                format!("事件 #{id} 的标题已是：{title}")
            }
        }
        Step::Note(text) => {
            store
                .record_action(tx, id, t, by, ActionKind::Note, Some(text))
                .await?;
            format!("事件 #{id}：已记录备注")
        }
        Step::Close => {
            lifecycle::close(ctx, tx, id, by).await?;
            format!("事件 #{id} 已结案")
        }
        Step::Dismiss { reason } => {
            lifecycle::dismiss(ctx, tx, id, reason.trim(), by).await?;
            format!("事件 #{id} 已判定为误报并撤销：各项时限取消，不计入考核")
        }
    };
    Ok(said)
}

/// After a deadline of `kind` was met, by a release (or a response) or a press conference:
/// the incident moves on to released or press_conference if it had not got that far, is
/// monitored once it owes nothing more, and whoever heard of its escalation is told.
async fn handled(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    incident: &IncidentRow,
    kind: Kind,
    by: &str,
) -> Result<()> {
    let to = match kind {
        Kind::PressConference => IncidentStatus::PressConference,
        _ => IncidentStatus::Released,
    };
    let id = incident.id;
    // Not yet this far: `ALL` is in the order an incident passes its statuses.
    if IncidentStatus::ALL
        .iter()
        .take_while(|s| **s != to)
        .any(|s| *s == incident.status)
    {
        ctx.store
            .set_status(tx, id, to, secs(ctx.now), by, to.as_str())
            .await?;
    }
    lifecycle::settle(ctx, tx, id, by).await?;
    lifecycle::tell_handled(ctx, tx, id, kind.zh(), by).await
}

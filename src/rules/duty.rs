//! The publication duties of the agency's own channels, as plain arithmetic.
//!
//! The regulations bind the agency's own channels (domain.md, "Publication duties"): a
//! 政务新媒体 account posts at least once a calendar week (seed 004 三(二); nationally an
//! account silent for more than two weeks fails inspection, so `every = "14d"` exists too),
//! and a website special column must not go more than 45 working days without an update
//! (seed 000 六(三)). [`status`] is a pure function of the duty, the channel's post times,
//! whether the channel could be read, the working-day calendar, the time zone and the time
//! asked about, so `yuqing obligations --at` and the daemon's mail agree by construction.
//!
//! Conventions:
//! - A post counts at its published time (the time the feed or page gives), else at the
//!   time it was first seen. A post at Sunday 23:59 counts for that week.
//! - `weekly`: a calendar week runs Monday 00:00 to the next Monday 00:00 in the configured
//!   zone. A week without enough posts is at risk from the `at_risk` weekday (default
//!   Thursday) 00:00, and missed at the next Monday 00:00. The channel then stays `missed`
//!   until the current week has its posts again (back in compliance).
//! - `every = "14d"`: due that long after the last post; at risk `at_risk` (a duration,
//!   default 3 days but at most half the period) before.
//! - `working_days = 45`: due at the end of the 45th working day after the day of the last
//!   post (the day of the post itself does not count, as in `calendar`); missed from the
//!   next day. At risk from the day after the (45 − `at_risk`)-th working day (default 5).
//! - A channel that cannot be read (its last poll failed, or it was never read) is
//!   `unknown`, never compliant; the other fields still show what is known.

use crate::rules::calendar::Calendar;
use crate::vocab::clock::midnight;
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use std::path::Path;
use toml::Spanned;

/// A channel's publication duty, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duty {
    /// At least `posts` posts per calendar week (Monday–Sunday); at risk from `at_risk`.
    Weekly { posts: u32, at_risk: Weekday },
    /// A post at least every `every`; at risk `at_risk` before that.
    Every { every: Span, at_risk: Span },
    /// A post within `days` working days of the last; at risk `at_risk` working days before.
    WorkingDays { days: u32, at_risk: u32 },
}

impl Duty {
    /// The duty in the words mail uses.
    pub fn zh(&self) -> String {
        match self {
            Duty::Weekly { posts, .. } => format!("每周（周一至周日）至少发布 {posts} 条"),
            Duty::Every { every, .. } => {
                format!(
                    "每 {} 至少发布 1 条",
                    crate::vocab::span::zh_span(every.chrono())
                )
            }
            Duty::WorkingDays { days, .. } => format!("超过 {days} 个工作日未更新即违规"),
        }
    }

    /// The duty as config writes it, for `yuqing obligations`.
    pub fn describe(&self) -> String {
        match self {
            Duty::Weekly { posts, at_risk } => {
                format!("weekly, {posts} post(s), at risk from {at_risk}")
            }
            Duty::Every { every, at_risk } => format!("every {every}, at risk {at_risk} before"),
            Duty::WorkingDays { days, at_risk } => {
                format!("{days} working days, at risk {at_risk} working days before")
            }
        }
    }
}

/// The duty keys of one `[[channel]]` as written.
pub struct RawDuty {
    pub duty: Option<Spanned<String>>,
    pub posts: Option<Spanned<u32>>,
    pub at_risk: Option<Spanned<toml::Value>>,
    pub every: Option<Spanned<String>>,
    pub working_days: Option<Spanned<u32>>,
}

/// A config mistake, already pushed to the diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported;

/// Checks the duty keys of channel `id`: exactly one of `duty = "weekly"`, `every = "14d"`
/// or `working_days = 45` (or none: the channel is only read). `Err` after reporting.
pub fn check_duty(
    id: &str,
    id_span: &Spanned<String>,
    raw: RawDuty,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Result<Option<Duty>, Reported> {
    let mut fail = |pos: usize, msg: String| {
        errs.push(Diagnostic::at(
            path,
            source,
            pos,
            format!("channel `{id}`: {msg}"),
        ));
        Err(Reported)
    };
    let duty_word = raw
        .duty
        .as_ref()
        .map(|d| (d.get_ref().trim(), d.span().start));
    let given = [
        raw.duty.is_some() && !matches!(duty_word, Some(("every" | "working_days", _))),
        raw.every.is_some(),
        raw.working_days.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given > 1 {
        return fail(
            id_span.span().start,
            "give one duty: `duty = \"weekly\"`, `every = \"14d\"` or `working_days = 45`".into(),
        );
    }
    if let Some((word, pos)) = duty_word {
        if !matches!(word, "weekly" | "every" | "working_days" | "none") {
            return fail(
                pos,
                format!(
                    "unknown duty `{word}`: write `duty = \"weekly\"`, `every = \"14d\"` or `working_days = 45`"
                ),
            );
        }
    }
    let not_weekly = |raw: &RawDuty| raw.posts.as_ref().map(|p| p.span().start);
    if let Some(e) = &raw.every {
        if let Some(pos) = not_weekly(&raw) {
            return fail(pos, "`posts` goes with `duty = \"weekly\"` only".into());
        }
        let every: Span = match e.get_ref().parse() {
            Ok(s) => s,
            Err(err) => return fail(e.span().start, format!("{err}")),
        };
        if every.as_secs() < 3600 {
            return fail(e.span().start, "`every` must be at least 1h".into());
        }
        let default = Span::from_secs((3 * 86400).min(every.as_secs() / 2));
        let at_risk = match &raw.at_risk {
            None => default,
            Some(v) => match v.get_ref().as_str().map(str::parse::<Span>) {
                Some(Ok(s)) if s.as_secs() < every.as_secs() => s,
                _ => {
                    return fail(
                        v.span().start,
                        format!("`at_risk` for `every = \"{every}\"` is a duration before the due time, shorter than the period, e.g. \"3d\""),
                    )
                }
            },
        };
        return Ok(Some(Duty::Every { every, at_risk }));
    }
    if let Some(w) = &raw.working_days {
        if let Some(pos) = not_weekly(&raw) {
            return fail(pos, "`posts` goes with `duty = \"weekly\"` only".into());
        }
        let days = *w.get_ref();
        if days == 0 {
            return fail(w.span().start, "`working_days` must be at least 1".into());
        }
        let at_risk = match &raw.at_risk {
            None => 5.min(days - 1),
            Some(v) => match v.get_ref().as_integer() {
                Some(n) if n >= 0 && (n as u64) < u64::from(days) => n as u32,
                _ => {
                    return fail(
                        v.span().start,
                        format!("`at_risk` for `working_days = {days}` is a number of working days before the due day, 0 to {}", days - 1),
                    )
                }
            },
        };
        return Ok(Some(Duty::WorkingDays { days, at_risk }));
    }
    match duty_word {
        Some(("weekly", _)) => {
            let posts = match &raw.posts {
                None => 1,
                Some(p) if *p.get_ref() >= 1 => *p.get_ref(),
                Some(p) => return fail(p.span().start, "`posts` must be at least 1".into()),
            };
            let at_risk = match &raw.at_risk {
                None => Weekday::Thu,
                Some(v) => match v.get_ref().as_str().and_then(weekday) {
                    Some(d) => d,
                    None => {
                        return fail(
                            v.span().start,
                            "`at_risk` for a weekly duty is a weekday such as \"thursday\"".into(),
                        )
                    }
                },
            };
            Ok(Some(Duty::Weekly { posts, at_risk }))
        }
        Some(("every", pos)) => fail(pos, "write the period itself: `every = \"14d\"`".into()),
        Some(("working_days", pos)) => {
            fail(pos, "write the number itself: `working_days = 45`".into())
        }
        _ => {
            if let Some(pos) = raw
                .posts
                .as_ref()
                .map(|p| p.span().start)
                .or(raw.at_risk.as_ref().map(|p| p.span().start))
            {
                return fail(
                    pos,
                    "`posts` and `at_risk` need a duty (`duty = \"weekly\"`, `every` or `working_days`)".into(),
                );
            }
            Ok(None)
        }
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    match s.trim().to_ascii_lowercase().as_str() {
        "monday" | "mon" => Some(Weekday::Mon),
        "tuesday" | "tue" => Some(Weekday::Tue),
        "wednesday" | "wed" => Some(Weekday::Wed),
        "thursday" | "thu" => Some(Weekday::Thu),
        "friday" | "fri" => Some(Weekday::Fri),
        "saturday" | "sat" => Some(Weekday::Sat),
        "sunday" | "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

/// The state of a duty at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Ok,
    AtRisk,
    Missed,
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::AtRisk => "at_risk",
            State::Missed => "missed",
            State::Unknown => "unknown",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            State::Ok => "正常",
            State::AtRisk => "有违规风险",
            State::Missed => "已违规",
            State::Unknown => "无法判断（栏目无法读取）",
        }
    }
}

/// A period whose duty was not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missed {
    /// Stable name of the period, so it is mailed once: the week's Monday (`2026-11-16`)
    /// or the due time in seconds.
    pub key: String,
    pub from: DateTime<Utc>,
    /// When it became missed.
    pub due: DateTime<Utc>,
}

/// Everything known about one duty at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub state: State,
    pub last_post: Option<DateTime<Utc>>,
    /// Posts in the current period (this week; the last `every`; the last N working days).
    pub posts_this_period: u32,
    pub period_start: Option<DateTime<Utc>>,
    /// When the current period's duty falls due (missed from then on without a post).
    pub due: Option<DateTime<Utc>>,
    pub at_risk_from: Option<DateTime<Utc>>,
    /// The period that was missed, while the state is `missed`.
    pub missed: Option<Missed>,
    /// Key of the current period, for once-per-period mail when at risk.
    pub period_key: String,
    /// Years the working-day count crossed without calendar data (counted Monday–Friday).
    pub uncertain_years: Vec<i32>,
    /// Why the state is `unknown`, in English.
    pub note: Option<String>,
}

/// What [`status`] needs besides the duty.
pub struct Facts<'a> {
    /// Post times (published, else first seen), any order.
    pub posts: &'a [DateTime<Utc>],
    /// Whether the channel's last read succeeded (false too when never read).
    pub readable: bool,
    pub calendar: Option<&'a Calendar>,
    pub tz: Tz,
}

/// The Monday of the calendar week holding `t` in `tz`.
pub fn week_monday(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let d = t.with_timezone(&tz).date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// How far back from the time asked about [`status`] needs every post (besides the last
/// one before): two weeks for `weekly`, the period for `every`, and for `working_days`
/// enough calendar days to hold that many working days around any holiday.
pub fn window(duty: &Duty) -> Duration {
    match duty {
        Duty::Weekly { .. } => Duration::days(15),
        Duty::Every { every, .. } => every.chrono() + Duration::days(1),
        Duty::WorkingDays { days, .. } => Duration::days(i64::from(*days) * 2 + 30),
    }
}

/// The state of `duty` at `at`.
pub fn status(duty: &Duty, facts: &Facts<'_>, at: DateTime<Utc>) -> Status {
    let tz = facts.tz;
    let mut posts: Vec<DateTime<Utc>> = facts.posts.iter().copied().filter(|p| *p <= at).collect();
    posts.sort();
    let last_post = posts.last().copied();
    let mut st = match duty {
        Duty::Weekly {
            posts: need,
            at_risk,
        } => {
            let monday = week_monday(at, tz);
            let start = midnight(monday, tz);
            let end = midnight(monday + Duration::days(7), tz);
            let prev = midnight(monday - Duration::days(7), tz);
            let count = |from: DateTime<Utc>, to: DateTime<Utc>| {
                posts.iter().filter(|p| **p >= from && **p < to).count() as u32
            };
            let now_count = count(start, end);
            let prev_count = count(prev, start);
            let risk = midnight(
                monday + Duration::days(i64::from(at_risk.num_days_from_monday())),
                tz,
            );
            // A week that ended short is missed until this one has its posts.
            let missed = (now_count < *need && prev_count < *need).then(|| Missed {
                key: (monday - Duration::days(7)).format("%Y-%m-%d").to_string(),
                from: prev,
                due: start,
            });
            let period = Period {
                start,
                due: end,
                risk,
                key: monday.format("%Y-%m-%d").to_string(),
            };
            period.status(at, now_count, now_count < *need, missed, Vec::new())
        }
        Duty::Every { every, at_risk } => {
            let window = at - every.chrono();
            let in_window = posts.iter().filter(|p| **p > window).count() as u32;
            match last_post {
                None => unknown_base(in_window, "尚无已知发布"),
                Some(last) => {
                    let due = last + every.chrono();
                    since_last(last, due, due - at_risk.chrono(), at, in_window, Vec::new())
                }
            }
        }
        Duty::WorkingDays { days, at_risk } => match (facts.calendar, last_post) {
            (None, _) => unknown_base(0, "工作日日历无法读取"),
            (Some(_), None) => unknown_base(0, "尚无已知发布"),
            (Some(cal), Some(last)) => {
                let due_day = cal.add_working_days(last, *days, tz);
                let risk_day = cal.add_working_days(last, days - at_risk, tz);
                let due = due_day.due + Duration::seconds(1);
                let risk = risk_day.due + Duration::seconds(1);
                let today = at.with_timezone(&tz).date_naive();
                let in_window = posts
                    .iter()
                    .filter(|p| {
                        let d = p.with_timezone(&tz).date_naive();
                        cal.working_days_between(d, today)
                            .map_or(true, |n| n < i64::from(*days))
                    })
                    .count() as u32;
                since_last(last, due, risk, at, in_window, due_day.uncertain_years)
            }
        },
    };
    st.last_post = last_post;
    if !facts.readable {
        st.state = State::Unknown;
        st.missed = None;
        st.note = Some("栏目无法读取，发布情况未知".into());
    }
    st
}

/// The state of a duty counted from the last post (`every`, `working_days`): due at `due`,
/// at risk from `risk`; a missed period is keyed by its due time, so it is mailed once.
fn since_last(
    last: DateTime<Utc>,
    due: DateTime<Utc>,
    risk: DateTime<Utc>,
    at: DateTime<Utc>,
    in_window: u32,
    uncertain_years: Vec<i32>,
) -> Status {
    let key = due.timestamp().to_string();
    let missed = (at >= due).then(|| Missed {
        key: key.clone(),
        from: last,
        due,
    });
    let period = Period {
        start: last,
        due,
        risk,
        key,
    };
    period.status(at, in_window, true, missed, uncertain_years)
}

/// A duty's current period: from `start`, due at `due`, at risk from `risk`, mailed about
/// once under `key`.
struct Period {
    start: DateTime<Utc>,
    due: DateTime<Utc>,
    risk: DateTime<Utc>,
    key: String,
}

impl Period {
    /// Its status at `at` with `posts` in it: missed while `missed` names a period that
    /// ended short, else at risk from `risk` on while it still `owes` posts, else fine.
    fn status(
        self,
        at: DateTime<Utc>,
        posts: u32,
        owes: bool,
        missed: Option<Missed>,
        uncertain_years: Vec<i32>,
    ) -> Status {
        let state = match &missed {
            Some(_) => State::Missed,
            None if owes && at >= self.risk => State::AtRisk,
            None => State::Ok,
        };
        Status {
            state,
            last_post: None,
            posts_this_period: posts,
            period_start: Some(self.start),
            due: Some(self.due),
            at_risk_from: Some(self.risk),
            missed,
            period_key: self.key,
            uncertain_years,
            note: None,
        }
    }
}

fn unknown_base(in_window: u32, note: &str) -> Status {
    Status {
        state: State::Unknown,
        last_post: None,
        posts_this_period: in_window,
        period_start: None,
        due: None,
        at_risk_from: None,
        missed: None,
        period_key: String::new(),
        uncertain_years: Vec::new(),
        note: Some(note.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;
    use proptest::prelude::*;

    use crate::vocab::clock::beijing as sh;

    fn weekly() -> Duty {
        Duty::Weekly {
            posts: 1,
            at_risk: Weekday::Thu,
        }
    }

    fn at(duty: &Duty, posts: &[DateTime<Utc>], t: DateTime<Utc>) -> Status {
        let cal = calendar();
        status(
            duty,
            &Facts {
                posts,
                readable: true,
                calendar: Some(&cal),
                tz: Shanghai,
            },
            t,
        )
    }

    fn calendar() -> Calendar {
        let files: Vec<(std::path::PathBuf, String)> = ["2025", "2026"]
            .iter()
            .map(|y| {
                let p = std::path::PathBuf::from(format!("config/calendar/{y}.json"));
                let text = std::fs::read_to_string(&p).expect("bundled calendar");
                (p, text)
            })
            .collect();
        Calendar::from_files(&files).expect("bundled calendar parses")
    }

    // 2026-11-16 is a Monday.
    #[test]
    fn a_silent_week_goes_at_risk_on_thursday_and_missed_on_monday() {
        let d = weekly();
        let before = [sh(2026, 11, 12, 10, 0)]; // Thursday of the week before
        assert_eq!(at(&d, &before, sh(2026, 11, 16, 0, 0)).state, State::Ok);
        assert_eq!(at(&d, &before, sh(2026, 11, 18, 23, 59)).state, State::Ok);
        let thu = at(&d, &before, sh(2026, 11, 19, 0, 0));
        assert_eq!(thu.state, State::AtRisk);
        assert_eq!(thu.at_risk_from, Some(sh(2026, 11, 19, 0, 0)));
        assert_eq!(thu.due, Some(sh(2026, 11, 23, 0, 0)));
        assert_eq!(
            at(&d, &before, sh(2026, 11, 22, 23, 59)).state,
            State::AtRisk
        );
        let mon = at(&d, &before, sh(2026, 11, 23, 0, 0));
        assert_eq!(mon.state, State::Missed);
        assert_eq!(mon.missed.as_ref().unwrap().key, "2026-11-16");
        // Still missed on Thursday of the next week, until a post comes.
        let later = at(&d, &before, sh(2026, 11, 26, 12, 0));
        assert_eq!(later.state, State::Missed);
        let back = [sh(2026, 11, 12, 10, 0), sh(2026, 11, 26, 12, 0)];
        assert_eq!(at(&d, &back, sh(2026, 11, 26, 12, 0)).state, State::Ok);
    }

    #[test]
    fn a_post_on_sunday_2359_counts_for_that_week() {
        let d = weekly();
        let posts = [sh(2026, 11, 22, 23, 59)];
        let mon = at(&d, &posts, sh(2026, 11, 23, 0, 0));
        assert_eq!(mon.state, State::Ok, "{mon:?}");
        // It does not count for the next week.
        assert_eq!(mon.posts_this_period, 0);
        assert_eq!(at(&d, &posts, sh(2026, 11, 26, 0, 0)).state, State::AtRisk);
        // A post at Monday 00:00 belongs to the new week.
        let posts = [sh(2026, 11, 23, 0, 0)];
        let s = at(&d, &posts, sh(2026, 11, 23, 0, 0));
        assert_eq!(
            (s.state, s.posts_this_period),
            (State::Ok, 1),
            "the week before had nothing, but this week's post brings it back"
        );
    }

    #[test]
    fn several_posts_a_week_and_another_risk_day() {
        let d = Duty::Weekly {
            posts: 2,
            at_risk: Weekday::Wed,
        };
        let posts = [
            sh(2026, 11, 10, 9, 0),
            sh(2026, 11, 11, 9, 0),
            sh(2026, 11, 16, 9, 0),
        ];
        assert_eq!(at(&d, &posts, sh(2026, 11, 17, 9, 0)).state, State::Ok);
        assert_eq!(at(&d, &posts, sh(2026, 11, 18, 0, 0)).state, State::AtRisk);
        assert_eq!(at(&d, &posts, sh(2026, 11, 18, 0, 0)).posts_this_period, 1);
    }

    #[test]
    fn every_fourteen_days() {
        let d = Duty::Every {
            every: Span::from_secs(14 * 86400),
            at_risk: Span::from_secs(3 * 86400),
        };
        let posts = [sh(2026, 11, 1, 10, 0)];
        assert_eq!(at(&d, &posts, sh(2026, 11, 11, 9, 0)).state, State::Ok);
        assert_eq!(at(&d, &posts, sh(2026, 11, 12, 10, 0)).state, State::AtRisk);
        let m = at(&d, &posts, sh(2026, 11, 15, 10, 0));
        assert_eq!(m.state, State::Missed);
        assert_eq!(m.due, Some(sh(2026, 11, 15, 10, 0)));
        assert_eq!(at(&d, &[], sh(2026, 11, 15, 10, 0)).state, State::Unknown);
    }

    #[test]
    fn forty_five_working_days_across_national_day_and_its_make_up_days() {
        // Last update Friday 2026-08-21. Counting 45 working days from the next day:
        // September has 22 working days (Mon–Fri; 中秋 is 9-25..27 with 9-25 off?); the
        // bundled calendar decides. We check against the calendar's own arithmetic and
        // against a Monday–Friday count, which must differ by the holidays.
        let cal = calendar();
        let last = sh(2026, 8, 21, 15, 0);
        let d = Duty::WorkingDays {
            days: 45,
            at_risk: 5,
        };
        let due = cal.add_working_days(last, 45, Shanghai).due + Duration::seconds(1);
        let s = at(&d, &[last], due - Duration::seconds(1));
        assert_eq!(s.state, State::AtRisk);
        assert_eq!(at(&d, &[last], due).state, State::Missed);
        // Monday–Friday alone would give an earlier due day: the holidays push it later.
        let mut plain = last.with_timezone(&Shanghai).date_naive();
        let mut n = 0;
        while n < 45 {
            plain = plain.succ_opt().unwrap();
            if !matches!(plain.weekday(), Weekday::Sat | Weekday::Sun) {
                n += 1;
            }
        }
        let due_day = (due - Duration::seconds(1))
            .with_timezone(&Shanghai)
            .date_naive();
        assert!(due_day > plain, "{due_day} vs Monday–Friday {plain}");
        // The make-up Saturday/Sunday of National Day count: the count between the post and
        // the due day is exactly 45 on the official calendar.
        assert_eq!(
            cal.working_days_between(last.with_timezone(&Shanghai).date_naive(), due_day),
            Ok(45)
        );
        // A post the day before due makes it ok again.
        let again = [last, due - Duration::days(1)];
        assert_eq!(at(&d, &again, due).state, State::Ok);
    }

    #[test]
    fn an_unreadable_channel_is_unknown_not_compliant() {
        let cal = calendar();
        let posts = [sh(2026, 11, 16, 9, 0)];
        let s = status(
            &weekly(),
            &Facts {
                posts: &posts,
                readable: false,
                calendar: Some(&cal),
                tz: Shanghai,
            },
            sh(2026, 11, 17, 9, 0),
        );
        assert_eq!(s.state, State::Unknown);
        assert_eq!(s.last_post, Some(posts[0]));
    }

    #[test]
    fn future_posts_do_not_count_when_asking_about_the_past() {
        let posts = [sh(2026, 11, 10, 9, 0), sh(2026, 11, 20, 9, 0)];
        let s = at(&weekly(), &posts, sh(2026, 11, 19, 9, 0));
        assert_eq!(s.state, State::AtRisk);
        assert_eq!(s.last_post, Some(posts[0]));
    }

    proptest! {
        /// Whatever the instant, a post earlier in the same local week (Mon 00:00 on) makes
        /// the week ok, and the week boundaries are local midnights of Mondays.
        #[test]
        fn week_boundaries_are_local_mondays(offset in 0i64..(3 * 365 * 86400)) {
            let t = sh(2025, 1, 1, 0, 0) + Duration::seconds(offset);
            let s = at(&weekly(), &[], t);
            let start = s.period_start.unwrap().with_timezone(&Shanghai);
            prop_assert_eq!(start.weekday(), Weekday::Mon);
            prop_assert_eq!(start.format("%H:%M:%S").to_string(), "00:00:00".to_string());
            prop_assert!(s.period_start.unwrap() <= t && t < s.due.unwrap());
            prop_assert_eq!(s.due.unwrap() - s.period_start.unwrap(), Duration::days(7));
            let post = s.period_start.unwrap();
            let ok = at(&weekly(), &[post], t);
            prop_assert_eq!(ok.state, State::Ok);
            // A post one second before the week began never counts for it.
            let before = at(&weekly(), &[post - Duration::seconds(1)], t);
            prop_assert_eq!(before.posts_this_period, 0);
            let risk = t >= s.at_risk_from.unwrap();
            prop_assert_eq!(before.state, if risk { State::AtRisk } else { State::Ok });
        }
    }

    proptest! {
        /// One more post never makes a duty's state worse, for any duty, post and time.
        #[test]
        fn a_post_never_makes_it_worse(
            base in proptest::collection::vec(0i64..(120 * 86400), 0..6),
            extra in 0i64..(120 * 86400),
            when in 0i64..(120 * 86400),
            which in 0usize..3,
        ) {
            let t0 = sh(2026, 8, 1, 0, 0);
            let duty = [
                weekly(),
                Duty::Every { every: Span::from_secs(14 * 86400), at_risk: Span::from_secs(3 * 86400) },
                Duty::WorkingDays { days: 45, at_risk: 5 },
            ][which].clone();
            let rank = |s: State| match s { State::Ok => 0, State::AtRisk => 1, State::Missed => 2, State::Unknown => 3 };
            let posts: Vec<_> = base.iter().map(|s| t0 + Duration::seconds(*s)).collect();
            let mut more = posts.clone();
            more.push(t0 + Duration::seconds(extra));
            let when = t0 + Duration::seconds(when);
            let before = at(&duty, &posts, when);
            let after = at(&duty, &more, when);
            // Unknown only when no post is known: a post makes it known.
            if before.state != State::Unknown {
                prop_assert!(rank(after.state) <= rank(before.state), "{:?} -> {:?}", before, after);
            }
        }
    }

    #[test]
    fn duty_config_is_checked_with_lines() {
        let base = "[[channel]]\nid = \"c\"\nkind = \"wechat\"\nfeed = \"https://x.cn/f\"\n";
        let ok = crate::config::parse(
            Path::new("y.toml"),
            &format!("{base}duty = \"weekly\"\nposts = 2\nat_risk = \"friday\"\n"),
        )
        .unwrap();
        assert_eq!(
            ok.channels[0].duty,
            Some(Duty::Weekly {
                posts: 2,
                at_risk: Weekday::Fri
            })
        );
        let ok = crate::config::parse(Path::new("y.toml"), &format!("{base}working_days = 45\n"))
            .unwrap();
        assert_eq!(
            ok.channels[0].duty,
            Some(Duty::WorkingDays {
                days: 45,
                at_risk: 5
            })
        );
        let ok =
            crate::config::parse(Path::new("y.toml"), &format!("{base}every = \"14d\"\n")).unwrap();
        assert!(matches!(ok.channels[0].duty, Some(Duty::Every { .. })));
        for (extra, want) in [
            (
                "duty = \"daily\"\n",
                "y.toml:5: channel `c`: unknown duty `daily`",
            ),
            (
                "duty = \"weekly\"\nat_risk = \"someday\"\n",
                "y.toml:6: channel `c`: `at_risk` for a weekly duty",
            ),
            (
                "duty = \"weekly\"\nevery = \"14d\"\n",
                "y.toml:2: channel `c`: give one duty",
            ),
            (
                "every = \"fortnight\"\n",
                "y.toml:5: channel `c`: invalid duration",
            ),
            (
                "working_days = 45\nposts = 2\n",
                "y.toml:6: channel `c`: `posts` goes with",
            ),
            (
                "working_days = 0\n",
                "y.toml:5: channel `c`: `working_days` must be at least 1",
            ),
            (
                "posts = 3\n",
                "y.toml:5: channel `c`: `posts` and `at_risk` need a duty",
            ),
        ] {
            let errs = crate::config::mistakes(&format!("{base}{extra}"));
            assert!(
                errs.iter().any(|e| e.starts_with(want)),
                "{extra:?}: want {want:?} in {errs:#?}"
            );
        }
        let errs = crate::config::mistakes(
            "[[channel]]\nid = \"p\"\nkind = \"column\"\nurl = \"https://x.cn/l\"\nitem = \"li\"\n",
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("y.toml:4: channel `p` read from an HTML list page (`url`) needs a `title` selector")),
            "{errs:#?}"
        );
    }
}

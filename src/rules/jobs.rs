//! Scheduled reports and reminders (`[jobs]`), by cron expressions in `[daemon] timezone`.
//!
//! | job | default | to | what |
//! | --- | --- | --- | --- |
//! | `weekly_report` | Monday 09:00 | office | each channel's posts of the past calendar week and its state |
//! | `ledger` | the 24th, 09:00 | office | 发布信息台账 of the previous calendar month, CSV attached (due before the 25th, seed 004 三(一)) |
//! | `work_report_reminder` | the 15th, 09:00 | office | the monthly work report is due before the 20th (seed 000 四(二)) |
//! | `daily_digest` | off (the example config: 08:30) | duty | new items of the past 24 hours and the open incidents |
//! | `daily_briefing` | off | leaders, principal | 舆情日报 of the previous calendar day (`notify::briefing`) |
//! | `weekly_briefing` | off | leaders, principal | 舆情周报 of the previous calendar week, Monday to Monday |
//!
//! The office's three are on by default only when the config has `[[channel]]`s.
//!
//! `[jobs.to]` chooses who gets a job's mail, as `[escalation]` does for an incident's
//! steps: per job a list of roles (`duty`, `leaders`, `principal`, `operators`, `office`,
//! from `[people]`) or addresses, e.g. `daily_briefing = ["leaders", "宣传科 <xck@…>"]`.
//! A job left out keeps the "to" of the table above. A list that reaches nobody is a
//! config error at its line. Scheduled mail goes by mail only: `notify:ID` is refused.
//!
//! The ledger covers the previous calendar month: the month's posts are complete and can
//! be signed, and the 24th leaves a day to collect signatures before the 25th.
//!
//! Each job's last scheduled run is a `job_runs` row, moved in the transaction that queues
//! its mail, so it fires exactly once per scheduled time, across restarts and with several
//! daemons. A run missed while the daemon was down fires once on start (for the latest
//! scheduled time that passed), not once per missed time. On the very first start the
//! clock only begins: nothing from before is sent.
//!
//! This file holds the `[jobs]` section and the cron arithmetic; running the jobs and the
//! reports they send are `obligations::reports`.

use crate::rules::escalation::{
    check_recipients, resolve, Group, NotifyEntries, People, Recipient,
};
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;
use toml::Spanned;

/// The `[jobs]` table as written: each a cron expression, or `"off"`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawJobs {
    weekly_report: Option<Spanned<String>>,
    ledger: Option<Spanned<String>>,
    work_report_reminder: Option<Spanned<String>>,
    daily_digest: Option<Spanned<String>>,
    daily_briefing: Option<Spanned<String>>,
    weekly_briefing: Option<Spanned<String>>,
    to: Option<RawTo>,
}

type RawList = Option<Spanned<Vec<Spanned<String>>>>;

/// `[jobs.to]` as written: per job, roles or addresses.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTo {
    weekly_report: RawList,
    ledger: RawList,
    work_report_reminder: RawList,
    daily_digest: RawList,
    daily_briefing: RawList,
    weekly_briefing: RawList,
}

/// The jobs that the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WeeklyReport,
    Ledger,
    WorkReportReminder,
    DailyDigest,
    DailyBriefing,
    WeeklyBriefing,
}

impl Kind {
    /// Who gets the job's mail when `[jobs.to]` does not say.
    pub fn default_to(self) -> Vec<Recipient> {
        match self {
            Kind::WeeklyReport | Kind::Ledger | Kind::WorkReportReminder => {
                vec![Recipient::Group(Group::Office)]
            }
            Kind::DailyDigest => vec![Recipient::Group(Group::Duty)],
            Kind::DailyBriefing | Kind::WeeklyBriefing => {
                vec![
                    Recipient::Group(Group::Leaders),
                    Recipient::Group(Group::Principal),
                ]
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::WeeklyReport => "weekly_report",
            Kind::Ledger => "ledger",
            Kind::WorkReportReminder => "work_report_reminder",
            Kind::DailyDigest => "daily_digest",
            Kind::DailyBriefing => "daily_briefing",
            Kind::WeeklyBriefing => "weekly_briefing",
        }
    }
}

/// One scheduled job.
#[derive(Debug, Clone)]
pub struct Job {
    pub kind: Kind,
    /// As written (5 or 6 fields, crontab weekday numbers).
    pub expr: String,
    pub schedule: cron::Schedule,
    /// Who gets its mail (`[jobs.to]`, or the job's default).
    pub to: Vec<Recipient>,
}

impl Job {
    /// The addresses the job's mail goes to, roles resolved from `people`.
    pub fn mailboxes(&self, people: &People) -> Vec<Mailbox> {
        resolve(people, &self.to)
    }

    /// `daily_briefing "0 8 * * *" to leaders+principal`, for `yuqing check`.
    pub fn describe(&self) -> String {
        let to: Vec<String> = self.to.iter().map(Recipient::label).collect();
        format!("{} \"{}\" to {}", self.kind.name(), self.expr, to.join("+"))
    }
}

impl Jobs {
    /// The job of `kind`, if it is on.
    pub fn get(&self, kind: Kind) -> Option<&Job> {
        self.0.iter().find(|j| j.kind == kind)
    }
}

/// The enabled jobs.
#[derive(Debug, Clone, Default)]
pub struct Jobs(pub Vec<Job>);

/// Parses a cron expression as crontab writes it: `min hour day month weekday` (5 fields),
/// or with seconds first (6 fields). Weekdays are crontab's: 0 and 7 = Sunday, 1 = Monday
/// … 6 = Saturday, or names (`Mon`, `Mon-Fri`); they are translated to names before the
/// `cron` crate, whose own numbers start at 1 = Sunday, sees them.
pub fn parse_cron(text: &str) -> Result<cron::Schedule, String> {
    let text = text.trim();
    let mut fields: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    let usage = "write `min hour day month weekday`, e.g. \"0 9 * * 1\" (Monday 09:00)";
    match fields.len() {
        5 => fields.insert(0, "0".into()),
        6 => {}
        n => {
            return Err(format!(
                "cron expression `{text}` has {n} field{}: {usage}, or 6 fields with seconds first",
                if n == 1 { "" } else { "s" }
            ))
        }
    }
    fields[5] = crontab_weekdays(&fields[5])
        .map_err(|e| format!("invalid cron expression `{text}`: weekday {e}; {usage}"))?;
    cron::Schedule::from_str(&fields.join(" "))
        .map_err(|_| format!("invalid cron expression `{text}`: {usage}"))
}

/// A crontab day-of-week field (`1`, `1-5`, `0,6`, `*/2`, `Mon-Fri`, 0 and 7 = Sunday) as
/// the cron crate's names (`MON`, `MON,TUE,WED,THU,FRI`).
fn crontab_weekdays(field: &str) -> Result<String, String> {
    const NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    const FULL: [&str; 7] = [
        "SUNDAY",
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
    ];
    if matches!(field, "*" | "?") {
        return Ok(field.to_string());
    }
    // 0..=7, where 7 is Sunday again (so that `Fri-Sun` and `5-7` are ranges).
    let day = |v: &str, end_of_range: bool| -> Result<u32, String> {
        let up = v.to_ascii_uppercase();
        let n = match v.parse::<u32>() {
            Ok(n) if n <= 7 => n,
            Ok(_) => return Err(format!("`{v}` is not 0–7 (0 and 7 = Sunday)")),
            Err(_) => NAMES
                .iter()
                .position(|n| *n == up)
                .or_else(|| FULL.iter().position(|n| *n == up))
                .ok_or_else(|| format!("`{v}` is neither 0–7 nor a day name"))?
                as u32,
        };
        Ok(if n == 0 && end_of_range { 7 } else { n })
    };
    let mut days = [false; 7];
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => match s.parse::<u32>() {
                Ok(s) if s > 0 => (b, s),
                _ => return Err(format!("step `{s}` in `{item}` is not a positive number")),
            },
            None => (item, 1),
        };
        let (from, to) = match base.split_once('-') {
            _ if base == "*" => (0, 6),
            Some((a, b)) => (day(a, false)?, day(b, true)?),
            // `N/step` runs from N to the end of the week, as in crontab.
            None if step > 1 => (day(base, false)?, 7),
            None => {
                let d = day(base, false)?;
                (d, d)
            }
        };
        if from > to {
            return Err(format!("range `{base}` runs backwards"));
        }
        for d in (from..=to).step_by(step as usize) {
            days[(d % 7) as usize] = true;
        }
    }
    Ok((0..7)
        .filter(|d| days[*d])
        .map(|d| NAMES[d])
        .collect::<Vec<_>>()
        .join(","))
}

/// Checks `[jobs]`: every expression parses; defaults for the ones not given. The
/// office's jobs are on by default when the config has own channels (without them there
/// is nothing to report); the daily digest only when set. `[jobs.to]`: every entry is a
/// role or an address, and a list written there reaches someone.
pub fn check(
    mut raw: RawJobs,
    has_channels: bool,
    people: &People,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Jobs {
    let mut tos = check_to(
        raw.to.take().unwrap_or_default(),
        people,
        errs,
        path,
        source,
    );
    let mut jobs = Vec::new();
    let office = |expr: &'static str| if has_channels { expr } else { "off" };
    for (kind, value, default) in [
        (Kind::WeeklyReport, raw.weekly_report, office("0 9 * * Mon")),
        (Kind::Ledger, raw.ledger, office("0 9 24 * *")),
        (
            Kind::WorkReportReminder,
            raw.work_report_reminder,
            office("0 9 15 * *"),
        ),
        (Kind::DailyDigest, raw.daily_digest, "off"),
        (Kind::DailyBriefing, raw.daily_briefing, "off"),
        (Kind::WeeklyBriefing, raw.weekly_briefing, "off"),
    ] {
        let (expr, pos) = match &value {
            Some(v) => (v.get_ref().trim().to_string(), Some(v.span().start)),
            None => (default.to_string(), None),
        };
        if matches!(expr.as_str(), "off" | "") {
            continue;
        }
        match parse_cron(&expr) {
            Ok(schedule) => jobs.push(Job {
                kind,
                expr,
                schedule,
                to: tos
                    .iter_mut()
                    .find(|(k, _)| *k == kind)
                    .and_then(|(_, to)| to.take())
                    .unwrap_or_else(|| kind.default_to()),
            }),
            Err(e) => errs.push(Diagnostic::at(
                path,
                source,
                pos.unwrap_or(0),
                format!("[jobs] {}: {e}", kind.name()),
            )),
        }
    }
    Jobs(jobs)
}

/// `[jobs.to]`, checked: per job the recipients written there (None where not written).
fn check_to(
    raw: RawTo,
    people: &People,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Vec<(Kind, Option<Vec<Recipient>>)> {
    let lists = [
        (Kind::WeeklyReport, raw.weekly_report),
        (Kind::Ledger, raw.ledger),
        (Kind::WorkReportReminder, raw.work_report_reminder),
        (Kind::DailyDigest, raw.daily_digest),
        (Kind::DailyBriefing, raw.daily_briefing),
        (Kind::WeeklyBriefing, raw.weekly_briefing),
    ];
    let at = Diagnostic::spans_in(path, source);
    lists
        .into_iter()
        .map(|(kind, list)| {
            let to = list.map(|list| {
                check_recipients(
                    list,
                    &format!("[jobs.to] {}", kind.name()),
                    NotifyEntries::Refused(
                        "scheduled reports go by mail only; name roles or addresses",
                    ),
                    people,
                    errs,
                    &at,
                )
            });
            (kind, to)
        })
        .collect()
}

/// The latest scheduled time of `job` after `last` and at or before `now`.
pub fn latest_due(
    job: &Job,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    let mut found = None;
    // Bounded: a job every minute missed for a year is ~525,600 steps; beyond, the newest
    // is found after the cap from a later start.
    let start = if now - last > Duration::days(400) {
        now - Duration::days(400)
    } else {
        last
    };
    for t in job.schedule.after(&start.with_timezone(&tz)).take(600_000) {
        let t = t.with_timezone(&Utc);
        if t > now {
            break;
        }
        found = Some(t);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    use crate::vocab::clock::beijing as sh;

    fn job(expr: &str) -> Job {
        Job {
            kind: Kind::Ledger,
            expr: expr.into(),
            schedule: parse_cron(expr).unwrap(),
            to: Kind::Ledger.default_to(),
        }
    }

    #[test]
    fn cron_in_the_configured_zone_fires_once_for_the_latest_missed_time() {
        let j = job("0 9 24 * *");
        // Down from the 20th of September to the 1st of December: only November's run.
        let got = latest_due(&j, sh(2026, 9, 20, 0, 0), sh(2026, 12, 1, 0, 0), Shanghai);
        assert_eq!(got, Some(sh(2026, 11, 24, 9, 0)));
        assert_eq!(
            latest_due(&j, sh(2026, 11, 24, 9, 0), sh(2026, 12, 1, 0, 0), Shanghai),
            None
        );
        let w = job("0 9 * * Mon");
        assert_eq!(
            latest_due(&w, sh(2026, 11, 20, 0, 0), sh(2026, 11, 23, 9, 0), Shanghai),
            Some(sh(2026, 11, 23, 9, 0))
        );
    }

    #[test]
    fn jobs_to_refuses_notifiers_and_names_each_bad_entry_at_its_line() {
        let errs = crate::config::mistakes(
            "[jobs.to]\nledger = [\"office\",\n  \"notify:ding\", \"nobody\"]\n",
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[0],
            "y.toml:3: [jobs.to] ledger: `notify:ding`: scheduled reports go by mail only; \
             name roles or addresses"
        );
        assert!(
            errs[1].starts_with("y.toml:3: [jobs.to] ledger: `nobody` is neither a role"),
            "{errs:?}"
        );
    }

    #[test]
    fn bad_cron_names_the_line() {
        let errs =
            crate::config::mistakes("[jobs]\nledger = \"0 9 32 * *\"\nweekly_report = \"off\"\n");
        assert!(
            errs.iter()
                .any(|e| e.starts_with("y.toml:2: [jobs] ledger: invalid cron expression")),
            "{errs:?}"
        );
        let channel = "[[channel]]\nid = \"c\"\nkind = \"wechat\"\nfeed = \"https://x.cn/f\"\n";
        let c = crate::config::parse(
            Path::new("y.toml"),
            &format!("[jobs]\nweekly_report = \"off\"\n{channel}"),
        )
        .unwrap();
        let kinds: Vec<Kind> = c.jobs.0.iter().map(|j| j.kind).collect();
        assert_eq!(kinds, [Kind::Ledger, Kind::WorkReportReminder]);
        let c = crate::config::parse(
            Path::new("y.toml"),
            "[jobs]\ndaily_digest = \"30 8 * * *\"\n",
        )
        .unwrap();
        let kinds: Vec<Kind> = c.jobs.0.iter().map(|j| j.kind).collect();
        assert_eq!(
            kinds,
            [Kind::DailyDigest],
            "without channels only what is set"
        );
    }

    /// The next `n` local run times of `expr` after Monday 2026-11-23 00:00 in Shanghai.
    fn runs(expr: &str, n: usize) -> Vec<String> {
        let s = parse_cron(expr).unwrap_or_else(|e| panic!("{e}"));
        s.after(&Shanghai.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap())
            .take(n)
            .map(|t| t.format("%a %H:%M").to_string())
            .collect()
    }

    #[test]
    fn weekday_numbers_are_crontabs() {
        assert_eq!(runs("0 9 * * 1", 2), ["Mon 09:00", "Mon 09:00"]);
        assert_eq!(
            runs("0 9 * * 1-5", 6),
            [
                "Mon 09:00",
                "Tue 09:00",
                "Wed 09:00",
                "Thu 09:00",
                "Fri 09:00",
                "Mon 09:00"
            ]
        );
        assert_eq!(runs("0 9 * * 0", 1), ["Sun 09:00"]);
        assert_eq!(runs("0 9 * * 7", 1), ["Sun 09:00"]);
        assert_eq!(
            runs("0 9 * * 6,0", 3),
            ["Sat 09:00", "Sun 09:00", "Sat 09:00"]
        );
        assert_eq!(
            runs("0 9 * * 5-7", 3),
            ["Fri 09:00", "Sat 09:00", "Sun 09:00"]
        );
        assert_eq!(
            runs("0 9 * * */2", 4),
            ["Tue 09:00", "Thu 09:00", "Sat 09:00", "Sun 09:00"]
        );
        assert_eq!(
            runs("0 9 * * 1-5/2", 3),
            ["Mon 09:00", "Wed 09:00", "Fri 09:00"]
        );
        assert_eq!(runs("0 9 * * Mon", 1), ["Mon 09:00"]);
        assert_eq!(
            runs("0 9 * * fri-sun", 3),
            ["Fri 09:00", "Sat 09:00", "Sun 09:00"]
        );
        // Six fields: seconds first, the same weekday numbers.
        assert_eq!(runs("30 0 9 * * 2", 1), ["Tue 09:00"]);
        assert_eq!(crontab_weekdays("1-5").unwrap(), "MON,TUE,WED,THU,FRI");
    }

    #[test]
    fn cron_errors_are_one_short_line_with_the_expression_as_written() {
        let err = |e: &str| parse_cron(e).unwrap_err();
        assert_eq!(
            err("0 9 * *"),
            "cron expression `0 9 * *` has 4 fields: write `min hour day month weekday`, \
             e.g. \"0 9 * * 1\" (Monday 09:00), or 6 fields with seconds first"
        );
        assert!(err("0 0 9 * * 1 2027").contains("has 7 fields"));
        assert_eq!(
            err("0 9 32 * *"),
            "invalid cron expression `0 9 32 * *`: write `min hour day month weekday`, \
             e.g. \"0 9 * * 1\" (Monday 09:00)"
        );
        assert!(err("0 9 * * 8").starts_with(
            "invalid cron expression `0 9 * * 8`: weekday `8` is not 0–7 (0 and 7 = Sunday);"
        ));
        assert!(err("0 9 * * 5-1").contains("weekday range `5-1` runs backwards"));
        for e in ["0 9 * *", "0 9 32 * *", "0 9 * * 8", "0 9 * * xyz"] {
            assert!(!err(e).contains('\n'), "{e}");
        }
    }
}

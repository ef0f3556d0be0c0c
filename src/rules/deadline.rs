//! The statutory deadlines of an incident, as plain arithmetic.
//!
//! 特别重大 and 重大 incidents must have authoritative information published within 5 hours
//! and a press conference held within 24 hours; every other incident must be answered within
//! 48 hours (domain.md, "Response deadlines"; the durations come from `[deadlines]`). Hours are
//! wall-clock hours: they run through nights, weekends and holidays, so no calendar is needed
//! here.

use crate::vocab::duration::Span;
use crate::vocab::severity::Severity;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The statutory response times (domain.md, "Response deadlines").
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// 特别重大/重大: publish authoritative information (5 hours).
    pub major_release: Span,
    /// 特别重大/重大: hold a press conference (24 hours).
    pub major_press_conference: Span,
    /// Other opinion: respond (48 hours).
    pub ordinary_response: Span,
    /// Reminders to the duty officer this long before each deadline.
    pub release_reminders: Vec<Span>,
    pub press_conference_reminders: Vec<Span>,
    pub response_reminders: Vec<Span>,
    /// A missed deadline is mailed to the leaders again this often until met or closed.
    pub repeat_escalation: Span,
    /// An incident nobody acknowledged this long after it opened is mailed to the leaders.
    pub unacknowledged_after: Span,
    /// Once its response duties are met, an incident is monitored this long for 回温, then
    /// closes by itself.
    pub monitoring: Span,
    /// A post on an own channel that matches an incident awaiting its release is recorded
    /// as the release at once, instead of waiting for the duty officer's confirmation.
    pub auto_confirm_release: bool,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            major_release: Span::from_secs(5 * 3600),
            major_press_conference: Span::from_secs(24 * 3600),
            ordinary_response: Span::from_secs(48 * 3600),
            release_reminders: vec![
                Span::from_secs(2 * 3600),
                Span::from_secs(3600),
                Span::from_secs(1800),
            ],
            press_conference_reminders: vec![Span::from_secs(4 * 3600), Span::from_secs(3600)],
            response_reminders: vec![Span::from_secs(4 * 3600), Span::from_secs(3600)],
            repeat_escalation: Span::from_secs(3600),
            unacknowledged_after: Span::from_secs(30 * 60),
            monitoring: Span::from_secs(7 * 86_400),
            auto_confirm_release: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 发布权威信息 (特别重大/重大).
    Release,
    /// 召开新闻发布会 (特别重大/重大).
    PressConference,
    /// 回应 (below 重大).
    Response,
    /// A duty counted in working days (the topic's `obligation`, e.g. 网民留言答复); the
    /// deadline row names the duty.
    Obligation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Release => "release",
            Kind::PressConference => "press_conference",
            Kind::Response => "response",
            Kind::Obligation => "obligation",
        }
    }

    /// What must be done, in the words of the regulation.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Release => "发布权威信息",
            Kind::PressConference => "召开新闻发布会",
            Kind::Response => "回应社会关切",
            Kind::Obligation => "法定时限义务",
        }
    }

    /// The duty officer's command that records this deadline as met.
    pub fn command(self, incident: i64) -> String {
        match self {
            Kind::Release | Kind::Response | Kind::Obligation => {
                format!("yuqing incident release {incident} --url <发布链接>")
            }
            Kind::PressConference => format!("yuqing incident press {incident}"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "release" => Ok(Kind::Release),
            "press_conference" => Ok(Kind::PressConference),
            "response" => Ok(Kind::Response),
            "obligation" => Ok(Kind::Obligation),
            other => Err(format!("unknown deadline kind `{other}`")),
        }
    }
}

/// The deadlines an incident of `severity` owes, counted from `clock_start`.
pub fn schedule(
    severity: Severity,
    clock_start: DateTime<Utc>,
    d: &Deadlines,
) -> Vec<(Kind, DateTime<Utc>)> {
    if severity.is_major() {
        vec![
            (Kind::Release, clock_start + d.major_release.chrono()),
            (
                Kind::PressConference,
                clock_start + d.major_press_conference.chrono(),
            ),
        ]
    } else {
        vec![(Kind::Response, clock_start + d.ordinary_response.chrono())]
    }
}

/// The moment the clock starts: the earliest credible of the time the event occurred, the
/// time the first item was published (首发) and the time it was detected.
///
/// A published time later than detection (a site with a wrong clock, or a time zone read
/// wrong) is not credible and is ignored, so the deadline is never later than detection
/// allows.
pub fn clock_start(
    occurred: Option<DateTime<Utc>>,
    published: Option<DateTime<Utc>>,
    detected: DateTime<Utc>,
) -> DateTime<Utc> {
    [occurred, published]
        .into_iter()
        .flatten()
        .filter(|t| *t <= detected)
        .fold(detected, |a, b| a.min(b))
}

/// "3小时20分" for a span of time, as mail shows it; never negative.
pub fn zh_span(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{}秒", secs),
        (0, 0, m) => format!("{m}分钟"),
        (0, h, 0) => format!("{h}小时"),
        (0, h, m) => format!("{h}小时{m}分"),
        (d, 0, _) => format!("{d}天"),
        (d, h, _) => format!("{d}天{h}小时"),
    }
}

/// "剩余 4小时" before the deadline, "已到期" at it, "已超时 1小时20分" after it.
pub fn zh_left(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if now == due {
        "已到期".to_string()
    } else if now < due {
        format!("剩余 {}", zh_span(due - now))
    } else {
        format!("已超时 {}", zh_span(now - due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    #[test]
    fn major_incidents_owe_release_and_press_conference() {
        let d = Deadlines::default();
        for sev in [Severity::Major, Severity::EspeciallyMajor] {
            assert_eq!(
                schedule(sev, t(2, 0), &d),
                vec![
                    (Kind::Release, t(7, 0)),
                    (Kind::PressConference, t(2, 0) + Duration::hours(24))
                ]
            );
        }
        for sev in [Severity::Large, Severity::Ordinary] {
            assert_eq!(
                schedule(sev, t(2, 0), &d),
                vec![(Kind::Response, t(2, 0) + Duration::hours(48))]
            );
        }
    }

    #[test]
    fn clock_starts_at_the_earliest_credible_time() {
        let detected = t(10, 0);
        assert_eq!(clock_start(None, None, detected), detected);
        assert_eq!(clock_start(None, Some(t(8, 30)), detected), t(8, 30));
        assert_eq!(
            clock_start(Some(t(7, 0)), Some(t(8, 30)), detected),
            t(7, 0)
        );
        // A publication time after detection is a wrong clock, not a later start.
        assert_eq!(clock_start(None, Some(t(11, 0)), detected), detected);
    }

    #[test]
    fn spans_read_as_chinese() {
        assert_eq!(zh_span(Duration::minutes(200)), "3小时20分");
        assert_eq!(zh_span(Duration::hours(5)), "5小时");
        assert_eq!(zh_span(Duration::minutes(30)), "30分钟");
        assert_eq!(zh_span(Duration::seconds(9)), "9秒");
        assert_eq!(zh_span(Duration::hours(49)), "2天1小时");
        assert_eq!(zh_left(t(7, 0), t(5, 0)), "剩余 2小时");
        assert_eq!(zh_left(t(7, 0), t(8, 20)), "已超时 1小时20分");
        assert_eq!(zh_left(t(7, 0), t(7, 0)), "已到期");
    }
}

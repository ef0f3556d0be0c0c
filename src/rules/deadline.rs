//! The statutory deadlines of an incident, as plain arithmetic.
//!
//! 特别重大 and 重大 incidents must have authoritative information published within 5 hours
//! and a press conference held within 24 hours; every other incident must be answered within
//! 48 hours (domain.md, "Response deadlines"; the durations come from `[deadlines]`). Hours are
//! wall-clock hours: they run through nights, weekends and holidays, so no calendar is needed
//! here.

use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use crate::vocab::severity::Severity;
use crate::vocab::state::{CancelledBy, DeadlineKind as Kind, DeadlineState};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use toml::Spanned;

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

impl Deadlines {
    /// How long before a deadline of `kind` the duty officer is reminded. A working-day
    /// obligation is reminded as a response is.
    pub fn reminders(&self, kind: Kind) -> &[Span] {
        match kind {
            Kind::Release => &self.release_reminders,
            Kind::PressConference => &self.press_conference_reminders,
            Kind::Response | Kind::Obligation => &self.response_reminders,
        }
    }
}

/// Where a deadline due at `due` stands at `now`: met (`met_at`), cancelled (and why), or
/// counted to `now` — or, when the incident `ended_at` (closed or merged), to its end: an
/// unmet deadline of a closed incident is overdue by the time to its close, not to today.
pub fn state(
    due: DateTime<Utc>,
    met_at: Option<DateTime<Utc>>,
    cancelled: Option<CancelledBy>,
    ended_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DeadlineState {
    let zero = chrono::Duration::zero();
    if let Some(at) = met_at {
        return DeadlineState::Met {
            at,
            early_by: (due - at).max(zero),
            late_by: (at - due).max(zero),
        };
    }
    if let Some(by) = cancelled {
        return DeadlineState::Cancelled { by };
    }
    let until = ended_at.unwrap_or(now);
    if due <= until {
        DeadlineState::Missed {
            overdue_by: until - due,
            ended: ended_at.is_some(),
        }
    } else if ended_at.is_some() {
        DeadlineState::Unmet { left: due - until }
    } else {
        DeadlineState::Pending { left: due - until }
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// The `[deadlines]` table as written.
pub struct RawDeadlines {
    major_release: Option<Spanned<Span>>,
    major_press_conference: Option<Spanned<Span>>,
    ordinary_response: Option<Spanned<Span>>,
    release_reminders: Option<Spanned<Vec<Span>>>,
    press_conference_reminders: Option<Spanned<Vec<Span>>>,
    response_reminders: Option<Spanned<Vec<Span>>>,
    repeat_escalation: Option<Span>,
    unacknowledged_after: Option<Span>,
    monitoring: Option<Span>,
    auto_confirm_release: Option<bool>,
}

impl RawDeadlines {
    /// The checked deadlines; `at` turns a span into a diagnostic with file and line. An
    /// agency may set tighter deadlines than the statutory ones, never looser, and a
    /// written reminder must fall within its deadline.
    pub fn check(self, errs: &mut Diagnostics, at: &SpanToDiagnostic) -> Deadlines {
        let defaults = Deadlines::default();
        let d = self;
        // An agency may set tighter deadlines than the statutory ones, never looser.
        let mut deadline =
            |key: &str, v: Option<Spanned<Span>>, default: Span, rule: &str| -> Span {
                let Some(v) = v else { return default };
                let value = *v.get_ref();
                if value.std().is_zero() {
                    errs.push(at(
                        v.span(),
                        format!(
                        "[deadlines] {key} = \"0s\": a deadline must be longer than 0s ({rule})"
                    ),
                    ));
                } else if value.std() > default.std() {
                    errs.push(at(
                        v.span(),
                        format!(
                        "[deadlines] {key} = \"{value}\" is looser than the statutory {default} \
                         ({rule}): an agency may set a tighter deadline, never a looser one"
                    ),
                    ));
                }
                value
            };
        let major_release = deadline(
            "major_release",
            d.major_release,
            defaults.major_release,
            "特别重大/重大: publish authoritative information within 5 hours",
        );
        let major_press_conference = deadline(
            "major_press_conference",
            d.major_press_conference,
            defaults.major_press_conference,
            "特别重大/重大: hold a press conference within 24 hours",
        );
        let ordinary_response = deadline(
            "ordinary_response",
            d.ordinary_response,
            defaults.ordinary_response,
            "较大/一般: respond within 48 hours",
        );
        // Written reminders must fall within their deadline; the defaults are left as they are
        // (one before a tighter deadline is sent when the incident opens).
        let mut reminders = |key: &str,
                             v: Option<Spanned<Vec<Span>>>,
                             default: Vec<Span>,
                             of: (&str, Span)| {
            let Some(v) = v else { return default };
            let (deadline_key, deadline) = of;
            for r in v.get_ref() {
                if r.std().is_zero() || r.std() >= deadline.std() {
                    errs.push(at(
                            v.span(),
                            format!(
                                "[deadlines] {key}: a reminder {r} before the deadline is {} \
                                 ({deadline_key} is {deadline}); give times between 0s and {deadline}",
                                if r.std().is_zero() {
                                    "the deadline itself"
                                } else {
                                    "not within it"
                                }
                            ),
                        ));
                }
            }
            v.into_inner()
        };
        let release_reminders = reminders(
            "release_reminders",
            d.release_reminders,
            defaults.release_reminders,
            ("major_release", major_release),
        );
        let press_conference_reminders = reminders(
            "press_conference_reminders",
            d.press_conference_reminders,
            defaults.press_conference_reminders,
            ("major_press_conference", major_press_conference),
        );
        let response_reminders = reminders(
            "response_reminders",
            d.response_reminders,
            defaults.response_reminders,
            ("ordinary_response", ordinary_response),
        );
        Deadlines {
            major_release,
            major_press_conference,
            ordinary_response,
            release_reminders,
            press_conference_reminders,
            response_reminders,
            // Never more often than a minute: leaders must not be flooded.
            repeat_escalation: d
                .repeat_escalation
                .unwrap_or(defaults.repeat_escalation)
                .max(Span::from_secs(60)),
            unacknowledged_after: d
                .unacknowledged_after
                .unwrap_or(defaults.unacknowledged_after),
            monitoring: d.monitoring.unwrap_or(defaults.monitoring),
            auto_confirm_release: d
                .auto_confirm_release
                .unwrap_or(defaults.auto_confirm_release),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::ids::IncidentId;
    use chrono::{Duration, TimeZone};

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
    fn a_deadline_is_counted_to_now_or_to_the_incidents_end() {
        let due = t(7, 0);
        let state = |met, cancelled: bool, merged: Option<IncidentId>, ended, now| {
            let by = cancelled.then_some(merged.map_or(CancelledBy::Regrade, CancelledBy::Merge));
            state(due, met, by, ended, now)
        };
        assert_eq!(
            state(None, false, None, None, t(5, 0)),
            DeadlineState::Pending {
                left: Duration::hours(2)
            }
        );
        assert_eq!(
            state(None, false, None, None, t(7, 0)),
            DeadlineState::Missed {
                overdue_by: Duration::zero(),
                ended: false
            }
        );
        // Closed at 07:55, looked at the next day: overdue by 55 minutes, not a day.
        assert_eq!(
            state(None, false, None, Some(t(7, 55)), t(23, 0)),
            DeadlineState::Missed {
                overdue_by: Duration::minutes(55),
                ended: true
            }
        );
        assert_eq!(
            state(None, false, None, Some(t(5, 0)), t(23, 0)),
            DeadlineState::Unmet {
                left: Duration::hours(2)
            }
        );
        // Met late stays late, whatever the time now.
        assert_eq!(
            state(Some(t(7, 1)), false, None, None, t(9, 0)),
            DeadlineState::Met {
                at: t(7, 1),
                early_by: Duration::zero(),
                late_by: Duration::minutes(1)
            }
        );
        assert_eq!(
            state(None, true, Some(IncidentId(4)), Some(t(6, 0)), t(9, 0)),
            DeadlineState::Cancelled {
                by: CancelledBy::Merge(IncidentId(4))
            }
        );
        assert_eq!(
            state(None, true, None, None, t(9, 0)),
            DeadlineState::Cancelled {
                by: CancelledBy::Regrade
            }
        );
    }
}

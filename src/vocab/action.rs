//! What the record of actions (留痕) says was done to an incident, as an enum. The store
//! writes its name and decodes it at its edge: a name it does not know is an error that
//! names it, never read as a generic "操作".

use crate::vocab::state::DeadlineKind;
use serde::Serialize;

/// yuqing itself as the one who did something (the record's actor, the sender of a mail):
/// a step no person took, such as an incident closed when its monitoring ended.
pub const OWN_ACTOR: &str = "yuqing";

/// yuqing acting on what its own channel `channel_id` published (a release it confirmed).
pub fn own_channel_actor(channel_id: &str) -> String {
    format!("{OWN_ACTOR} (channel {channel_id})")
}

/// Whether `by` names yuqing itself (`OWN_ACTOR`, or `own_channel_actor`), not a person.
pub fn is_own_actor(by: &str) -> bool {
    by == OWN_ACTOR
        || by
            .strip_prefix(OWN_ACTOR)
            .is_some_and(|rest| rest.starts_with(" ("))
}

/// One kind of entry in the record of actions; the detail beside it is free text (or a
/// code, worded by `vocab::words::detail_zh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Opened,
    Acknowledged,
    /// A deadline recorded as met: 发布权威信息, 回应 or a working-day duty.
    Release,
    Response,
    Obligation,
    PressConference,
    Severity,
    Note,
    Title,
    /// The status changed; the detail names the new one.
    State,
    Escalated,
    Closed,
    Merged,
    Split,
    Monitoring,
    Reopened,
    Resurgence,
    Linked,
    ReleaseCandidate,
    Dismissed,
    ClockStart,
}

impl ActionKind {
    pub const ALL: [ActionKind; 21] = [
        ActionKind::Opened,
        ActionKind::Acknowledged,
        ActionKind::Release,
        ActionKind::Response,
        ActionKind::Obligation,
        ActionKind::PressConference,
        ActionKind::Severity,
        ActionKind::Note,
        ActionKind::Title,
        ActionKind::State,
        ActionKind::Escalated,
        ActionKind::Closed,
        ActionKind::Merged,
        ActionKind::Split,
        ActionKind::Monitoring,
        ActionKind::Reopened,
        ActionKind::Resurgence,
        ActionKind::Linked,
        ActionKind::ReleaseCandidate,
        ActionKind::Dismissed,
        ActionKind::ClockStart,
    ];

    /// The name in the database and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Opened => "opened",
            ActionKind::Acknowledged => "acknowledged",
            ActionKind::Release => "release",
            ActionKind::Response => "response",
            ActionKind::Obligation => "obligation",
            ActionKind::PressConference => "press_conference",
            ActionKind::Severity => "severity",
            ActionKind::Note => "note",
            ActionKind::Title => "title",
            ActionKind::State => "state",
            ActionKind::Escalated => "escalated",
            ActionKind::Closed => "closed",
            ActionKind::Merged => "merged",
            ActionKind::Split => "split",
            ActionKind::Monitoring => "monitoring",
            ActionKind::Reopened => "reopened",
            ActionKind::Resurgence => "resurgence",
            ActionKind::Linked => "linked",
            ActionKind::ReleaseCandidate => "release_candidate",
            ActionKind::Dismissed => "dismissed",
            ActionKind::ClockStart => "clock_start",
        }
    }
}

/// Recording a deadline as met is recorded under the deadline's own name.
impl From<DeadlineKind> for ActionKind {
    fn from(kind: DeadlineKind) -> Self {
        match kind {
            DeadlineKind::Release => ActionKind::Release,
            DeadlineKind::PressConference => ActionKind::PressConference,
            DeadlineKind::Response => ActionKind::Response,
            DeadlineKind::Obligation => ActionKind::Obligation,
        }
    }
}

crate::vocab::state::stored_by_name!(ActionKind, "action");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuqing_is_its_own_actor_and_a_person_is_not() {
        assert!(is_own_actor(OWN_ACTOR));
        assert!(is_own_actor(&own_channel_actor("gov-weibo")));
        assert_eq!(own_channel_actor("gov-weibo"), "yuqing (channel gov-weibo)");
        for person in ["张三", "yuqingfan", "yuqing-ops", ""] {
            assert!(!is_own_actor(person), "{person}");
        }
    }

    #[test]
    fn every_name_reads_back_and_an_unknown_one_is_named() {
        for kind in ActionKind::ALL {
            assert_eq!(kind.as_str().parse::<ActionKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(
            "renamed".parse::<ActionKind>(),
            Err("unknown action `renamed`".to_string())
        );
    }
}

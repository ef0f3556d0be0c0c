//! The states an incident and its deadlines move through, as enums. The store decodes its
//! text columns into these at its edge: an unknown value is an error there, never a
//! default (a status read wrong could schedule 48 hours instead of 5).

use crate::vocab::ids::IncidentId;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// An enum shown by its name (`as_str`): `Display` writes the name, and `status == "open"`
/// compares with it, for tests and scripts that read the names from JSON.
macro_rules! shown_by_name {
    ($ty:ty) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use shown_by_name;

/// An enum stored by its name, one of its `ALL`: shown by it, and read back by `FromStr`.
/// An unknown name is an error naming `what` it was meant to be (`unknown action `x``),
/// or the message that `unknown` makes of the name and of the names it could have been
/// (`|s, names| format!("unknown tone `{s}` (expected {names})")`, names as
/// [`alternatives`] lists them), so that the names are written once, in `as_str`.
macro_rules! stored_by_name {
    ($ty:ty, $what:literal) => {
        $crate::vocab::state::stored_by_name!($ty, |s, _| format!(
            concat!("unknown ", $what, " `{}`"),
            s
        ));
    };
    ($ty:ty, $unknown:expr) => {
        $crate::vocab::state::shown_by_name!($ty);

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let unknown: &dyn Fn(&str, String) -> String = &$unknown;
                <$ty>::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| {
                        unknown(
                            s,
                            $crate::vocab::state::alternatives(<$ty>::ALL.map(<$ty>::as_str)),
                        )
                    })
            }
        }
    };
}
pub(crate) use stored_by_name;

/// Names as a message offers them to choose from: `negative, neutral or positive`.
pub(crate) fn alternatives<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Where an incident stands (domain.md, "Incident lifecycle"), in order; `Merged` ends
/// one that was merged into another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Released,
    PressConference,
    Monitoring,
    Closed,
    Merged,
    /// Dismissed as a false positive (误报): ended, and never counted as unmet.
    Dismissed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 8] = [
        IncidentStatus::Open,
        IncidentStatus::Acknowledged,
        IncidentStatus::Released,
        IncidentStatus::PressConference,
        IncidentStatus::Monitoring,
        IncidentStatus::Closed,
        IncidentStatus::Merged,
        IncidentStatus::Dismissed,
    ];

    /// The name in the database and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Released => "released",
            IncidentStatus::PressConference => "press_conference",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Closed => "closed",
            IncidentStatus::Merged => "merged",
            IncidentStatus::Dismissed => "dismissed",
        }
    }

    /// The name people read.
    pub fn zh(self) -> &'static str {
        match self {
            IncidentStatus::Open => "待确认",
            IncidentStatus::Acknowledged => "已确认",
            IncidentStatus::Released => "已发布",
            IncidentStatus::PressConference => "已开发布会",
            IncidentStatus::Monitoring => "监测中",
            IncidentStatus::Closed => "已结案",
            IncidentStatus::Merged => "已合并",
            IncidentStatus::Dismissed => "误报",
        }
    }

    /// Still being handled: neither closed, merged nor dismissed.
    pub fn is_active(self) -> bool {
        !self.has_ended()
    }

    /// Closed, merged or dismissed: its deadlines stopped counting when it ended.
    pub fn has_ended(self) -> bool {
        matches!(
            self,
            IncidentStatus::Closed | IncidentStatus::Merged | IncidentStatus::Dismissed
        )
    }
}

stored_by_name!(IncidentStatus, "incident status");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
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

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 4] = [
        DeadlineKind::Release,
        DeadlineKind::PressConference,
        DeadlineKind::Response,
        DeadlineKind::Obligation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Release => "release",
            DeadlineKind::PressConference => "press_conference",
            DeadlineKind::Response => "response",
            DeadlineKind::Obligation => "obligation",
        }
    }

    /// What must be done, in the words of the regulation.
    pub fn zh(self) -> &'static str {
        match self {
            DeadlineKind::Release => "发布权威信息",
            DeadlineKind::PressConference => "召开新闻发布会",
            DeadlineKind::Response => "回应社会关切",
            DeadlineKind::Obligation => "法定时限义务",
        }
    }

    /// The duty officer's command that records this deadline as met.
    pub fn command(self, incident: i64) -> String {
        match self {
            DeadlineKind::Release | DeadlineKind::Response | DeadlineKind::Obligation => {
                format!("yuqing incident release {incident} --url <发布链接>")
            }
            DeadlineKind::PressConference => format!("yuqing incident press {incident}"),
        }
    }
}

stored_by_name!(DeadlineKind, "deadline kind");

/// Where one deadline stands, computed once (`rules::deadline::state`) for the terminal,
/// JSON, mail and the 考核 report alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineState {
    /// Met at `at`; `late_by` is zero or more (met on time: `early_by`).
    Met {
        at: DateTime<Utc>,
        early_by: Duration,
        late_by: Duration,
    },
    /// Cancelled, and why.
    Cancelled { by: CancelledBy },
    /// Not met, not yet due, the incident still being handled.
    Pending { left: Duration },
    /// Not met and due: overdue by `overdue_by`, counted to now or, when the incident
    /// `ended` (closed or merged), to its end.
    Missed { overdue_by: Duration, ended: bool },
    /// The incident ended `left` before the deadline was due, without meeting it.
    Unmet { left: Duration },
}

/// Why a deadline was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelledBy {
    /// A regrade made it moot (a 48-hour response once 5 hours apply).
    Regrade,
    /// Its incident was merged into this one.
    Merge(IncidentId),
    /// Its incident was dismissed as a false positive (误报).
    Dismissal,
}

impl CancelledBy {
    /// The name in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelledBy::Regrade => "regrade",
            CancelledBy::Merge(_) => "merge",
            CancelledBy::Dismissal => "dismissal",
        }
    }
}

impl DeadlineState {
    /// The name in JSON output: `met`, `cancelled`, `pending`, `missed` or `unmet`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineState::Met { .. } => "met",
            DeadlineState::Cancelled { .. } => "cancelled",
            DeadlineState::Pending { .. } => "pending",
            DeadlineState::Missed { .. } => "missed",
            DeadlineState::Unmet { .. } => "unmet",
        }
    }

    /// Seconds from the moment counted to (now, or the incident's end) to the deadline:
    /// negative when overdue; `None` when met or cancelled.
    pub fn seconds_left(self) -> Option<i64> {
        match self {
            DeadlineState::Pending { left } | DeadlineState::Unmet { left } => {
                Some(left.num_seconds())
            }
            DeadlineState::Missed { overdue_by, .. } => Some(-overdue_by.num_seconds()),
            DeadlineState::Met { .. } | DeadlineState::Cancelled { .. } => None,
        }
    }
}

/// What became of the page behind an item that was kept as evidence (issue 23 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceState {
    /// The page is there and its text is as captured.
    Online,
    /// Its text differs from the last capture; the new version was captured too.
    Changed,
    /// 404 or 410, or a notice page (该内容已被删除, 内容不存在 …).
    Deleted,
    /// The page could not be fetched (a timeout, a refused connection, a 5xx, a body over
    /// the cap): said apart from deleted, for a site down is not a post withdrawn.
    Unreachable,
}

impl EvidenceState {
    pub const ALL: [EvidenceState; 4] = [
        EvidenceState::Online,
        EvidenceState::Changed,
        EvidenceState::Deleted,
        EvidenceState::Unreachable,
    ];

    /// The name in the database and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceState::Online => "online",
            EvidenceState::Changed => "changed",
            EvidenceState::Deleted => "deleted",
            EvidenceState::Unreachable => "unreachable",
        }
    }

    /// The name people read.
    pub fn zh(self) -> &'static str {
        match self {
            EvidenceState::Online => "原帖在线",
            EvidenceState::Changed => "原帖已修改",
            EvidenceState::Deleted => "原帖已删除",
            EvidenceState::Unreachable => "原帖无法访问",
        }
    }
}

stored_by_name!(EvidenceState, "evidence state");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_are_listed_with_or_before_the_last() {
        assert_eq!(alternatives([]), "");
        assert_eq!(alternatives(["duty"]), "duty");
        assert_eq!(alternatives(["a", "b"]), "a or b");
        assert_eq!(
            alternatives(["negative", "neutral", "positive"]),
            "negative, neutral or positive"
        );
    }
}

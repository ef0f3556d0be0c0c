//! The statutory duties counted in working days, with the seed each comes from.
//!
//! Hours-based deadlines (5 hours, 24 hours, 48 hours) live in `deadline`; these are the
//! duties the regulations state in 工作日, so they need the official calendar. Keeping the
//! numbers in one enum means the obligation checks and the mail name them the same way.

use serde::Serialize;

/// A duty whose deadline is a number of working days (domain.md, "Response deadlines").
///
/// | duty | working days | source |
/// | --- | --- | --- |
/// | reply to netizen messages (市长信箱, 12345, 网上信访) | 5 | seed 003 二(三) |
/// | publicize an administrative penalty decision | 7 | seed 003 一(二) |
/// | publish policy interpretation material after the document | 3 | seed 002 item 8 |
/// | proactive disclosure after information is formed or changed | 20 | seed 001 六(二) |
/// | one-time notice to supplement a disclosure request | 7 | seed 001 依申请公开 二(三) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Obligation {
    /// 网民留言答复: "答复期限不得超过5个工作日" (seed 003 二(三)).
    NetizenMessageReply,
    /// 行政处罚决定公示: "在作出行政处罚决定的7个工作日内进行公示" (seed 003 一(二)).
    PenaltyDecisionPublicity,
    /// 政策解读: "于文件公开后3个工作日内在部门户网站发布" (seed 002 item 8). Seed 004 一(二)
    /// asks for the same month; the 3 working days are the stricter rule.
    PolicyInterpretation,
    /// 主动公开: within 20 working days of the information being formed or changed (seed 001
    /// 六(二)).
    ProactiveDisclosure,
    /// 依申请公开补正告知: "自收到申请之日起7个工作日内一次性告知" (seed 001 依申请公开 二(三)).
    DisclosureSupplementNotice,
}

impl Obligation {
    /// Every obligation, for listings and tests.
    pub const ALL: [Obligation; 5] = [
        Obligation::NetizenMessageReply,
        Obligation::PenaltyDecisionPublicity,
        Obligation::PolicyInterpretation,
        Obligation::ProactiveDisclosure,
        Obligation::DisclosureSupplementNotice,
    ];

    /// The number of working days the regulation allows.
    pub fn working_days(self) -> u32 {
        match self {
            Obligation::NetizenMessageReply => 5,
            Obligation::PenaltyDecisionPublicity => 7,
            Obligation::PolicyInterpretation => 3,
            Obligation::ProactiveDisclosure => 20,
            Obligation::DisclosureSupplementNotice => 7,
        }
    }

    /// The name used in watchlists (`obligation = "…"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Obligation::NetizenMessageReply => "netizen_message_reply",
            Obligation::PenaltyDecisionPublicity => "penalty_decision_publicity",
            Obligation::PolicyInterpretation => "policy_interpretation",
            Obligation::ProactiveDisclosure => "proactive_disclosure",
            Obligation::DisclosureSupplementNotice => "disclosure_supplement_notice",
        }
    }

    /// The duty in the words mail uses.
    pub fn zh(self) -> &'static str {
        match self {
            Obligation::NetizenMessageReply => "网民留言答复",
            Obligation::PenaltyDecisionPublicity => "行政处罚决定公示",
            Obligation::PolicyInterpretation => "政策解读材料发布",
            Obligation::ProactiveDisclosure => "政府信息主动公开",
            Obligation::DisclosureSupplementNotice => "依申请公开一次性补正告知",
        }
    }
}

impl std::str::FromStr for Obligation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Obligation::ALL
            .into_iter()
            .find(|o| o.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Obligation::ALL.iter().map(|o| o.as_str()).collect();
                format!(
                    "unknown obligation `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_match_the_seeds() {
        let table = [
            (Obligation::NetizenMessageReply, 5, "网民留言答复"),
            (Obligation::PenaltyDecisionPublicity, 7, "行政处罚决定公示"),
            (Obligation::PolicyInterpretation, 3, "政策解读材料发布"),
            (Obligation::ProactiveDisclosure, 20, "政府信息主动公开"),
            (
                Obligation::DisclosureSupplementNotice,
                7,
                "依申请公开一次性补正告知",
            ),
        ];
        assert_eq!(table.len(), Obligation::ALL.len());
        for (o, days, zh) in table {
            assert_eq!(o.working_days(), days, "{o:?}");
            assert_eq!(o.zh(), zh, "{o:?}");
            assert_eq!(o.as_str().parse::<Obligation>(), Ok(o));
        }
    }
}

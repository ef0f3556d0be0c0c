//! The four grades of Chinese emergency management, and what each one obliges.
//!
//! Only 特别重大 (I) and 重大 (II) carry the 5-hour release and 24-hour press-conference
//! deadlines (domain.md, "Response deadlines"); every other incident is answered within the
//! ordinary response time.

use crate::vocab::state::alternatives;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Severity of an incident or of a watchlist topic, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 一般 (IV)
    Ordinary,
    /// 较大 (III)
    Large,
    /// 重大 (II)
    Major,
    /// 特别重大 (I)
    EspeciallyMajor,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Ordinary,
        Severity::Large,
        Severity::Major,
        Severity::EspeciallyMajor,
    ];

    /// The name used in config files, the database and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ordinary => "ordinary",
            Severity::Large => "large",
            Severity::Major => "major",
            Severity::EspeciallyMajor => "especially_major",
        }
    }

    /// The Chinese name used in mail and reports.
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Ordinary => "一般",
            Severity::Large => "较大",
            Severity::Major => "重大",
            Severity::EspeciallyMajor => "特别重大",
        }
    }

    /// 特别重大 and 重大 carry the release and press-conference deadlines.
    pub fn is_major(self) -> bool {
        self >= Severity::Major
    }

    /// One level up, saturating at 特别重大.
    pub fn raised(self) -> Severity {
        match self {
            Severity::Ordinary => Severity::Large,
            Severity::Large => Severity::Major,
            Severity::Major | Severity::EspeciallyMajor => Severity::EspeciallyMajor,
        }
    }
}

crate::vocab::state::shown_by_name!(Severity);

/// A name that is no severity's; the message offers the names, most severe first.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown severity `{0}`: expected {expected}",
    expected = alternatives(Severity::ALL.map(Severity::as_str).into_iter().rev())
)]
pub struct UnknownSeverity(pub String);

/// A severity by its name (`major`) or its Chinese name (`重大`).
impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|x| x.as_str() == s || x.zh() == s)
            .ok_or_else(|| UnknownSeverity(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names() {
        assert!(Severity::EspeciallyMajor > Severity::Major);
        assert!(Severity::Major.is_major() && !Severity::Large.is_major());
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
            assert_eq!(s.zh().parse::<Severity>().unwrap(), s);
        }
        assert_eq!(
            "severe".parse::<Severity>().unwrap_err().to_string(),
            "unknown severity `severe`: expected especially_major, major, large or ordinary"
        );
    }
}

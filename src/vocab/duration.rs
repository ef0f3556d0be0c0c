//! Durations as operators write them in config: `"90s"`, `"15m"`, `"5h"`, `"2d"`, or a sum
//! such as `"1h30m"`.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;

/// A non-negative span of time parsed once from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub std::time::Duration);

impl Span {
    pub fn from_secs(secs: u64) -> Self {
        Span(std::time::Duration::from_secs(secs))
    }
    pub fn as_secs(self) -> u64 {
        self.0.as_secs()
    }
    pub fn std(self) -> std::time::Duration {
        self.0
    }
    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "invalid duration `{0}`: write a number and a unit, like \"90s\", \"15m\", \"5h\" or \"2d\""
)]
pub struct InvalidSpan(pub String);

impl FromStr for Span {
    type Err = InvalidSpan;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || InvalidSpan(s.to_string());
        let t = s.trim();
        if t.is_empty() {
            return Err(err());
        }
        // Milliseconds, so that tests and the demo can run deadlines of seconds on a tick
        // of a fraction of one.
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit = match c {
                'm' if chars.peek() == Some(&'s') => {
                    chars.next();
                    1
                }
                's' => 1000,
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                'w' => 7 * 86_400_000,
                _ => return Err(err()),
            };
            let n: u64 = digits.parse().map_err(|_| err())?;
            digits.clear();
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(err)?;
        }
        if !digits.is_empty() {
            return Err(err());
        }
        Ok(Span(std::time::Duration::from_millis(total)))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0.as_millis();
        if s == 0 {
            return f.write_str("0s");
        }
        for (unit, len) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ] {
            if s >= len {
                write!(f, "{}{}", s / len, unit)?;
                s %= len;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operator_durations() {
        for (text, secs) in [
            ("90s", 90),
            ("15m", 900),
            ("5h", 18_000),
            ("2d", 172_800),
            ("1h30m", 5400),
            ("1w", 604_800),
            ("1m30s", 90),
        ] {
            assert_eq!(text.parse::<Span>().unwrap().as_secs(), secs, "{text}");
        }
        for bad in ["", "5", "h", "5x", "-5m", "5 h", "99999999999999999999d"] {
            assert!(bad.parse::<Span>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn milliseconds_for_short_ticks() {
        assert_eq!(
            "200ms".parse::<Span>().unwrap().std(),
            std::time::Duration::from_millis(200)
        );
        assert_eq!(
            "1s500ms".parse::<Span>().unwrap().std(),
            std::time::Duration::from_millis(1500)
        );
        assert_eq!(
            Span(std::time::Duration::from_millis(1500)).to_string(),
            "1s500ms"
        );
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Span::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Span::from_secs(86_400).to_string(), "1d");
    }
}

//! How often to poll a source whose `every = "auto"` (issue 24 §5): more often while it
//! publishes often, less while it is quiet, always between its `every_min` and `every_max`.
//!
//! Each new item waits for the next poll, on average half an interval. With a budget of
//! requests to share, the total wait `Σ λᵢ·Iᵢ/2` under `Σ 1/Iᵢ = B` is smallest when each
//! source's interval `Iᵢ` goes as `1/√λᵢ` (a Lagrange multiplier: `λᵢ/2 = μ/Iᵢ²`), not as
//! `1/λᵢ`: polling a source as often as it publishes spends on the busiest sources what
//! the middling ones need. The scale is set by `every_min`: the interval is the geometric
//! mean of `every_min` and the source's mean gap between items, `√(every_min × gap)`, so a
//! source that publishes once per `every_min` or faster is polled every `every_min`, one
//! that publishes a hundred times less often every ten `every_min`, and one that is silent
//! every `every_max`.
//!
//! The rate is the largest of the last quarter hour's, the last hour's and the last day's,
//! so a quiet source that starts publishing (a story breaking on a forum) is polled faster
//! from its next poll on, and one that was busy yesterday slows down only as the day's
//! count falls.
//!
//! What it buys is measured by `cargo bench --bench cadence` (docs/bench-cadence.md): for
//! the same number of requests as a fixed interval, a far lower median lag and a breaking
//! story's items heard sooner; the 95th percentile over every item gains least, because the
//! quiet sources' items wait longest and a quiet source cannot be predicted.

use crate::vocab::duration::Span;

/// How many items a source first carried in the last quarter hour, hour and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recent {
    pub quarter: u64,
    pub hour: u64,
    pub day: u64,
}

/// `every = "auto"` with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auto {
    pub min: Span,
    pub max: Span,
}

impl Auto {
    /// The default bounds: two minutes while busy, half an hour while quiet.
    pub const DEFAULT_MIN_S: u64 = 120;
    pub const DEFAULT_MAX_S: u64 = 1_800;

    /// Seconds until the next poll, given how many items the source first carried in the
    /// last quarter hour, hour and day.
    pub fn interval(&self, seen: Recent) -> u64 {
        let (min, max) = (self.min.as_secs().max(1), self.max.as_secs().max(1));
        let per_s = (seen.quarter as f64 / 900.0)
            .max(seen.hour as f64 / 3_600.0)
            .max(seen.day as f64 / 86_400.0);
        if per_s <= 0.0 {
            return max;
        }
        let gap = 1.0 / per_s;
        ((min as f64 * gap).sqrt().round() as u64).clamp(min.min(max), max)
    }

    /// The fewest and the most requests per hour it can make.
    pub fn requests_per_hour(&self) -> (f64, f64) {
        (
            3_600.0 / self.max.as_secs().max(1) as f64,
            3_600.0 / self.min.as_secs().max(1) as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(min: u64, max: u64) -> Auto {
        Auto {
            min: Span::from_secs(min),
            max: Span::from_secs(max),
        }
    }

    fn seen(quarter: u64, hour: u64, day: u64) -> Recent {
        Recent { quarter, hour, day }
    }

    #[test]
    fn a_silent_source_is_polled_at_the_longest() {
        assert_eq!(auto(120, 3_600).interval(seen(0, 0, 0)), 3_600);
    }

    #[test]
    fn the_interval_is_the_geometric_mean_of_every_min_and_the_gap() {
        let a = auto(120, 3_600);
        // 30 an hour: a gap of 120 s, polled every 120 s.
        assert_eq!(a.interval(seen(7, 30, 30)), 120);
        // 3 an hour: a gap of 1,200 s, √(120 × 1,200) ≈ 379 s.
        assert_eq!(a.interval(seen(0, 3, 3)), 379);
        // 48 a day and none in the last hour: a gap of 1,800 s, √(120 × 1,800) ≈ 465 s.
        assert_eq!(a.interval(seen(0, 0, 48)), 465);
        // Busier than every_min: never faster than every_min.
        assert_eq!(a.interval(seen(150, 600, 600)), 120);
        // Two a day: √(120 × 43,200) ≈ 2,277 s.
        assert_eq!(a.interval(seen(0, 0, 2)), 2_277);
        // One a week's worth: capped at every_max.
        assert_eq!(auto(120, 1_800).interval(seen(0, 0, 1)), 1_800);
    }

    #[test]
    fn a_burst_in_the_last_hour_speeds_a_quiet_source_up_at_once() {
        let a = auto(120, 3_600);
        let quiet = a.interval(seen(0, 0, 2));
        let breaking = a.interval(seen(0, 12, 14));
        assert!(breaking * 4 < quiet, "{breaking} vs {quiet}");
        // One new item in the last quarter hour: a gap of 900 s, √(120 × 900) ≈ 329 s, so
        // the rest of a story is not left for the day's rate.
        assert_eq!(a.interval(seen(1, 1, 3)), 329);
    }

    #[test]
    fn bounds_give_the_request_range() {
        assert_eq!(auto(120, 3_600).requests_per_hour(), (1.0, 30.0));
    }
}

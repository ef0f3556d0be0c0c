//! How late a source is heard: the statutory clock starts when a report is published, not
//! when yuqing first sees it, so a source that is usually three hours late leaves the duty
//! officer two of the five. For each item with a publication time, its lag is the time it
//! was first seen minus that publication (a publication "after" it was seen, a site's
//! wrong clock or zone, counts as no lag).

use serde::Serialize;

/// The window a source's lag is read over (`yuqing sources`, the console, `max_lag`).
pub const WINDOW_S: i64 = 7 * 86_400;

/// A source's lag over a window: the median, the 95th percentile and how many items
/// carried a publication time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lag {
    pub p50_s: i64,
    pub p95_s: i64,
    pub n: usize,
}

impl Lag {
    /// The lag of these samples (seconds seen after publication); `None` without any.
    /// Percentiles by the nearest rank, so every figure is the lag of a real item.
    pub fn of(mut samples: Vec<i64>) -> Option<Lag> {
        if samples.is_empty() {
            return None;
        }
        for s in &mut samples {
            *s = (*s).max(0);
        }
        samples.sort_unstable();
        let rank = |p: usize| {
            let k = (p * samples.len()).div_ceil(100).max(1);
            samples[k - 1]
        };
        Some(Lag {
            p50_s: rank(50),
            p95_s: rank(95),
            n: samples.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank_and_negative_lag_as_none() {
        assert_eq!(Lag::of(vec![]), None);
        assert_eq!(
            Lag::of(vec![60]),
            Some(Lag {
                p50_s: 60,
                p95_s: 60,
                n: 1
            })
        );
        // 1..=100 minutes: the 50th and the 95th.
        let l = Lag::of((1..=100).rev().map(|m| m * 60).collect()).unwrap();
        assert_eq!((l.p50_s, l.p95_s, l.n), (50 * 60, 95 * 60, 100));
        // A publication time after the item was seen counts as no lag.
        let l = Lag::of(vec![-3600, 120, 180]).unwrap();
        assert_eq!((l.p50_s, l.p95_s), (120, 180));
    }
}

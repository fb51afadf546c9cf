//! Robust summaries of timing samples: median, median absolute deviation, quartiles.
//!
//! Timings on a shared machine have a floor (the kernel's real cost) and a long tail
//! (interrupts, other tenants, frequency changes). The median ignores the tail and the MAD
//! measures the spread without being dragged by it; a mean and a standard deviation would be
//! dominated by the one run that met a noisy neighbour.

use serde::{Deserialize, Serialize};

/// The summary of one kernel's timed runs, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// How many runs were timed.
    pub runs: usize,
    /// The median run.
    pub median_s: f64,
    /// Median absolute deviation from the median (not rescaled to a standard deviation).
    pub mad_s: f64,
    /// First quartile (linear interpolation between order statistics).
    pub q1_s: f64,
    /// Third quartile.
    pub q3_s: f64,
    /// The fastest run.
    pub min_s: f64,
    /// The slowest run.
    pub max_s: f64,
}

impl Summary {
    // ANCHOR: summary-of
    /// Summarises `samples`; `None` when there are none (or any is not a finite number).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = quantile(&sorted, 0.5);
        let mut deviations: Vec<f64> = sorted.iter().map(|s| (s - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        Some(Summary {
            runs: sorted.len(),
            median_s: median,
            mad_s: quantile(&deviations, 0.5),
            q1_s: quantile(&sorted, 0.25),
            q3_s: quantile(&sorted, 0.75),
            min_s: sorted[0],
            max_s: sorted[sorted.len() - 1],
        })
    }
    // ANCHOR_END: summary-of

    /// The MAD as a fraction of the median: 0.01 means runs typically sit within 1%.
    pub fn relative_spread(&self) -> f64 {
        if self.median_s > 0.0 {
            self.mad_s / self.median_s
        } else {
            0.0
        }
    }
}

// ANCHOR: quantile
/// The `q`-quantile of sorted, non-empty data, interpolating linearly between neighbours
/// (the definition numpy uses by default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}
// ANCHOR_END: quantile

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_mad_and_quartiles_of_odd_and_even_counts() {
        let s = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.runs, s.median_s, s.min_s, s.max_s), (5, 3.0, 1.0, 5.0));
        assert_eq!((s.q1_s, s.q3_s), (2.0, 4.0));
        // |x - 3| = 2, 0, 1, 1, 2 → median 1.
        assert_eq!(s.mad_s, 1.0);
        let s = Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median_s, 2.5);
        assert_eq!((s.q1_s, s.q3_s), (1.75, 3.25));
        assert_eq!(s.mad_s, 1.0);
    }

    // ANCHOR: one-outlier
    #[test]
    fn one_outlier_moves_neither_the_median_nor_the_mad_much() {
        let calm = Summary::of(&[1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00]).unwrap();
        let noisy = Summary::of(&[1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 9.00]).unwrap();
        assert_eq!(calm.median_s, noisy.median_s);
        assert!(noisy.mad_s <= 0.02 && noisy.relative_spread() < 0.03, "{noisy:?}");
        assert_eq!(noisy.max_s, 9.0);
    }
    // ANCHOR_END: one-outlier

    #[test]
    fn nothing_to_summarise() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
        let one = Summary::of(&[0.25]).unwrap();
        assert_eq!((one.median_s, one.mad_s, one.q1_s, one.q3_s), (0.25, 0.0, 0.25, 0.25));
        assert_eq!(Summary::of(&[0.0]).unwrap().relative_spread(), 0.0);
    }
}

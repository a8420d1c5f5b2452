//! What the benchmarks report of their timings.

use std::time::Duration;

/// The `percent`th percentile of `durations` (not empty).
pub fn percentile(mut durations: Vec<Duration>, percent: usize) -> Duration {
    durations.sort();
    let index = (durations.len() * percent / 100).min(durations.len().saturating_sub(1));
    durations[index]
}

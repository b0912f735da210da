//! Percentiles of measured latencies, the same way for every benchmark.

use std::time::Duration;

/// The value at `quantile` (0..=1) of ascending `sorted` by nearest rank, in
/// milliseconds; 0 when there is none.
pub fn quantile_ms(sorted: &[Duration], quantile: f64) -> f64 {
    debug_assert!((0.0..=1.0).contains(&quantile));
    debug_assert!(sorted.is_sorted());
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let rank = ((sorted.len() as f64 * quantile).ceil() as usize).clamp(1, last + 1);
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let sorted: Vec<_> = (1..=10).map(Duration::from_millis).collect();
        assert!((quantile_ms(&sorted, 0.5) - 5.0).abs() < 1e-9);
        assert!((quantile_ms(&sorted, 0.99) - 10.0).abs() < 1e-9);
        assert!((quantile_ms(&sorted, 0.0) - 1.0).abs() < 1e-9);
        assert!(quantile_ms(&[], 0.5).abs() < f64::EPSILON);
    }
}

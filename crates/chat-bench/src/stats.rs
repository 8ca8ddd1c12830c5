//! Percentiles over recorded samples.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// `[quantile, ms]` pairs for a latency-distribution chart.
    pub spectrum: Vec<[f64; 2]>,
}

/// The quantiles a distribution chart plots.
const SPECTRUM: [f64; 13] = [
    0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
];

/// Summarises samples given in microseconds.
pub fn summarize(mut micros: Vec<u64>) -> Summary {
    if micros.is_empty() {
        return Summary::default();
    }
    micros.sort_unstable();
    let at = |q: f64| {
        let idx = ((micros.len() as f64 - 1.0) * q).round() as usize;
        micros[idx.min(micros.len() - 1)] as f64 / 1000.0
    };
    Summary {
        count: micros.len(),
        p50_ms: at(0.50),
        p90_ms: at(0.90),
        p99_ms: at(0.99),
        p999_ms: at(0.999),
        max_ms: micros[micros.len() - 1] as f64 / 1000.0,
        spectrum: SPECTRUM.iter().map(|&q| [q, at(q)]).collect(),
    }
}

impl Summary {
    pub fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            self.count, self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms
        )
    }
}

pub const HEADER: &str = "| latency | samples | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n| --- | --- | --- | --- | --- | --- | --- |";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let s = summarize((1..=1000).map(|x| x * 1000).collect());
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (501.0, 990.0, 1000.0));
        assert_eq!(summarize(vec![]).count, 0);
        assert_eq!(s.spectrum.first(), Some(&[0.0, 1.0]));
        assert_eq!(s.spectrum.last(), Some(&[1.0, 1000.0]));
    }
}

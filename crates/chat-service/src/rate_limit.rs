//! A small sliding-window counter of failures per key, for login throttling.
//!
//! An attempt is counted before the slow password check and forgiven only
//! when it succeeds ([`FailureLimiter::attempt`]), so parallel attempts
//! cannot all slip past the check while the first ones are still hashing.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Beyond this many tracked keys the oldest windows are dropped, so a flood
/// of random keys cannot grow memory without bound.
const MAX_KEYS: usize = 100_000;

impl FailureLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt in the same step as the check: `Err(wait)` when the
    /// key's window is full. Forgive the attempt once it has succeeded.
    pub fn attempt(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = map.get_mut(key) {
            while q
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                q.pop_front();
            }
            if q.len() >= self.max_failures {
                let wait = q.front().map_or(self.window, |oldest| {
                    self.window.saturating_sub(now.duration_since(*oldest))
                });
                return Err(wait.max(Duration::from_secs(1)));
            }
        }
        Self::push(&mut map, self.window, key, now);
        Ok(())
    }

    /// Takes back the newest attempt of the key (it was not a failure).
    pub fn forgive(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = map.get_mut(key) {
            q.pop_back();
        }
    }

    fn push(
        map: &mut HashMap<String, VecDeque<Instant>>,
        window: Duration,
        key: &str,
        now: Instant,
    ) {
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        map.entry(key.to_owned()).or_default().push_back(now);
    }

    pub fn reset(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_before_they_are_checked_and_successes_forgiven() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(limiter.attempt("k", t0), Ok(()));
        assert_eq!(limiter.attempt("k", t0), Ok(()));
        assert!(limiter.attempt("k", t0).is_err());
        limiter.forgive("k");
        assert_eq!(limiter.attempt("k", t0), Ok(()));
        assert_eq!(limiter.attempt("k", t0 + Duration::from_secs(61)), Ok(()));
    }
}

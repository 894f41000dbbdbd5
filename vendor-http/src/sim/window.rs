//! Exact sliding-window enforcement of a vendor's rate limits, per API key.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::limit::{LimitSet, RateLimits};

/// Counts requests per key in every window of every limit and refuses the ones over.
///
/// A request is refused when any limit `(n, W)` of its sets already saw `n` admitted
/// requests in the last `W`; refused requests are not counted.
#[derive(Debug)]
pub struct WindowEnforcer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limits: RateLimits,
    // (key, set name) -> admission instants within the set's longest window.
    logs: HashMap<(String, String), VecDeque<Instant>>,
    refused: u64,
}

const GENERAL_SET: &str = "";

impl WindowEnforcer {
    /// Enforce `limits`.
    pub fn new(limits: RateLimits) -> Self {
        WindowEnforcer {
            state: Mutex::new(State {
                limits,
                logs: HashMap::new(),
                refused: 0,
            }),
        }
    }

    /// Replace the limits (counts so far are kept).
    pub fn set_limits(&self, limits: RateLimits) {
        self.lock().limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> RateLimits {
        self.lock().limits.clone()
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    /// Admit a request for `key` in `bucket` now, or say how long until it would be.
    pub fn admit(&self, key: &str, bucket: &str) -> Option<Duration> {
        self.admit_at(key, bucket, Instant::now())
    }

    /// [`admit`](Self::admit) at a given instant (for tests).
    pub fn admit_at(&self, key: &str, bucket: &str, now: Instant) -> Option<Duration> {
        let mut s = self.lock();
        let mut sets: Vec<(String, LimitSet)> =
            vec![(GENERAL_SET.to_string(), s.limits.general.clone())];
        if let Some(b) = s.limits.buckets.get(bucket) {
            sets.push((bucket.to_string(), b.clone()));
        }
        let mut wait = Duration::ZERO;
        for (name, set) in &sets {
            let log = s.logs.entry((key.to_string(), name.clone())).or_default();
            let longest = set.limits.iter().map(|l| l.per).max().unwrap_or_default();
            while log
                .front()
                .is_some_and(|t| now.duration_since(*t) >= longest)
            {
                log.pop_front();
            }
            for l in &set.limits {
                let in_window: Vec<&Instant> = log
                    .iter()
                    .filter(|t| now.duration_since(**t) < l.per)
                    .collect();
                if in_window.len() >= l.max as usize {
                    // The oldest request of the last `max` leaves the window first.
                    let oldest = in_window[in_window.len() - l.max as usize];
                    wait = wait.max(l.per - now.duration_since(*oldest));
                }
            }
        }
        if !wait.is_zero() {
            s.refused += 1;
            return Some(wait);
        }
        for (name, _) in sets {
            s.logs
                .entry((key.to_string(), name))
                .or_default()
                .push_back(now);
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::Limit;

    #[test]
    fn every_window_is_enforced_per_key() {
        let e = WindowEnforcer::new(
            RateLimits::new(LimitSet::new([Limit::per_second(5), Limit::per_minute(8)]))
                .with_bucket(
                    "avail",
                    LimitSet::new([Limit::new(2, Duration::from_secs(1800))]),
                ),
        );
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        for i in 0..5 {
            assert_eq!(e.admit_at("k", "general", at(i)), None);
        }
        // Sixth in the same second: refused until the first leaves the window.
        assert_eq!(
            e.admit_at("k", "general", at(10)),
            Some(Duration::from_millis(990))
        );
        // Another key has its own budget.
        assert_eq!(e.admit_at("other", "general", at(10)), None);
        for i in 0..3 {
            assert_eq!(e.admit_at("k", "general", at(1000 + i)), None);
        }
        // Eight in the minute now.
        assert!(e.admit_at("k", "general", at(2500)).unwrap() > Duration::from_secs(57));
        // Bucket limits stack on the general ones.
        assert_eq!(e.admit_at("k2", "avail", at(0)), None);
        assert_eq!(e.admit_at("k2", "avail", at(300)), None);
        assert!(e.admit_at("k2", "avail", at(600)).unwrap() > Duration::from_secs(1790));
        assert_eq!(e.admit_at("k2", "general", at(600)), None);
        assert_eq!(e.refused(), 3);
    }
}

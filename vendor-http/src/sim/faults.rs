//! Fault injection: scripted ("the next N calls to this route fail like this") and random
//! (a seeded chaos rate over every route).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// One way a simulated call can go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the vendor's error body; nothing is applied.
    Status(u16),
    /// Answer 429 with `Retry-After: retry_after_secs`; nothing is applied.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// Hold the response longer than the client waits; nothing is applied.
    Timeout,
    /// Close the connection in the middle of the response; nothing is applied.
    Drop,
    /// Apply the request, then answer with a truncated, invalid JSON body.
    Malformed,
    /// Answer HTTP 200 with an error status inside the body; nothing is applied.
    ErrorIn200(u16),
    /// Apply the request, then lose the answer: the case that makes blind retries spend
    /// money twice.
    ApplyThen(AfterApply),
}

/// How the answer is lost after a request was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterApply {
    /// An error status (e.g. 500 or 502).
    Status(u16),
    /// The response never comes.
    Timeout,
    /// The connection drops mid-response.
    Drop,
}

/// Random faults on every route, reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Chaos {
    /// Probability that a call fails (0.0 to 1.0).
    pub probability: f64,
    /// The faults to pick from, uniformly.
    pub faults: Vec<Fault>,
    /// Routes never touched by chaos (e.g. ones a test reads to check state).
    pub exempt_routes: Vec<String>,
}

/// The fault schedule of one simulator.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    scripted: BTreeMap<String, VecDeque<Fault>>,
    chaos: Option<(Chaos, fastrand::Rng)>,
    injected: u64,
}

/// Route pattern matching every route in [`Faults::inject`].
pub const ANY_ROUTE: &str = "*";

impl Faults {
    /// The next `times` calls to `route` (a route key like `"POST /v2/domains/buy"`, or
    /// [`ANY_ROUTE`]) fail with `fault`. Scripted faults queue up in order.
    pub fn inject(&self, route: &str, fault: Fault, times: usize) {
        let mut s = self.lock();
        let q = s.scripted.entry(route.to_string()).or_default();
        q.extend(std::iter::repeat_n(fault, times));
    }

    /// Fail calls at random with `chaos`, seeded for reproducibility; `None` switches it off.
    pub fn set_chaos(&self, chaos: Option<Chaos>, seed: u64) {
        self.lock().chaos = chaos.map(|c| (c, fastrand::Rng::with_seed(seed)));
    }

    /// Remove every scripted fault and the chaos setting.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.scripted.clear();
        s.chaos = None;
    }

    /// Scripted faults not yet used, over all routes.
    pub fn pending(&self) -> usize {
        self.lock().scripted.values().map(VecDeque::len).sum()
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// The fault due for a call to `route`, if any (consumes it).
    pub fn take(&self, route: &str) -> Option<Fault> {
        let mut s = self.lock();
        let fault = s
            .scripted
            .get_mut(route)
            .and_then(VecDeque::pop_front)
            .or_else(|| s.scripted.get_mut(ANY_ROUTE).and_then(VecDeque::pop_front))
            .or_else(|| {
                let (chaos, rng) = s.chaos.as_mut()?;
                if chaos.faults.is_empty() || chaos.exempt_routes.iter().any(|r| r == route) {
                    return None;
                }
                (rng.f64() < chaos.probability)
                    .then(|| chaos.faults[rng.usize(..chaos.faults.len())].clone())
            });
        if fault.is_some() {
            s.injected += 1;
        }
        fault
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_are_used_in_order_then_run_out() {
        let f = Faults::default();
        f.inject("GET /a", Fault::Status(500), 2);
        f.inject("GET /a", Fault::Timeout, 1);
        f.inject(ANY_ROUTE, Fault::Drop, 1);
        assert_eq!(f.pending(), 4);
        assert_eq!(f.take("GET /a"), Some(Fault::Status(500)));
        assert_eq!(f.take("GET /b"), Some(Fault::Drop));
        assert_eq!(f.take("GET /a"), Some(Fault::Status(500)));
        assert_eq!(f.take("GET /a"), Some(Fault::Timeout));
        assert_eq!(f.take("GET /a"), None);
        assert_eq!(f.injected(), 4);
    }

    #[test]
    fn chaos_is_seeded_and_respects_exemptions() {
        let run = |seed| {
            let f = Faults::default();
            f.set_chaos(
                Some(Chaos {
                    probability: 0.3,
                    faults: vec![Fault::Status(502), Fault::Drop],
                    exempt_routes: vec!["GET /safe".into()],
                }),
                seed,
            );
            let hits: Vec<bool> = (0..200).map(|_| f.take("GET /x").is_some()).collect();
            assert!((0..50).all(|_| f.take("GET /safe").is_none()));
            hits
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let n = a.iter().filter(|h| **h).count();
        assert!((30..90).contains(&n), "{n}");
    }
}

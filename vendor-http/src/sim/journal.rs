//! The request journal: every call a simulator received, for tests to query.

use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

use super::SimRequest;

/// One request and what became of it.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// Order of arrival (0-based).
    pub seq: u64,
    /// When it arrived.
    pub at: Instant,
    /// Method, upper-case.
    pub method: String,
    /// Path relative to the base path.
    pub path: String,
    /// Route key (`""` for unknown routes).
    pub route: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// JSON body (`Null` when none).
    pub body: Value,
    /// Status answered (`0` when the answer was lost: timeout or dropped connection).
    pub status: u16,
    /// Whether the simulator applied the request to its state.
    pub applied: bool,
    /// Answered 429 by the rate-limit enforcement.
    pub rate_limited: bool,
    /// The injected fault, if any.
    pub fault: Option<String>,
}

impl JournalEntry {
    pub(crate) fn new(req: &SimRequest) -> Self {
        JournalEntry {
            seq: 0,
            at: Instant::now(),
            method: req.method.clone(),
            path: req.path.clone(),
            route: String::new(),
            query: req.query.clone(),
            body: req.body.clone(),
            status: 0,
            applied: false,
            rate_limited: false,
            fault: None,
        }
    }
}

/// Every request a simulator received, in order.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<Vec<JournalEntry>>,
}

impl Journal {
    pub(crate) fn push(&self, mut entry: JournalEntry) {
        let mut e = self.lock();
        entry.seq = e.len() as u64;
        e.push(entry);
    }

    /// A copy of every entry.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().clone()
    }

    /// Entries for `route` (a route key like `"POST /v2/domains/buy"`).
    pub fn for_route(&self, route: &str) -> Vec<JournalEntry> {
        self.lock()
            .iter()
            .filter(|e| e.route == route)
            .cloned()
            .collect()
    }

    /// Requests received for `route`, whatever their outcome.
    pub fn count(&self, route: &str) -> usize {
        self.lock().iter().filter(|e| e.route == route).count()
    }

    /// Requests for `route` that the simulator applied to its state.
    pub fn applied(&self, route: &str) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.route == route && e.applied)
            .count()
    }

    /// Entries matching a predicate.
    pub fn count_where(&self, pred: impl Fn(&JournalEntry) -> bool) -> usize {
        self.lock().iter().filter(|e| pred(e)).count()
    }

    /// Requests answered 429 by rate-limit enforcement (injected 429s not included).
    pub fn rate_limited(&self) -> usize {
        self.lock().iter().filter(|e| e.rate_limited).count()
    }

    /// Total requests received.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no request was received.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forget every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JournalEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

//! Proactive rate limiting: every attempt (retries included) waits for a slot first.
//!
//! Vendors document several limits at once (Zapmail: 5 per second **and** 200 per minute,
//! plus 100 availability queries per 30 minutes). Two in-process limiters keep them all:
//!
//! - [`WindowLimiter`], every client's default, admits a request at the earliest instant
//!   every window still holds, and counts it from its admission **until its answer
//!   arrives** (the [`Permit`] the caller drops), then for a window after that. The
//!   vendor counts a request on arrival, which lies between the two, so no delay on the
//!   way can draw a 429, and no margin is needed. A bucket's request counts in the
//!   bucket's windows from its bucket slot to its answer, which covers its general wait.
//! - [`GovernorLimiter`]: one GCRA quota per limit set. A quota with emission interval `T`
//!   and burst `b` lets through at most `b + ceil(W / T) - 1` requests in any window of
//!   length `W` (half-open), so it satisfies *every* limit `(n, W)` of a set when
//!   `T >= W / (n - b + 1)`. [`quota_for`] picks the smallest such `T` for the set's
//!   burst, widened by [`RateLimits::margin`], which absorbs the jitter between our clock
//!   and the vendor's. It must pace at the tightest long window's rate from the first
//!   request (Zapmail: 3.3/s). Buckets are taken first, then the general quota, not
//!   atomically, so a bucket's quota is derived from `n - 1` to leave room for the one
//!   request a delay in the general limiter can shift into the next window.
//!
//! A 429 pushes a shared "blocked until" gate forward: every caller using the limiter
//! waits for it before asking for a slot.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Governor};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The bucket every request counts against.
pub const GENERAL: &str = "general";

/// One documented limit: at most `max` requests in any window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub max: u32,
    /// Window length.
    pub per: Duration,
}

impl Limit {
    /// `max` requests per `per`.
    pub const fn new(max: u32, per: Duration) -> Self {
        Limit { max, per }
    }
    /// `max` requests per second.
    pub const fn per_second(max: u32) -> Self {
        Limit::new(max, Duration::from_secs(1))
    }
    /// `max` requests per minute.
    pub const fn per_minute(max: u32) -> Self {
        Limit::new(max, Duration::from_secs(60))
    }
}

/// Limits that must all hold at once, plus the burst the caller wants.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LimitSet {
    /// Every window limit of this set.
    pub limits: Vec<Limit>,
    /// Requests that may go out back to back before spacing starts, for the GCRA limiters
    /// ([`GovernorLimiter`], the PostgreSQL one). `None` picks the largest burst that keeps
    /// at least 97.5% of the best sustained rate. A larger burst costs sustained throughput
    /// (see the module docs). [`WindowLimiter`] needs no burst setting: it admits up to
    /// every window's limit as the vendor counts them.
    pub burst: Option<u32>,
}

impl LimitSet {
    /// A set of limits with the automatic burst.
    pub fn new(limits: impl IntoIterator<Item = Limit>) -> Self {
        LimitSet {
            limits: limits.into_iter().collect(),
            burst: None,
        }
    }

    /// The same set with an explicit burst.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// The most requests per second this set allows over a long run.
    pub fn sustained_rate(&self) -> Option<f64> {
        self.limits
            .iter()
            .map(|l| f64::from(l.max) / l.per.as_secs_f64())
            .min_by(f64::total_cmp)
    }
}

/// Every limit a vendor key is subject to: the general set, and extra per-bucket sets that
/// apply on top of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// Limits on every request.
    pub general: LimitSet,
    /// Extra limits for named buckets (e.g. `"domain-availability"`), on top of `general`.
    pub buckets: BTreeMap<String, LimitSet>,
    /// Fraction by which every window is widened (default 0.02) by limiters that count a
    /// request at its admission ([`GovernorLimiter`], the PostgreSQL limiter): a spacing
    /// that is exact on our clock can arrive compressed at the vendor. [`WindowLimiter`]
    /// counts a request until its answer and does not need it.
    pub margin: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::unlimited()
    }
}

impl RateLimits {
    /// No limits at all (for benchmarks of the client itself).
    pub fn unlimited() -> Self {
        RateLimits {
            general: LimitSet::default(),
            buckets: BTreeMap::new(),
            margin: 0.02,
        }
    }

    /// Limits on every request.
    pub fn new(general: LimitSet) -> Self {
        RateLimits {
            general,
            ..RateLimits::unlimited()
        }
    }

    /// Add a bucket with limits on top of the general ones.
    pub fn with_bucket(mut self, name: impl Into<String>, set: LimitSet) -> Self {
        self.buckets.insert(name.into(), set);
        self
    }

    /// Change the safety margin (0 = exact windows).
    pub fn with_margin(mut self, margin: f64) -> Self {
        self.margin = margin.max(0.0);
        self
    }

    /// Every request count multiplied by `factor` (windows unchanged): for simulators and
    /// benchmarks that run the vendors' quotas faster while keeping their shape.
    pub fn scaled(&self, factor: f64) -> Self {
        let scale = |set: &LimitSet| LimitSet {
            limits: set
                .limits
                .iter()
                .map(|l| Limit::new(((f64::from(l.max) * factor).round() as u32).max(1), l.per))
                .collect(),
            burst: set
                .burst
                .map(|b| ((f64::from(b) * factor).round() as u32).max(1)),
        };
        RateLimits {
            general: scale(&self.general),
            buckets: self
                .buckets
                .iter()
                .map(|(k, v)| (k.clone(), scale(v)))
                .collect(),
            margin: self.margin,
        }
    }

    /// The limits that apply to a request in `bucket`: the bucket's own, then the general.
    pub fn sets_for<'a>(&'a self, bucket: &str) -> impl Iterator<Item = &'a LimitSet> {
        self.buckets
            .get(bucket)
            .into_iter()
            .chain(std::iter::once(&self.general))
    }
}

/// The GCRA quota that keeps every limit of `set` in every sliding window, or `None` when
/// the set is empty (unlimited).
///
/// `stacked_slack` reserves that many requests per window (see the module docs).
pub fn quota_for(set: &LimitSet, margin: f64, stacked_slack: u32) -> Option<Quota> {
    let limits: Vec<Limit> = set
        .limits
        .iter()
        .map(|l| Limit::new(l.max.saturating_sub(stacked_slack).max(1), l.per))
        .filter(|l| !l.per.is_zero())
        .collect();
    if limits.is_empty() {
        return None;
    }
    let min_max = limits.iter().map(|l| l.max).min().unwrap_or(1);
    let period_for = |burst: u32| -> Duration {
        limits
            .iter()
            .map(|l| {
                // Round up: a period one nanosecond short lets one request too many in.
                let window = l.per.mul_f64(1.0 + margin.max(0.0)).as_nanos();
                let slots = u128::from(l.max - burst + 1);
                Duration::from_nanos(window.div_ceil(slots).try_into().unwrap_or(u64::MAX))
            })
            .max()
            .unwrap_or(Duration::ZERO)
    };
    let burst = match set.burst {
        Some(b) => b.clamp(1, min_max),
        None => {
            let best = period_for(1).as_secs_f64();
            (1..=min_max)
                .take_while(|&b| best / period_for(b).as_secs_f64() >= 0.975)
                .last()
                .unwrap_or(1)
        }
    };
    let period = period_for(burst).max(Duration::from_nanos(1));
    Some(Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?))
}

/// Waits until a request may be sent; shared by every client using the same API key.
///
/// The in-process [`WindowLimiter`] is the default; a store-backed implementation can share
/// one budget between processes.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// Wait until a request in `bucket` may be sent, and count it. Keep the [`Permit`]
    /// until the request's answer has arrived (or the request was given up): a limiter may
    /// count the request until then ([`WindowLimiter`] does).
    async fn acquire(&self, bucket: &str) -> Permit;
    /// The vendor said 429 to a request in `bucket`: nobody on this key sends a request
    /// counted in that bucket before `wait` has passed. A 429 in the general bucket blocks
    /// every request; one in an extra bucket (Zapmail's availability queries, whose wait can
    /// be half an hour) blocks only that bucket: if the general limit was the cause, the
    /// next general request meets its own 429 and blocks everyone then.
    async fn penalize(&self, bucket: &str, wait: Duration);
}

/// A request admitted by a [`RateLimiter`]: drop it when the request's answer has arrived,
/// or when the request is given up.
///
/// Limiters that count a request only at its admission hand out [`Permit::none`].
#[must_use = "a permit dropped at once tells the limiter the answer has already arrived"]
pub struct Permit {
    on_answer: Option<Box<dyn FnOnce() + Send>>,
}

impl Permit {
    /// A permit with nothing to report.
    pub fn none() -> Self {
        Permit { on_answer: None }
    }

    /// A permit that calls `on_answer` when it is dropped.
    pub fn new(on_answer: impl FnOnce() + Send + 'static) -> Self {
        Permit {
            on_answer: Some(Box::new(on_answer)),
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(f) = self.on_answer.take() {
            f();
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("reports_answer", &self.on_answer.is_some())
            .finish()
    }
}

/// A limiter that never waits (except after a 429).
#[derive(Debug, Default)]
pub struct Unlimited {
    gate: Gate,
}

#[async_trait]
impl RateLimiter for Unlimited {
    async fn acquire(&self, bucket: &str) -> Permit {
        self.gate.wait(bucket).await;
        Permit::none()
    }
    async fn penalize(&self, bucket: &str, wait: Duration) {
        self.gate.push(bucket, wait);
    }
}

type Direct = Governor<NotKeyed, InMemoryState, DefaultClock>;

/// The default in-process limiter: one governor per limit set, plus the 429 gate.
pub struct GovernorLimiter {
    limits: RateLimits,
    general: Option<Direct>,
    buckets: BTreeMap<String, Direct>,
    gate: Gate,
}

impl fmt::Debug for GovernorLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernorLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl GovernorLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: RateLimits) -> Self {
        let general = quota_for(&limits.general, limits.margin, 0).map(Governor::direct);
        let buckets = limits
            .buckets
            .iter()
            .filter_map(|(name, set)| {
                quota_for(set, limits.margin, 1).map(|q| (name.clone(), Governor::direct(q)))
            })
            .collect();
        GovernorLimiter {
            limits,
            general,
            buckets,
            gate: Gate::default(),
        }
    }

    /// The limits this limiter enforces.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }
}

#[async_trait]
impl RateLimiter for GovernorLimiter {
    async fn acquire(&self, bucket: &str) -> Permit {
        self.gate.wait(bucket).await;
        if let Some(b) = self.buckets.get(bucket) {
            b.until_ready().await;
        }
        if let Some(g) = &self.general {
            g.until_ready().await;
        }
        Permit::none()
    }

    async fn penalize(&self, bucket: &str, wait: Duration) {
        self.gate.push(bucket, wait);
    }
}

/// An exact sliding-window limiter: admits a request as soon as every window of every
/// limit that applies has room, and not before (the default for every client).
///
/// A single GCRA quota ([`GovernorLimiter`]) must space requests at the rate of the
/// tightest long window, so with Zapmail's 5/s **and** 200/min it never sends faster than
/// 3.3/s, even for a job of 150 calls that the vendor would take in 30 s. This limiter gives
/// each caller the earliest instant at which every window `(max, per)` still holds, so a
/// fleet gets the full short-window rate until the long window is full, exactly as the
/// vendor counts. A request in a bucket takes the bucket's slot first, then a general one
/// (like [`GovernorLimiter`]).
///
/// **A request counts from its admission until its answer arrives** (the [`Permit`] is
/// dropped), and then for a whole window after that instant. The vendor counts a request
/// when it arrives, which is somewhere between the two, however long the request spent
/// in our runtime, the connection pool or the network on its way. So no delay on the way
/// can make two requests look closer together to the vendor than the limiter allowed
/// (counting at admission, even widened by a margin, drew 429s with 1,000 provisions on a
/// loaded machine). The cost is one round trip per window: at most `max` requests start
/// in any `per + round trip`. [`RateLimits::margin`], which admission-counting limiters
/// need, is not applied here.
///
/// Waiting callers are served by priority ([`with_priority`]), and general requests are
/// paced at the highest rate any window allows.
pub struct WindowLimiter {
    limits: RateLimits,
    shared: Arc<Shared>,
    /// Callers waiting for a general slot, by (priority, arrival): only the first takes
    /// the next slot.
    queue: Mutex<Queue>,
    gate: Gate,
}

/// The state [`Permit`]s report back to.
#[derive(Debug)]
struct Shared {
    sets: Mutex<BTreeMap<String, Rings>>,
    /// Bumped on every answer: a caller that found a window full of requests still on
    /// their way waits for one.
    answered: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    /// The requests counted in `sets` had their answers at `at`.
    fn answered<'a>(&self, sets: impl IntoIterator<Item = &'a str>, at: Instant) {
        {
            let mut g = self.sets.lock().unwrap_or_else(|e| e.into_inner());
            for name in sets {
                if let Some(rings) = g.get_mut(name) {
                    for w in &mut rings.windows {
                        w.answered(at);
                    }
                }
            }
        }
        self.answered.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[derive(Debug, Default)]
struct Queue {
    next_seq: u64,
    waiting: BTreeMap<(u64, u64), Arc<Notify>>,
}

/// How far ahead of its slot the first waiting caller takes it and hands the queue on.
const LOOKAHEAD: Duration = Duration::from_millis(25);

tokio::task_local! {
    static PRIORITY: u64;
}

/// Run `fut` with its rate-limited requests ranked by `priority` (lower goes first) among
/// callers waiting for the same [`WindowLimiter`]; requests made outside such a scope rank
/// by the time (ms since the epoch) they start waiting.
///
/// The provisioning engine passes a provision's creation time, so the oldest provisions
/// take the vendor's slots first and finish while younger ones are still in their first
/// steps, instead of every provision crawling through each step at once (with 100
/// provisions that left Zapmail idle while all of them were at their PlusVibe steps).
pub async fn with_priority<F: std::future::Future>(priority: u64, fut: F) -> F::Output {
    PRIORITY.scope(priority, fut).await
}

fn current_priority() -> u64 {
    PRIORITY.try_with(|p| *p).unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    })
}

/// Takes a waiter out of the queue however its wait ends (a cancelled caller must not
/// hold up the others), and wakes the next one.
struct QueueSlot<'a> {
    queue: &'a Mutex<Queue>,
    key: (u64, u64),
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let was_first = q.waiting.keys().next() == Some(&self.key);
        q.waiting.remove(&self.key);
        if was_first && let Some(next) = q.waiting.values().next() {
            next.notify_one();
        }
    }
}

/// One vendor limit `(max, per)`: how many admitted requests have no answer yet, and the
/// answer instants of the latest `max` answered ones.
#[derive(Debug)]
struct Window {
    max: usize,
    per: Duration,
    unanswered: usize,
    /// Sorted; only the latest `max` can matter.
    answered: VecDeque<Instant>,
}

impl Window {
    /// The earliest instant at which one more request keeps this window: every request
    /// without an answer counts, and every answered one counts until `per` after its answer.
    /// `None` while `max` requests are still waiting for their answers.
    fn earliest(&self) -> Option<Option<Instant>> {
        let room = self.max.checked_sub(self.unanswered).filter(|r| *r > 0)?;
        let len = self.answered.len();
        Some((len >= room).then(|| self.answered[len - room] + self.per))
    }

    fn answered(&mut self, at: Instant) {
        self.unanswered = self.unanswered.saturating_sub(1);
        let pos = self.answered.partition_point(|t| *t <= at);
        self.answered.insert(pos, at);
        while self.answered.len() > self.max {
            self.answered.pop_front();
        }
    }
}

/// The pace of general requests: at most `max` admissions in any `per` (counted at
/// admission: it spreads sends, it is not a vendor limit).
#[derive(Debug)]
struct Pace {
    max: usize,
    per: Duration,
    sent: VecDeque<Instant>,
}

impl Pace {
    fn earliest(&self) -> Option<Instant> {
        (self.sent.len() >= self.max).then(|| self.sent[self.sent.len() - self.max] + self.per)
    }
    fn push(&mut self, at: Instant) {
        self.sent.push_back(at);
        while self.sent.len() > self.max {
            self.sent.pop_front();
        }
    }
}

/// Everything one limit set (general, or a bucket) counts.
#[derive(Debug, Default)]
struct Rings {
    windows: Vec<Window>,
    pace: Option<Pace>,
    /// The latest slot given: slots are given in order.
    last: Option<Instant>,
}

impl Rings {
    fn slot(&self, now: Instant) -> Slot {
        if self.windows.is_empty() {
            return Slot::Unlimited;
        }
        let mut at = self.last.map_or(now, |l| l.max(now));
        if let Some(e) = self.pace.as_ref().and_then(Pace::earliest) {
            at = at.max(e);
        }
        for w in &self.windows {
            match w.earliest() {
                None => return Slot::Full,
                Some(Some(e)) => at = at.max(e),
                Some(None) => {}
            }
        }
        Slot::At(at)
    }
}

/// When one more request of a limit set may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The set has no limits.
    Unlimited,
    /// At this instant (it may be now).
    At(Instant),
    /// Not before some request still on its way has its answer: a window holds `max`
    /// requests without one.
    Full,
}

impl fmt::Debug for WindowLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WindowLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: RateLimits) -> Self {
        let windows = |set: &LimitSet| -> Vec<Window> {
            set.limits
                .iter()
                .filter(|l| !l.per.is_zero())
                .map(|l| Window {
                    max: l.max.max(1) as usize,
                    per: l.per,
                    unanswered: 0,
                    answered: VecDeque::new(),
                })
                .collect()
        };
        let mut sets = BTreeMap::new();
        let general = windows(&limits.general);
        // General requests are also paced at the highest rate any window allows (one per
        // `per / max`): a window's worth fired at one instant reaches the vendor spread
        // by queueing, and would hold up the answers every window waits for.
        // A tenth of the window may still go at once, so a few requests (an interactive
        // caller) never wait for the pace.
        let pace = general
            .iter()
            .min_by_key(|w| w.per / w.max as u32)
            .map(|w| {
                let burst = (w.max / 10).max(1);
                Pace {
                    max: burst,
                    per: w.per / w.max as u32 * burst as u32,
                    sent: VecDeque::new(),
                }
            });
        sets.insert(
            GENERAL.to_string(),
            Rings {
                windows: general,
                pace,
                last: None,
            },
        );
        for (name, set) in &limits.buckets {
            sets.insert(
                name.clone(),
                Rings {
                    windows: windows(set),
                    ..Rings::default()
                },
            );
        }
        WindowLimiter {
            shared: Arc::new(Shared {
                sets: Mutex::new(sets),
                answered: tokio::sync::watch::channel(0).0,
            }),
            queue: Mutex::new(Queue::default()),
            limits,
            gate: Gate::default(),
        }
    }

    /// The limits this limiter enforces.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// When one more request in the set `name` may go (not before `now`), without
    /// reserving it.
    fn peek(&self, name: &str, now: Instant) -> Slot {
        let g = self.shared.sets.lock().unwrap_or_else(|e| e.into_inner());
        g.get(name).map_or(Slot::Unlimited, |r| r.slot(now))
    }

    /// Reserve the earliest slot (not before `now`) of the set `name` ([`GENERAL`] or a
    /// bucket) and count the request there, unanswered until [`answered`](Self::answered)
    /// is called for it. Nothing is reserved when the answer is [`Slot::Unlimited`] or
    /// [`Slot::Full`].
    ///
    /// [`acquire`](RateLimiter::acquire) does this (and the answer) for you; this is for
    /// tests and schedulers that drive the limiter on their own clock.
    pub fn reserve(&self, name: &str, now: Instant) -> Slot {
        let mut g = self.shared.sets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(rings) = g.get_mut(name) else {
            return Slot::Unlimited;
        };
        let slot = rings.slot(now);
        if let Slot::At(at) = slot {
            rings.last = Some(at);
            if let Some(p) = &mut rings.pace {
                p.push(at);
            }
            for w in &mut rings.windows {
                w.unanswered += 1;
            }
        }
        slot
    }

    /// A request reserved in the set `name` had its answer at `at`.
    pub fn answered(&self, name: &str, at: Instant) {
        self.shared.answered([name], at);
    }

    /// Reserve a slot in the set `name` as soon as there is one: when a window is full of
    /// unanswered requests, wait for an answer first. Returns the slot's instant.
    async fn reserve_when_answered(&self, name: &str) -> Option<Instant> {
        loop {
            // Subscribe before looking, so an answer in between is not missed.
            let mut answered = self.shared.answered.subscribe();
            match self.reserve(name, Instant::now()) {
                Slot::Unlimited => return None,
                Slot::At(at) => return Some(at),
                Slot::Full => {
                    let _ = answered.changed().await;
                }
            }
        }
    }

    /// Wait for a general slot in priority order (see [`with_priority`]) and count it in
    /// `permit` (nothing when the general set has no limits).
    async fn acquire_general(&self, permit: &mut WindowPermit) {
        if self.peek(GENERAL, Instant::now()) == Slot::Unlimited {
            return;
        }
        let me = Arc::new(Notify::new());
        let key = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.next_seq += 1;
            let key = (current_priority(), q.next_seq);
            q.waiting.insert(key, me.clone());
            key
        };
        let slot = QueueSlot {
            queue: &self.queue,
            key,
        };
        loop {
            let first = {
                let q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.waiting.keys().next() == Some(&key)
            };
            if !first {
                me.notified().await;
                continue;
            }
            let mut answered = self.shared.answered.subscribe();
            let now = Instant::now();
            match self.peek(GENERAL, now) {
                Slot::At(at) if at > now + LOOKAHEAD => {
                    // Sleep until shortly before the slot, unless someone with a higher
                    // priority arrives (then it is first, and this caller waits its turn).
                    // An answer never moves a slot later, so the slot stays good.
                    tokio::select! {
                        _ = tokio::time::sleep_until(at - LOOKAHEAD) => {}
                        _ = me.notified() => {}
                    }
                }
                Slot::Full => {
                    tokio::select! {
                        _ = answered.changed() => {}
                        _ = me.notified() => {}
                    }
                }
                _ => {
                    // Close enough: take the slot, let the next caller queue for the one
                    // after it (no timer-tick gap between slots), then wait for it.
                    let at = self.reserve(GENERAL, now);
                    drop(slot);
                    if let Slot::At(at) = at {
                        permit.general = true;
                        tokio::time::sleep_until(at).await;
                    }
                    return;
                }
            }
        }
    }
}

/// Reports the answer of a request a [`WindowLimiter`] admitted, however the request ends.
struct WindowPermit {
    shared: Arc<Shared>,
    bucket: Option<String>,
    general: bool,
}

impl Drop for WindowPermit {
    fn drop(&mut self) {
        if self.bucket.is_none() && !self.general {
            return; // nothing was counted
        }
        let general = self.general.then_some(GENERAL);
        let sets = self.bucket.as_deref().into_iter().chain(general);
        self.shared.answered(sets, Instant::now());
    }
}

#[async_trait]
impl RateLimiter for WindowLimiter {
    async fn acquire(&self, bucket: &str) -> Permit {
        self.gate.wait(bucket).await;
        // Counted from here on, whatever happens to the caller.
        let mut permit = WindowPermit {
            shared: self.shared.clone(),
            bucket: None,
            general: false,
        };
        // The bucket's own slot first (a wait of up to half an hour must not hold a
        // general slot), then the general one.
        if bucket != GENERAL
            && let Some(at) = self.reserve_when_answered(bucket).await
        {
            permit.bucket = Some(bucket.to_string());
            tokio::time::sleep_until(at).await;
        }
        self.acquire_general(&mut permit).await;
        if permit.bucket.is_none() && !permit.general {
            return Permit::none();
        }
        Permit::new(move || drop(permit))
    }

    async fn penalize(&self, bucket: &str, wait: Duration) {
        self.gate.push(bucket, wait);
    }
}

/// The shared "blocked until" instants that 429s push forward, per bucket.
#[derive(Debug, Default)]
pub struct Gate {
    until: Mutex<BTreeMap<String, Instant>>,
}

impl Gate {
    /// Block requests in `bucket` (every request, for [`GENERAL`]) for at least `wait`
    /// from now. A shorter push never shortens a block.
    pub fn push(&self, bucket: &str, wait: Duration) {
        let at = Instant::now() + wait;
        let mut g = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let cur = g.entry(bucket.to_string()).or_insert(at);
        if *cur < at {
            *cur = at;
        }
    }

    /// The instant requests in `bucket` are blocked until, if it is in the future.
    pub fn blocked_until(&self, bucket: &str) -> Option<Instant> {
        let g = self.until.lock().unwrap_or_else(|e| e.into_inner());
        [g.get(GENERAL), g.get(bucket)]
            .into_iter()
            .flatten()
            .copied()
            .max()
            .filter(|t| *t > Instant::now())
    }

    /// Wait until requests in `bucket` may go.
    pub async fn wait(&self, bucket: &str) {
        while let Some(at) = self.blocked_until(bucket) {
            tokio::time::sleep_until(at).await;
        }
    }
}

/// Tools to check what a quota admits, on governor's fake clock (used by every vendor
/// crate's quota tests and by benchmarks computing lower bounds).
pub mod analysis {
    use std::time::Duration;

    use governor::clock::{Clock, FakeRelativeClock, Reference};
    use governor::{Quota, RateLimiter as Governor};

    use super::{RateLimits, quota_for};

    /// Drive a greedy caller through `quotas` (taken in order, like
    /// [`GovernorLimiter::acquire`](super::GovernorLimiter)) on a fake clock for `horizon`,
    /// returning the instant (ns from start) of every admission.
    pub fn greedy(quotas: &[Quota], horizon: Duration) -> Vec<u64> {
        let clock = FakeRelativeClock::default();
        let limiters: Vec<_> = quotas
            .iter()
            .map(|q| Governor::direct_with_clock(*q, clock.clone()))
            .collect();
        let start = clock.now();
        let mut sent = Vec::new();
        loop {
            for l in &limiters {
                // until_ready on the fake clock: advance by exactly the wait governor asks for.
                while let Err(nu) = l.check() {
                    clock.advance(nu.wait_time_from(clock.now()));
                }
            }
            let t = Duration::from(clock.now().duration_since(start)).as_nanos() as u64;
            if Duration::from_nanos(t) > horizon {
                return sent;
            }
            sent.push(t);
        }
    }

    /// The earliest instants (from the first) at which `n` requests can be sent under
    /// every window of `set`, exactly as the vendor counts (no margin, no pacing): the
    /// least time a job of `n` calls can take is the last of them.
    pub fn window_schedule(set: &super::LimitSet, n: usize) -> Vec<Duration> {
        let mut out: Vec<Duration> = Vec::with_capacity(n);
        for i in 0..n {
            let mut t = out.last().copied().unwrap_or_default();
            for l in &set.limits {
                let max = l.max.max(1) as usize;
                if i >= max {
                    t = t.max(out[i - max] + l.per);
                }
            }
            out.push(t);
        }
        out
    }

    /// The quotas a request in `bucket` passes through under `limits`, in order.
    pub fn quotas_for_bucket(limits: &RateLimits, bucket: &str) -> Vec<Quota> {
        let mut out = Vec::new();
        if let Some(set) = limits.buckets.get(bucket)
            && let Some(q) = quota_for(set, limits.margin, 1)
        {
            out.push(q);
        }
        out.extend(quota_for(&limits.general, limits.margin, 0));
        out
    }

    /// Largest count of admissions (ns instants, sorted) in any half-open window `[t, t + w)`.
    pub fn max_in_window(sent: &[u64], w: Duration) -> usize {
        let w = w.as_nanos() as u64;
        let mut best = 0;
        let mut j = 0;
        for i in 0..sent.len() {
            while sent[i] - sent[j] >= w {
                j += 1;
            }
            best = best.max(i - j + 1);
        }
        best
    }

    /// Assert that a greedy caller in `bucket` keeps every documented limit of `limits` in
    /// every window over `horizon`, and return the fraction of the binding limit it got.
    ///
    /// # Panics
    /// When some window holds more requests than its limit allows.
    pub fn check_saturation(limits: &RateLimits, bucket: &str, horizon: Duration) -> f64 {
        let sent = greedy(&quotas_for_bucket(limits, bucket), horizon);
        let mut sets = vec![&limits.general];
        sets.extend(limits.buckets.get(bucket));
        let mut best_rate = f64::INFINITY;
        for set in sets {
            for l in &set.limits {
                let got = max_in_window(&sent, l.per);
                assert!(
                    got <= l.max as usize,
                    "{got} requests in a {:?} window (limit {})",
                    l.per,
                    l.max
                );
            }
            best_rate = best_rate.min(set.sustained_rate().unwrap_or(f64::INFINITY));
        }
        sent.len() as f64 / (best_rate * horizon.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::analysis::{greedy, max_in_window};
    use super::*;

    fn zapmail_like() -> RateLimits {
        RateLimits::new(LimitSet::new([
            Limit::per_second(5),
            Limit::per_minute(200),
        ]))
        .with_bucket(
            "domain-availability",
            LimitSet::new([Limit::new(100, Duration::from_secs(1800))]).with_burst(10),
        )
    }

    #[test]
    fn general_quota_holds_in_every_window_and_saturates() {
        for margin in [0.0, 0.02] {
            let limits = zapmail_like().with_margin(margin);
            let q = quota_for(&limits.general, margin, 0).unwrap();
            let horizon = Duration::from_secs(3600);
            let sent = greedy(&[q], horizon);
            assert!(max_in_window(&sent, Duration::from_secs(1)) <= 5);
            assert!(max_in_window(&sent, Duration::from_secs(60)) <= 200);
            // Binding limit: 200/min = 12,000 per hour; a greedy caller gets >= 95% of it.
            let achieved = sent.len() as f64 / 12_000.0;
            assert!(achieved >= 0.95, "margin {margin}: achieved {achieved}");
            assert!(achieved <= 1.0 + 1.0 / 12_000.0);
        }
    }

    #[test]
    fn stacked_bucket_holds_every_window_of_both_sets() {
        let limits = zapmail_like();
        let bucket = quota_for(&limits.buckets["domain-availability"], limits.margin, 1).unwrap();
        let general = quota_for(&limits.general, limits.margin, 0).unwrap();
        let horizon = Duration::from_secs(4 * 3600);
        let sent = greedy(&[bucket, general], horizon);
        assert!(max_in_window(&sent, Duration::from_secs(1)) <= 5);
        assert!(max_in_window(&sent, Duration::from_secs(60)) <= 200);
        assert!(max_in_window(&sent, Duration::from_secs(1800)) <= 100);
        // 100 per 30 min over 4 h = 800; the burst of 10 costs ~10%, slack and margin a bit.
        let achieved = sent.len() as f64 / 800.0;
        assert!(achieved >= 0.85, "achieved {achieved}");
        // The burst is usable at once: the first 10 queries need no wait beyond the
        // general limiter's spacing.
        assert!(sent[9] < Duration::from_secs(5).as_nanos() as u64);
    }

    #[test]
    fn single_limit_sets_of_other_vendors() {
        for (limit, window_max) in [
            (Limit::per_minute(300), 300usize), // HeyReach
            (Limit::per_second(5), 5),          // PlusVibe
        ] {
            let set = LimitSet::new([limit]);
            let q = quota_for(&set, 0.02, 0).unwrap();
            let sent = greedy(&[q], Duration::from_secs(600));
            assert!(max_in_window(&sent, limit.per) <= window_max);
            let ideal = 600.0 * set.sustained_rate().unwrap();
            assert!(
                sent.len() as f64 / ideal >= 0.95,
                "{limit:?}: {}",
                sent.len()
            );
        }
    }

    #[test]
    fn scaling_keeps_shape() {
        let s = zapmail_like().scaled(20.0);
        assert_eq!(s.general.limits[0], Limit::per_second(100));
        assert_eq!(s.general.limits[1], Limit::per_minute(4000));
        assert_eq!(s.buckets["domain-availability"].burst, Some(200));
        let q = quota_for(&s.general, 0.0, 0).unwrap();
        let sent = greedy(&[q], Duration::from_secs(120));
        assert!(max_in_window(&sent, Duration::from_secs(1)) <= 100);
        assert!(max_in_window(&sent, Duration::from_secs(60)) <= 4000);
    }

    /// Reserve a general slot, expecting one.
    fn slot(l: &WindowLimiter, now: Instant) -> Instant {
        match l.reserve(GENERAL, now) {
            Slot::At(at) => at,
            other => panic!("expected a slot, got {other:?}"),
        }
    }

    #[test]
    fn window_limiter_is_exact_in_every_window_and_takes_the_short_window_rate() {
        // The margin is for admission-counting limiters: this one ignores it.
        for margin in [0.0, 0.02] {
            let limits = zapmail_like().scaled(20.0).with_margin(margin);
            let l = WindowLimiter::new(limits);
            let t0 = Instant::now();
            let sent: Vec<u64> = (0..6000)
                .map(|_| {
                    // Answered the instant it is sent: counting at admission.
                    let at = slot(&l, t0);
                    l.answered(GENERAL, at);
                    (at - t0).as_nanos() as u64
                })
                .collect();
            assert!(max_in_window(&sent, Duration::from_secs(1)) <= 100);
            assert!(max_in_window(&sent, Duration::from_secs(60)) <= 4000);
            // 4,000 in the first ~40 s at 100/s (not 66/s from the start), then the minute.
            let at_3999 = sent[3999] as f64 / 1e9;
            assert!(at_3999 <= 40.0 + 1e-6, "{margin}: {at_3999}");
            // Paced: at most a tenth of the per-second limit in any tenth of a second.
            assert!(max_in_window(&sent, Duration::from_millis(100)) <= 10);
            let at_4000 = sent[4000] as f64 / 1e9;
            assert!((at_4000 - 60.0).abs() < 1e-6, "{margin}: {at_4000}");
        }
    }

    /// Greedy callers on a virtual clock whose requests reach the vendor a random delay
    /// (up to `max_delay`) after their slot and are answered a little later; returns the
    /// instants the vendor sees them, in ns from the start, sorted.
    fn arrivals_with_delays(
        l: &WindowLimiter,
        requests: usize,
        max_delay: Duration,
        seed: u64,
    ) -> Vec<u64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let t0 = Instant::now();
        let mut now = t0;
        // (answer instant, arrival) of requests still on their way.
        let mut on_the_way: Vec<(Instant, Instant)> = Vec::new();
        let mut arrivals = Vec::with_capacity(requests);
        while arrivals.len() < requests {
            // Answers that came in by now are reported, in order.
            on_the_way.sort();
            while on_the_way.first().is_some_and(|(answer, _)| *answer <= now) {
                let (answer, arrival) = on_the_way.remove(0);
                l.answered(GENERAL, answer);
                arrivals.push((arrival - t0).as_nanos() as u64);
            }
            match l.reserve(GENERAL, now) {
                Slot::At(at) => {
                    let arrival = at + max_delay.mul_f64(rng.f64());
                    let answer = arrival + Duration::from_millis(rng.u64(0..20));
                    on_the_way.push((answer, arrival));
                    now = at;
                }
                // Every window is full of unanswered requests: wait for the next answer.
                Slot::Full => now = on_the_way.iter().map(|(a, _)| *a).min().unwrap(),
                Slot::Unlimited => unreachable!(),
            }
        }
        arrivals.sort_unstable();
        arrivals
    }

    #[test]
    fn no_delay_on_the_way_lets_a_window_overflow_at_the_vendor() {
        for seed in 0..20 {
            let l = WindowLimiter::new(zapmail_like().scaled(20.0));
            let arrivals = arrivals_with_delays(&l, 5000, Duration::from_millis(300), seed);
            assert!(
                max_in_window(&arrivals, Duration::from_secs(1)) <= 100,
                "seed {seed}"
            );
            assert!(
                max_in_window(&arrivals, Duration::from_secs(60)) <= 4000,
                "seed {seed}"
            );
            // The cost is at most one round trip (here up to 320 ms) per 1 s window:
            // 4,000 in at most 40 s × 1.32, well before the minute window's 60 s.
            let at_3999 = arrivals[3999] as f64 / 1e9;
            assert!(at_3999 < 40.0 * 1.32 + 0.4, "seed {seed}: {at_3999}");
        }
        // The control: counted at admission with the usual 2% margin, the same delays
        // put more than the limit in some second at the vendor.
        let mut overflowed = false;
        for seed in 0..20 {
            let l = WindowLimiter::new(zapmail_like().scaled(20.0));
            let t0 = Instant::now();
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut arrivals: Vec<u64> = (0..5000)
                .map(|_| {
                    let at = slot(&l, t0);
                    l.answered(GENERAL, at);
                    let at = t0 + (at - t0).mul_f64(1.02);
                    (at + Duration::from_millis(300).mul_f64(rng.f64()) - t0).as_nanos() as u64
                })
                .collect();
            arrivals.sort_unstable();
            overflowed |= max_in_window(&arrivals, Duration::from_secs(1)) > 100;
        }
        assert!(
            overflowed,
            "the control should overflow: the test proves nothing"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_full_of_unanswered_requests_waits_for_an_answer() {
        let l = Arc::new(WindowLimiter::new(
            RateLimits::new(LimitSet::new([Limit::per_second(2)])).with_margin(0.0),
        ));
        let first = l.acquire(GENERAL).await;
        let _second = l.acquire(GENERAL).await;
        let third = tokio::spawn({
            let l = l.clone();
            async move {
                let _p = l.acquire(GENERAL).await;
                Instant::now()
            }
        });
        // Virtual time: an hour passes with both answers outstanding.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!third.is_finished(), "admitted while the window was full");
        let answered = Instant::now();
        drop(first);
        let admitted = third.await.unwrap();
        assert_eq!(admitted, answered + Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_cancelled_while_waiting_for_its_slot_gives_it_back() {
        let l = Arc::new(WindowLimiter::new(
            RateLimits::new(LimitSet::new([Limit::per_second(1)])).with_margin(0.0),
        ));
        drop(l.acquire(GENERAL).await);
        // Its slot is a second away: cancelled while it sleeps.
        let waiting = tokio::spawn({
            let l = l.clone();
            async move { drop(l.acquire(GENERAL).await) }
        });
        tokio::task::yield_now().await;
        waiting.abort();
        assert!(waiting.await.unwrap_err().is_cancelled());
        // Its reservation does not hold the window forever.
        let next = tokio::time::timeout(Duration::from_secs(60), l.acquire(GENERAL)).await;
        assert!(
            next.is_ok(),
            "the cancelled caller's slot was never given back"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn window_limiter_stacks_a_bucket_on_the_general_limits() {
        let l = std::sync::Arc::new(WindowLimiter::new(zapmail_like().with_margin(0.0)));
        let t0 = Instant::now();
        // A general request does not wait behind availability queries held for later.
        for _ in 0..120 {
            let Slot::At(at) = l.reserve("domain-availability", t0) else {
                panic!("no slot");
            };
            l.answered("domain-availability", at);
        }
        drop(l.acquire(GENERAL).await);
        assert!(Instant::now() - t0 < Duration::from_secs(1));
        // Through acquire, availability queries keep both sets.
        let l = std::sync::Arc::new(WindowLimiter::new(zapmail_like().with_margin(0.0)));
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..230 {
            drop(l.acquire("domain-availability").await);
            sent.push((Instant::now() - t0).as_nanos() as u64);
        }
        assert!(max_in_window(&sent, Duration::from_secs(1800)) <= 100);
        assert!(max_in_window(&sent, Duration::from_secs(1)) <= 5);
        assert!(max_in_window(&sent, Duration::from_secs(60)) <= 200);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_callers_get_slots_by_priority_then_arrival() {
        let l = std::sync::Arc::new(WindowLimiter::new(
            RateLimits::new(LimitSet::new([Limit::per_second(1)])).with_margin(0.0),
        ));
        drop(l.acquire(GENERAL).await); // the first slot is taken: everyone below waits
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [("young", 30u64), ("old", 10), ("middle", 20), ("old2", 10)] {
            let (l, order) = (l.clone(), order.clone());
            tasks.push(tokio::spawn(with_priority(prio, async move {
                drop(l.acquire(GENERAL).await);
                order.lock().unwrap().push(name);
            })));
            tokio::task::yield_now().await;
        }
        // A cancelled waiter does not hold up the others.
        let cancelled = tokio::spawn({
            let l = l.clone();
            with_priority(0, async move { drop(l.acquire(GENERAL).await) })
        });
        tokio::task::yield_now().await;
        cancelled.abort();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["old", "old2", "middle", "young"]);
    }

    #[test]
    fn an_empty_window_limiter_never_waits() {
        let l = WindowLimiter::new(RateLimits::unlimited());
        assert_eq!(l.reserve(GENERAL, Instant::now()), Slot::Unlimited);
    }

    #[test]
    fn empty_set_is_unlimited() {
        assert!(quota_for(&LimitSet::default(), 0.02, 0).is_none());
    }

    #[tokio::test]
    async fn gate_blocks_everyone_until_it_passes() {
        let g = Gate::default();
        assert!(g.blocked_until(GENERAL).is_none());
        g.push(GENERAL, Duration::from_secs(30));
        let first = g.blocked_until(GENERAL).unwrap();
        g.push(GENERAL, Duration::from_secs(1)); // a shorter push never shortens the gate
        assert_eq!(g.blocked_until(GENERAL), Some(first));
        // A general block holds every bucket.
        assert_eq!(g.blocked_until("domain-availability"), Some(first));
    }

    #[tokio::test]
    async fn a_bucket_block_leaves_general_requests_alone() {
        let g = Gate::default();
        g.push("domain-availability", Duration::from_secs(1800));
        assert!(g.blocked_until(GENERAL).is_none());
        assert!(g.blocked_until("domain-availability").is_some());
        assert!(g.blocked_until("other").is_none());
    }
}

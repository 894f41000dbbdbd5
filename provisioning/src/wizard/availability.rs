//! Step 2, "Pick Domains": availability and prices of domain names, spending as little of
//! Zapmail's availability budget (100 queries per 30 min per key, shared by both
//! availability endpoints) as possible:
//!
//! - names are validated locally first (syntax and the TLD allow-list): an invalid name is
//!   answered [`Availability::Invalid`] without a request;
//! - the rest go out in bulk calls of at most [`zapmail::MAX_BULK_AVAILABILITY`] (20);
//! - answers are cached per normalized name for a TTL ([`DEFAULT_CACHE_TTL`]);
//! - concurrent checks share in-flight calls (single flight): a name being checked by one
//!   caller is awaited, not re-queried, by the others;
//! - pacing is the client's: the Zapmail client puts these calls in its
//!   [`zapmail::AVAILABILITY_BUCKET`] and waits for a slot rather than drawing a 429.
//!
//! Prices are exact: Zapmail's decimal strings become integer cents with [`price_cents`];
//! an unknown price (`"NaN"`) is never taken as free.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, join_all};
use serde::{Deserialize, Serialize};
use zapmail::domains::{AvailabilityStatus, DomainAvailability};
use zapmail::{Decimal, MAX_BULK_AVAILABILITY, SupportedTlds};

use super::WizardError;

/// How long an availability answer is reused: 10 minutes.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(10 * 60);

/// A price in USD as integer cents, exactly: no floats. A fraction of a cent is rounded
/// **up** (never under-quote a purchase). `None` for negative prices or amounts too large
/// for `i64` cents.
pub fn price_cents(price: Decimal) -> Option<i64> {
    if price.is_sign_negative() && !price.is_zero() {
        return None;
    }
    let cents = price.checked_mul(Decimal::ONE_HUNDRED)?.ceil();
    i64::try_from(cents).ok()
}

/// A price as Zapmail sends it (`"12.99"`, `"0.00"`, `"NaN"`, …) in cents: `None` when
/// unknown (`"NaN"`, empty, garbage) or negative. `"0.00"` is `Some(0)`: zero, which for an
/// availability row means "taken", never "free".
pub fn parse_price_cents(text: &str) -> Option<i64> {
    zapmail::types::parse_price(&serde_json::Value::String(text.to_string())).and_then(price_cents)
}

/// The answer for one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum Availability {
    /// Can be bought, at [`DomainCheck::price_cents`].
    Available,
    /// Taken (or banned, or already in Zapmail).
    Unavailable,
    /// Refused locally, without a request: the reason says which rule failed.
    Invalid(String),
    /// Zapmail's answer does not settle it (no row, an unknown status, or "available" with
    /// an unknown or zero price). Not cached: a later check asks again.
    Unknown(String),
}

/// Availability and price of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    /// The name: normalized (trimmed, lower-case) when valid, else as given.
    pub name: String,
    /// The answer.
    pub availability: Availability,
    /// First-year price in cents; `Some` only for [`Availability::Available`].
    pub price_cents: Option<i64>,
    /// Renewal price in cents, when Zapmail gave one for an available name.
    pub renew_price_cents: Option<i64>,
    /// Whether the registry prices it as premium.
    pub premium: bool,
}

impl DomainCheck {
    /// Whether it can be bought (available with a known price).
    pub fn is_available(&self) -> bool {
        self.availability == Availability::Available && self.price_cents.is_some()
    }

    fn invalid(name: &str, reason: String) -> Self {
        DomainCheck {
            name: name.to_string(),
            availability: Availability::Invalid(reason),
            price_cents: None,
            renew_price_cents: None,
            premium: false,
        }
    }

    fn unknown(name: &str, reason: &str) -> Self {
        DomainCheck {
            name: name.to_string(),
            availability: Availability::Unknown(reason.to_string()),
            price_cents: None,
            renew_price_cents: None,
            premium: false,
        }
    }

    /// Classify Zapmail's row for `name` (`None`: the answer had no row for it). `AVAILABLE`
    /// with a positive known price is [`Availability::Available`]; `UNAVAILABLE` is
    /// [`Availability::Unavailable`] whatever its price (`"0.00"`, `"NaN"`); anything else
    /// (an unknown or zero price on an available name, an unknown status) is
    /// [`Availability::Unknown`].
    pub fn from_row(name: &str, row: Option<&DomainAvailability>) -> Self {
        let Some(row) = row else {
            return Self::unknown(name, "Zapmail's answer had no row for this name");
        };
        let premium = row.is_premium_domain.unwrap_or(false);
        match &row.status {
            Some(AvailabilityStatus::Available) => match row.domain_price.and_then(price_cents) {
                Some(c) if c > 0 => DomainCheck {
                    name: name.to_string(),
                    availability: Availability::Available,
                    price_cents: Some(c),
                    renew_price_cents: row.renew_price.and_then(price_cents),
                    premium,
                },
                Some(_) => Self::unknown(
                    name,
                    "Zapmail says available but prices it at 0.00, which it does not sell",
                ),
                None => Self::unknown(
                    name,
                    "Zapmail says available but gave no usable price (e.g. \"NaN\")",
                ),
            },
            Some(AvailabilityStatus::Unavailable) => DomainCheck {
                name: name.to_string(),
                availability: Availability::Unavailable,
                price_cents: None,
                renew_price_cents: None,
                premium,
            },
            _ => Self::unknown(name, "Zapmail answered an unrecognised availability status"),
        }
    }

    fn is_definitive(&self) -> bool {
        matches!(
            self.availability,
            Availability::Available | Availability::Unavailable
        )
    }
}

type BatchOutput = Result<Arc<HashMap<String, DomainCheck>>, Arc<zapmail::Error>>;
type Batch = Shared<BoxFuture<'static, BatchOutput>>;

#[derive(Default)]
struct Inner {
    cache: HashMap<String, (Instant, DomainCheck)>,
    /// Names being checked, with the batch (by id) that checks them.
    inflight: HashMap<String, (u64, Batch)>,
    next_batch: u64,
}

/// Cached, batched, single-flight availability checks over one Zapmail client.
///
/// Clones share the cache, the in-flight calls and the client's rate limiter: give every
/// wizard session a clone of one checker per API key.
#[derive(Clone)]
pub struct AvailabilityChecker {
    client: zapmail::Client,
    tlds: SupportedTlds,
    ttl: Duration,
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for AvailabilityChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvailabilityChecker")
            .field("tlds", &self.tlds)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AvailabilityChecker {
    /// A checker with the default TLD allow-list and [`DEFAULT_CACHE_TTL`].
    pub fn new(client: zapmail::Client) -> Self {
        AvailabilityChecker {
            client,
            tlds: SupportedTlds::default(),
            ttl: DEFAULT_CACHE_TTL,
            inner: Arc::new(Mutex::new(Inner::default())),
        }
    }

    /// The TLDs accepted locally (others are [`Availability::Invalid`] without a request).
    pub fn with_tlds(mut self, tlds: SupportedTlds) -> Self {
        self.tlds = tlds;
        self
    }

    /// How long answers are reused (`Duration::ZERO`: never, though concurrent checks of
    /// the same names still share one call).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The TLD allow-list in use.
    pub fn tlds(&self) -> &SupportedTlds {
        &self.tlds
    }

    /// Forget every cached answer.
    pub fn clear_cache(&self) {
        lock(&self.inner).cache.clear();
    }

    /// The cached answer for `name`, if fresh (no request).
    pub fn cached(&self, name: &str) -> Option<DomainCheck> {
        let key = zapmail::validate::normalize_domain_name(name);
        let g = lock(&self.inner);
        g.cache
            .get(&key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, c)| c.clone())
    }

    /// Check `names`: one [`DomainCheck`] per input, in input order. Invalid names are
    /// answered locally; cached answers are reused; the rest are checked in bulk calls of
    /// at most 20 names, shared with concurrent callers checking the same names.
    ///
    /// Errors: a failed bulk call ([`WizardError::Vendor`]). Answers of calls that
    /// succeeded stay cached, so a retry spends requests only on the rest.
    pub async fn check<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<DomainCheck>, WizardError> {
        let mut out: Vec<Option<DomainCheck>> = vec![None; names.len()];
        let mut keys: Vec<(usize, String)> = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            match self.tlds.check(raw.as_ref()) {
                Ok(key) => keys.push((i, key)),
                Err(e) => out[i] = Some(DomainCheck::invalid(raw.as_ref(), e.to_string())),
            }
        }

        let mut known: HashMap<String, DomainCheck> = HashMap::new();
        let mut waits: BTreeMap<u64, Batch> = BTreeMap::new();
        {
            let mut g = lock(&self.inner);
            let mut to_fetch: Vec<String> = Vec::new();
            for (_, key) in &keys {
                if known.contains_key(key) || to_fetch.contains(key) {
                    continue;
                }
                let fresh = g
                    .cache
                    .get(key)
                    .filter(|(at, _)| at.elapsed() < self.ttl)
                    .map(|(_, c)| c.clone());
                if let Some(c) = fresh {
                    known.insert(key.clone(), c);
                    continue;
                }
                if let Some((id, batch)) = g.inflight.get(key) {
                    waits.entry(*id).or_insert_with(|| batch.clone());
                    continue;
                }
                to_fetch.push(key.clone());
            }
            for chunk in to_fetch.chunks(MAX_BULK_AVAILABILITY) {
                let id = g.next_batch;
                g.next_batch += 1;
                let batch = fetch(
                    self.client.clone(),
                    chunk.to_vec(),
                    Arc::downgrade(&self.inner),
                    id,
                )
                .boxed()
                .shared();
                for key in chunk {
                    g.inflight.insert(key.clone(), (id, batch.clone()));
                }
                waits.insert(id, batch);
            }
        }

        let mut failure = None;
        for result in join_all(waits.into_values()).await {
            match result {
                Ok(map) => known.extend(map.iter().map(|(k, v)| (k.clone(), v.clone()))),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(e) = failure {
            return Err(WizardError::Vendor(e));
        }
        for (i, key) in keys {
            out[i] = Some(
                known
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| DomainCheck::unknown(&key, "no answer for this name")),
            );
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// One bulk call; on completion it caches the definitive answers and leaves the in-flight
/// table (it runs once, driven by whichever caller polls it).
async fn fetch(
    client: zapmail::Client,
    names: Vec<String>,
    inner: Weak<Mutex<Inner>>,
    id: u64,
) -> BatchOutput {
    let result = client.domains().check_availability(&names).await;
    let answers: Result<HashMap<String, DomainCheck>, _> = result.map(|bulk| {
        names
            .iter()
            .map(|n| (n.clone(), DomainCheck::from_row(n, bulk.get(n))))
            .collect()
    });
    if let Some(inner) = inner.upgrade() {
        let mut g = lock(&inner);
        for n in &names {
            if g.inflight.get(n).is_some_and(|(i, _)| *i == id) {
                g.inflight.remove(n);
            }
        }
        if let Ok(answers) = &answers {
            let now = Instant::now();
            for (n, c) in answers {
                if c.is_definitive() {
                    g.cache.insert(n.clone(), (now, c.clone()));
                }
            }
        }
    }
    answers.map(Arc::new).map_err(Arc::new)
}

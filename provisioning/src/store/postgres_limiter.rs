//! Vendor rate budgets shared by every process through PostgreSQL (feature `postgres`).
//!
//! [`PgRateLimiter`] implements [`vendor_http::limit::RateLimiter`] with one GCRA cell per
//! (vendor key, bucket) in the `gtm_rate_limits` table, so any number of worker processes on
//! any number of machines using the same API key share one budget. The cells are derived by
//! [`quota_for`], exactly as the in-process [`GovernorLimiter`]'s quotas: emission interval
//! `T` and burst `b` admit at most `b + ceil(W / T) - 1` requests in any window `W`, so every
//! sliding window of every documented limit holds, widened by the limits' margin. A bucket
//! (Zapmail's availability queries) is taken first with one request of slack, then the
//! general cell, as the governor limiter does.
//!
//! Each token is one atomic `UPDATE` of one row: it admits the request and moves the cell's
//! theoretical arrival time (`tat`) forward, or changes nothing when the request must wait
//! (PostgreSQL re-checks the condition on the latest row version after waiting for a
//! concurrent writer's row lock, so two processes never both take the last token). Time is
//! the database's `clock_timestamp()`, one clock for every process. A refused caller reads how
//! long to wait and sleeps.
//!
//! A 429 seen by any process pushes the row's `blocked_until` (the shared gate) forward:
//! every process then waits for it, in that bucket (or every bucket, for the general one).
//!
//! The API key is never stored: rows are keyed by the SHA-256 of the vendor name and the key.
//! When the database cannot be reached, the limiter falls back to an in-process
//! [`GovernorLimiter`] with the same limits (logging a warning), so requests keep their
//! per-process pace rather than stopping.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use provisioning::store::{PgRateLimiter, PostgresStore, Store};
//! use secrecy::SecretString;
//!
//! let store = PostgresStore::connect("postgres://gtm@db.internal/gtm").await?;
//! store.migrate().await?;
//! let key = SecretString::from(std::env::var("ZAPMAIL_API_KEY")?);
//! let limiter = PgRateLimiter::new(&store, "zapmail", &key, zapmail::default_limits()).await?;
//! let zapmail = zapmail::Client::builder()
//!     .api_key(key)
//!     .rate_limiter(Arc::new(limiter))
//!     .build()?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::PgPool;
use vendor_http::limit::{GENERAL, GovernorLimiter, Permit, RateLimiter, RateLimits, quota_for};

use super::{PostgresStore, StoreError, StoreResult};

/// One GCRA cell's parameters, in microseconds (the resolution of `TIMESTAMPTZ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    /// Emission interval `T` (rounded up: a shorter one could admit one request too many).
    period_us: i64,
    /// Tolerance `(b - 1) * T`.
    tau_us: i64,
}

impl Cell {
    /// The cell of a governor quota.
    fn of(q: governor::Quota) -> Cell {
        let period_us =
            i64::try_from(q.replenish_interval().as_nanos().div_ceil(1000)).unwrap_or(i64::MAX / 2);
        let burst = i64::from(q.burst_size().get());
        Cell {
            period_us,
            tau_us: period_us.saturating_mul(burst - 1),
        }
    }

    /// No limit: only the gate holds requests back.
    const UNLIMITED: Cell = Cell {
        period_us: 0,
        tau_us: i64::MAX / 4,
    };
}

/// A [`RateLimiter`] whose budget and 429 gate live in PostgreSQL, shared by every process
/// using the same vendor key (see the [module docs](self)).
pub struct PgRateLimiter {
    pool: PgPool,
    key_hash: String,
    limits: RateLimits,
    general: Cell,
    buckets: BTreeMap<String, Cell>,
    fallback: GovernorLimiter,
}

impl fmt::Debug for PgRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgRateLimiter")
            .field("key_hash", &self.key_hash)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The row key of a vendor API key: hex SHA-256 of `vendor`, a NUL, and the key.
pub fn key_hash(vendor: &str, api_key: &SecretString) -> String {
    let mut h = Sha256::new();
    h.update(vendor.as_bytes());
    h.update([0u8]);
    h.update(api_key.expose_secret().as_bytes());
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend(format!("PostgreSQL rate limiter: {context}: {e}"))
}

impl PgRateLimiter {
    /// A limiter enforcing `limits` for `vendor`'s `api_key` in `store`'s database (run
    /// [`Store::migrate`](super::Store::migrate) first). Every process that builds one with
    /// the same vendor, key and limits shares one budget.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the cells cannot be created.
    pub async fn new(
        store: &PostgresStore,
        vendor: &str,
        api_key: &SecretString,
        limits: RateLimits,
    ) -> StoreResult<Self> {
        Self::with_pool(store.pool().clone(), vendor, api_key, limits).await
    }

    /// As [`new`](Self::new), over a pool of the caller's.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub async fn with_pool(
        pool: PgPool,
        vendor: &str,
        api_key: &SecretString,
        limits: RateLimits,
    ) -> StoreResult<Self> {
        let general = quota_for(&limits.general, limits.margin, 0)
            .map(Cell::of)
            .unwrap_or(Cell::UNLIMITED);
        let buckets: BTreeMap<String, Cell> = limits
            .buckets
            .iter()
            .map(|(name, set)| {
                let cell = quota_for(set, limits.margin, 1)
                    .map(Cell::of)
                    .unwrap_or(Cell::UNLIMITED);
                (name.clone(), cell)
            })
            .collect();
        let key_hash = key_hash(vendor, api_key);
        for bucket in std::iter::once(GENERAL).chain(buckets.keys().map(String::as_str)) {
            sqlx::query(
                "INSERT INTO gtm_rate_limits (key_hash, bucket, tat) \
                 VALUES ($1, $2, clock_timestamp()) ON CONFLICT DO NOTHING",
            )
            .bind(&key_hash)
            .bind(bucket)
            .execute(&pool)
            .await
            .map_err(backend("creating a cell"))?;
        }
        Ok(PgRateLimiter {
            pool,
            key_hash,
            fallback: GovernorLimiter::new(limits.clone()),
            limits,
            general,
            buckets,
        })
    }

    /// The limits this limiter enforces.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The row key of this limiter's API key (see [`key_hash`]).
    pub fn key_hash(&self) -> &str {
        &self.key_hash
    }

    /// When requests in `bucket` are blocked until by a 429 (the general gate included), if
    /// that is in the future.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the database cannot be read.
    pub async fn blocked_until(&self, bucket: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query(
            "SELECT MAX(blocked_until) AS until FROM gtm_rate_limits \
             WHERE key_hash = $1 AND bucket IN ($2, $3) AND blocked_until > clock_timestamp()",
        )
        .bind(&self.key_hash)
        .bind(GENERAL)
        .bind(bucket)
        .fetch_one(&self.pool)
        .await
        .map_err(backend("reading the gate"))?;
        row.try_get("until").map_err(backend("reading the gate"))
    }

    /// Take a token for a request in `bucket` now if the budget allows (`Ok(None)`), or say
    /// how long to wait (`Ok(Some(wait))`). The bucket's own cell is taken before the general
    /// one, so a refusal by the general cell leaves the bucket's token spent (as
    /// [`acquire`](RateLimiter::acquire) would then wait for the general cell).
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the database fails.
    pub async fn try_acquire(&self, bucket: &str) -> StoreResult<Option<Duration>> {
        let err = |e: sqlx::Error| StoreError::Backend(format!("PostgreSQL rate limiter: {e}"));
        if bucket != GENERAL {
            let cell = self.buckets.get(bucket).copied().unwrap_or(Cell::UNLIMITED);
            if let Some(wait) = self.try_take(bucket, cell).await.map_err(err)? {
                return Ok(Some(wait));
            }
        }
        self.try_take(GENERAL, self.general).await.map_err(err)
    }

    /// Take one token from the cell of `bucket`, or say how long to wait first.
    async fn try_take(&self, bucket: &str, cell: Cell) -> Result<Option<Duration>, sqlx::Error> {
        // One atomic statement per token: admit (moving `tat`) or change nothing.
        let admitted = sqlx::query(
            "UPDATE gtm_rate_limits r \
             SET tat = GREATEST(r.tat, n.now) + $3 * interval '1 microsecond' \
             FROM (SELECT clock_timestamp() AS now) n \
             WHERE r.key_hash = $1 AND r.bucket = $2 \
               AND GREATEST(r.tat, n.now) <= n.now + $4 * interval '1 microsecond' \
               AND (r.blocked_until IS NULL OR r.blocked_until <= n.now) \
             RETURNING 1",
        )
        .bind(&self.key_hash)
        .bind(bucket)
        .bind(cell.period_us)
        .bind(cell.tau_us)
        .fetch_optional(&self.pool)
        .await?;
        if admitted.is_some() {
            return Ok(None);
        }
        // Refused (or no such row: a bucket never limited nor blocked).
        let row = sqlx::query(
            "SELECT (EXTRACT(EPOCH FROM (GREATEST(tat - $3 * interval '1 microsecond', \
                       COALESCE(blocked_until, '-infinity')) - n.now)) * 1000000)::bigint AS wait_us \
             FROM gtm_rate_limits, (SELECT clock_timestamp() AS now) n \
             WHERE key_hash = $1 AND bucket = $2",
        )
        .bind(&self.key_hash)
        .bind(bucket)
        .bind(cell.tau_us)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let wait_us: Option<i64> = row.try_get("wait_us")?;
        // At least a millisecond: the state changed between the two statements otherwise.
        let wait = u64::try_from(wait_us.unwrap_or(0)).unwrap_or(0).max(1000);
        Ok(Some(Duration::from_micros(wait)))
    }

    /// Wait for a token of `bucket`'s cell. `false` when the database failed.
    async fn take(&self, bucket: &str, cell: Cell) -> bool {
        loop {
            match self.try_take(bucket, cell).await {
                Ok(None) => return true,
                // A little spread so that processes woken together do not all collide.
                Ok(Some(wait)) => {
                    let spread = Duration::from_micros(fastrand::u64(0..=500));
                    tokio::time::sleep(wait + spread).await;
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "shared rate limiter unavailable; pacing this process alone"
                    );
                    return false;
                }
            }
        }
    }
}

#[async_trait]
impl RateLimiter for PgRateLimiter {
    async fn acquire(&self, bucket: &str) -> Permit {
        // GCRA counts a request at its admission (the limits' margin covers the way to
        // the vendor), and so does the in-process fallback.
        if bucket != GENERAL {
            let cell = self.buckets.get(bucket).copied().unwrap_or(Cell::UNLIMITED);
            if !self.take(bucket, cell).await {
                return self.fallback.acquire(bucket).await;
            }
        }
        if !self.take(GENERAL, self.general).await {
            return self.fallback.acquire(GENERAL).await;
        }
        Permit::none()
    }

    async fn penalize(&self, bucket: &str, wait: Duration) {
        self.fallback.penalize(bucket, wait).await;
        let wait_us = i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 4);
        let r = sqlx::query(
            "INSERT INTO gtm_rate_limits AS r (key_hash, bucket, tat, blocked_until) \
             VALUES ($1, $2, clock_timestamp(), clock_timestamp() + $3 * interval '1 microsecond') \
             ON CONFLICT (key_hash, bucket) DO UPDATE SET blocked_until = \
               GREATEST(COALESCE(r.blocked_until, '-infinity'), excluded.blocked_until)",
        )
        .bind(&self.key_hash)
        .bind(bucket)
        .bind(wait_us)
        .execute(&self.pool)
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not share a 429 through the database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_up_and_keep_the_burst() {
        let limits = RateLimits::new(vendor_http::limit::LimitSet::new([
            vendor_http::limit::Limit::per_second(5),
            vendor_http::limit::Limit::per_minute(200),
        ]));
        let q = quota_for(&limits.general, limits.margin, 0).unwrap();
        let c = Cell::of(q);
        assert!(c.period_us as u128 * 1000 >= q.replenish_interval().as_nanos());
        assert_eq!(
            c.tau_us,
            c.period_us * (i64::from(q.burst_size().get()) - 1)
        );
    }

    #[test]
    fn the_key_is_hashed_per_vendor() {
        let k = SecretString::from("secret-key-123");
        let a = key_hash("zapmail", &k);
        assert_eq!(a.len(), 64);
        assert!(!a.contains("secret"));
        assert_ne!(a, key_hash("plusvibe", &k));
    }
}

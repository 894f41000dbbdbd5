//! Storage behind one trait, with one contract-test suite every backend passes
//! ([`contract`]).
//!
//! A provision's state is one document ([`ProvisionState`]) saved atomically with
//! optimistic concurrency: every save names the version it read, and fails with
//! [`StoreError::Conflict`] if anyone wrote in between. Claiming a provision for work bumps
//! the version too, so a worker whose claim was taken over cannot write any more (the
//! version is the fencing token). Backends project the seed's columns and rows from the
//! document in the same transaction, and append the progress events given with the save to
//! an append-only event log.
//!
//! Nothing here is SQL-specific: the in-memory store implements the same contract.

pub mod contract;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
pub mod postgres_limiter;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CustomerId, ProvisionId, ProvisionState, ProvisionStatus, Tier, TierId};
use crate::progress::ProgressEvent;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "postgres")]
pub use postgres_limiter::PgRateLimiter;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Errors from a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No provision with this id.
    #[error("provision {0} not found")]
    NotFound(ProvisionId),
    /// No tier with this id or slug.
    #[error("tier {0:?} not found")]
    TierNotFound(String),
    /// The customer already has a provision (one per customer, as in the seed).
    #[error("customer {customer} already has provision {existing}")]
    DuplicateCustomer {
        /// The customer.
        customer: CustomerId,
        /// Their provision.
        existing: ProvisionId,
    },
    /// Another tier has this slug.
    #[error("a tier with slug {0:?} already exists")]
    DuplicateTierSlug(String),
    /// Someone else wrote the provision since it was read (or took over the claim).
    #[error(
        "provision {id} changed since version {expected} was read (another worker took it over?)"
    )]
    Conflict {
        /// The provision.
        id: ProvisionId,
        /// The version the writer expected.
        expected: u64,
    },
    /// The database failed.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// Stored data could not be read back.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A value with the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version (pass it back to [`Store::save`]).
    pub version: u64,
}

/// A worker's claim on a provision, returned by [`Store::claim_due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The provision.
    pub id: ProvisionId,
    /// The version after claiming: the fence for the claimer's next save.
    pub version: u64,
}

/// A stream of provision ids announced by [`Store::subscribe`].
pub type Wakeups = futures::stream::BoxStream<'static, ProvisionId>;

/// A row of [`Store::list_provisions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionSummary {
    /// Id.
    pub id: ProvisionId,
    /// Customer.
    pub customer_id: CustomerId,
    /// Customer name.
    pub customer_name: String,
    /// Tier slug.
    pub tier_slug: String,
    /// Status.
    pub status: ProvisionStatus,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

/// An event as stored, with its position in the provision's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position (1-based, increasing per store).
    pub seq: u64,
    /// The event.
    pub event: ProgressEvent,
}

/// Where provisions, tiers and events live.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Create or upgrade the schema (idempotent).
    async fn migrate(&self) -> StoreResult<()>;

    /// Insert or update a tier (by id). Slugs are unique.
    async fn put_tier(&self, tier: &Tier) -> StoreResult<()>;
    /// Every tier, active or not, by `sort_order` then name.
    async fn tiers(&self) -> StoreResult<Vec<Tier>>;
    /// A tier by id.
    async fn tier(&self, id: TierId) -> StoreResult<Tier> {
        self.tiers()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| StoreError::TierNotFound(id.to_string()))
    }
    /// A tier by slug.
    async fn tier_by_slug(&self, slug: &str) -> StoreResult<Tier> {
        self.tiers()
            .await?
            .into_iter()
            .find(|t| t.slug == slug)
            .ok_or_else(|| StoreError::TierNotFound(slug.to_string()))
    }
    /// Insert the seed's default tiers if there are no tiers at all.
    async fn seed_default_tiers(&self) -> StoreResult<()> {
        if self.tiers().await?.is_empty() {
            for t in Tier::seed_defaults() {
                self.put_tier(&t).await?;
            }
        }
        Ok(())
    }

    /// Which of `names` (normalized domain names) already belong to a provision that is
    /// not cancelled, and to which: `(domain, provision)`. The default reads every
    /// provision; stores with a domain table answer from it.
    async fn domain_owners(&self, names: &[String]) -> StoreResult<Vec<(String, ProvisionId)>> {
        let mut out = Vec::new();
        for p in self.list_provisions().await? {
            if p.status == ProvisionStatus::Cancelled {
                continue;
            }
            let state = self.load(p.id).await?.value;
            for d in &state.domains {
                if names.iter().any(|n| n.eq_ignore_ascii_case(&d.name)) {
                    out.push((d.name.clone(), p.id));
                }
            }
        }
        Ok(out)
    }

    /// Insert a new provision (version 1). One provision per customer.
    async fn insert_provision(&self, state: &ProvisionState) -> StoreResult<u64>;
    /// Read a provision with its version.
    async fn load(&self, id: ProvisionId) -> StoreResult<Versioned<ProvisionState>>;
    /// The provision of a customer, if any.
    async fn find_by_customer(&self, customer: CustomerId) -> StoreResult<Option<ProvisionId>>;
    /// Every provision, newest first.
    async fn list_provisions(&self) -> StoreResult<Vec<ProvisionSummary>>;
    /// Save `state` if the stored version is still `expected`, and append `events`, in one
    /// transaction. Returns the new version. `lease_until` keeps (or renews) the saver's
    /// claim until then; `None` releases it.
    async fn save(
        &self,
        state: &ProvisionState,
        expected: u64,
        events: &[ProgressEvent],
        lease_until: Option<DateTime<Utc>>,
    ) -> StoreResult<u64>;
    /// Claim one provision for `worker` until `lease_until`, whatever its due time, unless a
    /// live claim of another worker holds it (then `None`). Bumps the version.
    async fn claim(
        &self,
        id: ProvisionId,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Claim>>;
    /// Claim up to `limit` provisions whose run is due at `now` and under no live lease (not
    /// even `worker`'s own: it may be driving the run right now), until `lease_until`,
    /// earliest due first. Each claim bumps the version.
    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Claim>>;
    /// Extend `worker`'s claim on a provision to `lease_until` without changing its version
    /// (the heartbeat of a long step). Returns `false`, changing nothing, when the claim is no
    /// longer `worker`'s: released, or taken over by another worker after it expired.
    async fn renew_lease(
        &self,
        id: ProvisionId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The earliest time any unclaimed live run is due, if any (for workers to sleep until).
    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Announcements of provisions whose run became due now (a new or woken run), by any
    /// process, for workers to wake on at once instead of at their next timed poll.
    ///
    /// `None` (the default) when the backend cannot announce across processes; workers then
    /// rely on their timed poll alone. The stream may end (e.g. its connection dropped):
    /// subscribe again later. Items are hints, never claims.
    async fn subscribe(&self) -> StoreResult<Option<Wakeups>> {
        Ok(None)
    }
    /// Events of a provision with `seq > after`, in order.
    async fn events(&self, id: ProvisionId, after: u64) -> StoreResult<Vec<StoredEvent>>;
}

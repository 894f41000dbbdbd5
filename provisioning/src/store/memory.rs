//! The in-memory store: for tests and throwaway runs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Claim, ProvisionSummary, Store, StoreError, StoreResult, StoredEvent, Versioned};
use crate::model::{CustomerId, ProvisionId, ProvisionState, Tier};
use crate::progress::ProgressEvent;

#[derive(Debug, Default)]
struct Inner {
    tiers: Vec<Tier>,
    provisions: HashMap<ProvisionId, Entry>,
    events: Vec<(ProvisionId, StoredEvent)>,
}

#[derive(Debug)]
struct Entry {
    state: ProvisionState,
    version: u64,
    lease_owner: Option<String>,
    lease_until: Option<DateTime<Utc>>,
}

/// Keeps everything in process memory; lost when dropped.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn claimable(e: &Entry, worker: &str, now: DateTime<Utc>) -> bool {
    match (&e.lease_owner, e.lease_until) {
        (Some(owner), Some(until)) => owner == worker || until <= now,
        _ => true,
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn migrate(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn put_tier(&self, tier: &Tier) -> StoreResult<()> {
        let mut g = self.lock();
        if g.tiers
            .iter()
            .any(|t| t.slug == tier.slug && t.id != tier.id)
        {
            return Err(StoreError::DuplicateTierSlug(tier.slug.clone()));
        }
        match g.tiers.iter_mut().find(|t| t.id == tier.id) {
            Some(t) => *t = tier.clone(),
            None => g.tiers.push(tier.clone()),
        }
        Ok(())
    }

    async fn tiers(&self) -> StoreResult<Vec<Tier>> {
        let mut t = self.lock().tiers.clone();
        t.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        Ok(t)
    }

    async fn insert_provision(&self, state: &ProvisionState) -> StoreResult<u64> {
        let mut g = self.lock();
        if let Some(existing) = g
            .provisions
            .values()
            .find(|e| e.state.customer.id == state.customer.id)
        {
            return Err(StoreError::DuplicateCustomer {
                customer: state.customer.id,
                existing: existing.state.id,
            });
        }
        if !g.tiers.iter().any(|t| t.id == state.tier_id) {
            return Err(StoreError::TierNotFound(state.tier_id.to_string()));
        }
        if g.provisions.contains_key(&state.id) {
            return Err(StoreError::Backend(format!(
                "provision {} exists",
                state.id
            )));
        }
        g.provisions.insert(
            state.id,
            Entry {
                state: state.clone(),
                version: 1,
                lease_owner: None,
                lease_until: None,
            },
        );
        Ok(1)
    }

    async fn load(&self, id: ProvisionId) -> StoreResult<Versioned<ProvisionState>> {
        let g = self.lock();
        let e = g.provisions.get(&id).ok_or(StoreError::NotFound(id))?;
        Ok(Versioned {
            value: e.state.clone(),
            version: e.version,
        })
    }

    async fn find_by_customer(&self, customer: CustomerId) -> StoreResult<Option<ProvisionId>> {
        Ok(self
            .lock()
            .provisions
            .values()
            .find(|e| e.state.customer.id == customer)
            .map(|e| e.state.id))
    }

    async fn list_provisions(&self) -> StoreResult<Vec<ProvisionSummary>> {
        let g = self.lock();
        let mut v: Vec<_> = g
            .provisions
            .values()
            .map(|e| (e.state.created_at, summary(&e.state)))
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        Ok(v.into_iter().map(|(_, s)| s).collect())
    }

    async fn save(
        &self,
        state: &ProvisionState,
        expected: u64,
        events: &[ProgressEvent],
        lease_until: Option<DateTime<Utc>>,
    ) -> StoreResult<u64> {
        let mut g = self.lock();
        let next_seq = g.events.len() as u64 + 1;
        let e = g
            .provisions
            .get_mut(&state.id)
            .ok_or(StoreError::NotFound(state.id))?;
        if e.version != expected {
            return Err(StoreError::Conflict {
                id: state.id,
                expected,
            });
        }
        e.state = state.clone();
        e.version += 1;
        e.lease_until = lease_until;
        if lease_until.is_none() {
            e.lease_owner = None;
        }
        let version = e.version;
        for (i, ev) in events.iter().enumerate() {
            g.events.push((
                state.id,
                StoredEvent {
                    seq: next_seq + i as u64,
                    event: ev.clone(),
                },
            ));
        }
        Ok(version)
    }

    async fn claim(
        &self,
        id: ProvisionId,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Claim>> {
        let mut g = self.lock();
        let e = g.provisions.get_mut(&id).ok_or(StoreError::NotFound(id))?;
        if !claimable(e, worker, now) {
            return Ok(None);
        }
        e.lease_owner = Some(worker.to_string());
        e.lease_until = Some(lease_until);
        e.version += 1;
        Ok(Some(Claim {
            id,
            version: e.version,
        }))
    }

    async fn renew_lease(
        &self,
        id: ProvisionId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut g = self.lock();
        let e = g.provisions.get_mut(&id).ok_or(StoreError::NotFound(id))?;
        if e.lease_owner.as_deref() != Some(worker) {
            return Ok(false);
        }
        e.lease_until = Some(lease_until);
        Ok(true)
    }

    async fn domain_owners(&self, names: &[String]) -> StoreResult<Vec<(String, ProvisionId)>> {
        let g = self.lock();
        let mut out = Vec::new();
        for e in g.provisions.values() {
            if e.state.status == crate::model::ProvisionStatus::Cancelled {
                continue;
            }
            for d in &e.state.domains {
                if names.iter().any(|n| n.eq_ignore_ascii_case(&d.name)) {
                    out.push((d.name.clone(), e.state.id));
                }
            }
        }
        Ok(out)
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Claim>> {
        let mut g = self.lock();
        let mut due: Vec<(DateTime<Utc>, ProvisionId)> = g
            .provisions
            .values()
            // Never a run under a live lease, even the worker's own (it may be driving it).
            .filter(|e| e.lease_owner.is_none() || e.lease_until.is_none_or(|u| u <= now))
            .filter_map(|e| {
                e.state
                    .due_at()
                    .filter(|t| *t <= now)
                    .map(|t| (t, e.state.id))
            })
            .collect();
        due.sort();
        let mut out = Vec::new();
        for (_, id) in due.into_iter().take(limit) {
            let e = g.provisions.get_mut(&id).expect("listed above");
            e.lease_owner = Some(worker.to_string());
            e.lease_until = Some(lease_until);
            e.version += 1;
            out.push(Claim {
                id,
                version: e.version,
            });
        }
        Ok(out)
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let now = Utc::now();
        Ok(self
            .lock()
            .provisions
            .values()
            .filter_map(|e| {
                let due = e.state.due_at()?;
                // A live claim hides the run until the lease ends.
                Some(match e.lease_until {
                    Some(until) if until > now && e.lease_owner.is_some() => due.max(until),
                    _ => due,
                })
            })
            .min())
    }

    async fn events(&self, id: ProvisionId, after: u64) -> StoreResult<Vec<StoredEvent>> {
        Ok(self
            .lock()
            .events
            .iter()
            .filter(|(p, e)| *p == id && e.seq > after)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

/// The summary row of a provision (shared by backends).
pub(crate) fn summary(s: &ProvisionState) -> ProvisionSummary {
    ProvisionSummary {
        id: s.id,
        customer_id: s.customer.id,
        customer_name: s.customer.name.clone(),
        tier_slug: s.tier.slug.clone(),
        status: s.status,
        updated_at: s.updated_at,
    }
}

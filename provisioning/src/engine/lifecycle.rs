//! The billing lifecycle around a provision: hooks a host calls from its Stripe webhook
//! handler, upgrades to a larger tier, and cancellation.
//!
//! | Stripe event | call | effect |
//! |---|---|---|
//! | `checkout.session.completed` | [`Engine::checkout_completed`] | Stripe ids stored, provisioning queued |
//! | `customer.subscription.updated` | [`Engine::subscription_updated`] | tier change → [`Engine::upgrade`] |
//! | `customer.subscription.deleted` | [`Engine::subscription_deleted`] | → [`Engine::cancel`] |
//! | `invoice.payment_failed` | [`Engine::invoice_payment_failed`] | provision flagged, sinks notified |
//!
//! Stripe delivers events at least once and in any order, so every hook is idempotent: a
//! repeated event answers [`EventOutcome::applied`] `false` and changes nothing. An event
//! for an unknown provision, for another subscription, or that does not fit the
//! provision's state is an error and changes nothing either (answer Stripe with a non-2xx
//! status only if you want it delivered again later, e.g. a cancellation that arrived
//! while a run was still in progress).
//!
//! ```no_run
//! # async fn demo(engine: provisioning::Engine, id: provisioning::ProvisionId) -> Result<(), provisioning::EngineError> {
//! use provisioning::{CheckoutCompleted, InvoicePaymentFailed};
//! // checkout.session.completed (metadata.provisionId → id)
//! let out = engine
//!     .checkout_completed(id, CheckoutCompleted::new("cs_123").customer("cus_1").subscription("sub_1"))
//!     .await?;
//! if out.applied { /* a worker (engine.run_worker) picks the run up */ }
//! // invoice.payment_failed
//! engine.invoice_payment_failed(id, InvoicePaymentFailed::new("in_9").subscription("sub_1")).await?;
//! // customer.subscription.deleted
//! engine.subscription_deleted(id, Some("sub_1")).await?;
//! # Ok(()) }
//! ```

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::steps::validate::{check_domains, domain_record};
use super::{Engine, EngineError, Snapshot, new_run, steps};
use crate::model::*;
use crate::progress::ProgressEvent;
use crate::store::StoreError;

/// What a cancellation stops ([`EngineConfig::teardown`](crate::EngineConfig::teardown)).
/// Domains are always kept: their registration is paid for the year, and the customer may
/// come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teardown {
    /// Set warmup `INACTIVE` on every account in PlusVibe (default: on).
    pub stop_warmup: bool,
    /// Schedule the Zapmail mailboxes for removal at the next monthly renewal, which ends
    /// their billing (default: on).
    pub remove_mailboxes_at_renewal: bool,
}

impl Default for Teardown {
    fn default() -> Self {
        Teardown {
            stop_warmup: true,
            remove_mailboxes_at_renewal: true,
        }
    }
}

/// Stripe's `checkout.session.completed`, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutCompleted {
    /// The checkout session id (`cs_...`): repeated deliveries carry the same one.
    pub session_id: String,
    /// The Stripe customer (`cus_...`).
    pub customer_id: Option<String>,
    /// The subscription (`sub_...`).
    pub subscription_id: Option<String>,
}

impl CheckoutCompleted {
    /// A completed checkout session.
    pub fn new(session_id: impl Into<String>) -> Self {
        CheckoutCompleted {
            session_id: session_id.into(),
            customer_id: None,
            subscription_id: None,
        }
    }
    /// The Stripe customer.
    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }
    /// The subscription.
    pub fn subscription(mut self, id: impl Into<String>) -> Self {
        self.subscription_id = Some(id.into());
        self
    }
}

/// Stripe's `invoice.payment_failed`, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePaymentFailed {
    /// The invoice (`in_...`): one flag per invoice, however often Stripe retries it.
    pub invoice_id: String,
    /// The subscription it bills, checked against the provision's when both are known.
    pub subscription_id: Option<String>,
    /// Stripe's `attempt_count`.
    pub attempt_count: Option<u32>,
    /// Stripe's `hosted_invoice_url`, for the notification.
    pub hosted_invoice_url: Option<String>,
}

impl InvoicePaymentFailed {
    /// A failed payment of `invoice_id`.
    pub fn new(invoice_id: impl Into<String>) -> Self {
        InvoicePaymentFailed {
            invoice_id: invoice_id.into(),
            subscription_id: None,
            attempt_count: None,
            hosted_invoice_url: None,
        }
    }
    /// The subscription it bills.
    pub fn subscription(mut self, id: impl Into<String>) -> Self {
        self.subscription_id = Some(id.into());
        self
    }
}

/// What a lifecycle hook did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    /// `false` when the event had been applied already (a repeated delivery) or asks for
    /// what already holds: nothing changed.
    pub applied: bool,
    /// The provision afterwards.
    pub snapshot: Snapshot,
}

/// The flag an unpaid invoice puts on a provision.
pub fn invoice_flag(invoice_id: &str) -> String {
    format!("invoice_payment_failed:{invoice_id}")
}

enum Change {
    /// Nothing to do (already applied).
    Nothing,
    /// Save, with these events; `wake` a worker if a run was queued.
    Save {
        events: Vec<(u32, &'static str, StepStatus, String, Option<String>)>,
        details: Option<serde_json::Value>,
        wake: bool,
    },
}

impl Change {
    fn run_queued() -> Self {
        Change::Save {
            events: Vec::new(),
            details: None,
            wake: true,
        }
    }
}

fn check_subscription(s: &ProvisionState, given: Option<&str>) -> Result<(), EngineError> {
    match (given, s.payment.subscription_id.as_deref()) {
        (Some(g), Some(mine)) if g != mine => Err(EngineError::Invalid(format!(
            "subscription {g} does not belong to provision {} (its subscription is {mine})",
            s.id
        ))),
        _ => Ok(()),
    }
}

fn wrong(s: &ProvisionState, action: &'static str) -> EngineError {
    EngineError::WrongState {
        id: s.id,
        status: s.status,
        action,
    }
}

impl Engine {
    /// Load, decide, save fenced by the version (again on a concurrent write), then tell
    /// the sinks and wake a worker. `decide` must change nothing when it returns an error
    /// or [`Change::Nothing`].
    async fn apply(
        &self,
        id: ProvisionId,
        mut decide: impl FnMut(&mut ProvisionState) -> Result<Change, EngineError>,
    ) -> Result<EventOutcome, EngineError> {
        loop {
            let loaded = self.inner.store.load(id).await?;
            let mut s = loaded.value;
            let (events, details, wake) = match decide(&mut s)? {
                Change::Nothing => {
                    return Ok(EventOutcome {
                        applied: false,
                        snapshot: Snapshot::of(&s),
                    });
                }
                Change::Save {
                    events,
                    details,
                    wake,
                } => (events, details, wake),
            };
            let now = Utc::now();
            s.updated_at = now;
            let events: Vec<ProgressEvent> = events
                .into_iter()
                .map(|(step, name, status, message, error)| ProgressEvent {
                    provision_id: s.id,
                    run_id: s.run.as_ref().map(|r| r.id),
                    at: now,
                    step,
                    name: name.to_string(),
                    status,
                    provision_status: s.status,
                    message: Some(message),
                    error,
                    details: details.clone(),
                })
                .collect();
            match self
                .inner
                .store
                .save(&s, loaded.version, &events, None)
                .await
            {
                Ok(_) => {
                    for e in &events {
                        self.inner.sinks.emit(e);
                    }
                    if wake {
                        self.inner.wake.notify_one();
                    }
                    return Ok(EventOutcome {
                        applied: true,
                        snapshot: Snapshot::of(&s),
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `checkout.session.completed`: store the Stripe ids and queue the provisioning run
    /// (`pending_payment` → `provisioning`). The same session delivered again changes
    /// nothing (`applied: false`); another session for a provision already paid, or any
    /// checkout for a cancelled one, is [`EngineError::WrongState`].
    pub async fn checkout_completed(
        &self,
        id: ProvisionId,
        checkout: CheckoutCompleted,
    ) -> Result<EventOutcome, EngineError> {
        let session = checkout.session_id.trim().to_string();
        if session.is_empty() {
            return Err(EngineError::Invalid(
                "the checkout session id is empty".into(),
            ));
        }
        self.apply(id, |s| {
            if s.status != ProvisionStatus::PendingPayment {
                if s.payment.checkout_session_id.as_deref() == Some(session.as_str()) {
                    return Ok(Change::Nothing);
                }
                return Err(wrong(
                    s,
                    "complete a checkout (it is not waiting for payment; this session is not the one that paid it)",
                ));
            }
            s.payment = Payment {
                checkout_session_id: Some(session.clone()),
                customer_id: checkout.customer_id.clone(),
                subscription_id: checkout.subscription_id.clone(),
            };
            s.status = ProvisionStatus::Provisioning;
            s.run = Some(new_run(RunKind::Provision));
            s.provisioning_log = steps::initial_log(RunKind::Provision);
            Ok(Change::run_queued())
        })
        .await
    }

    /// `customer.subscription.updated`: when the subscription's tier is larger than the
    /// provision's, start an [`upgrade`](Self::upgrade) with `new_domains` (which the host's
    /// upgrade screen collected before the checkout). The same tier (Stripe sends this
    /// event for many reasons) or an upgrade already started for this tier changes nothing;
    /// a smaller tier is refused.
    pub async fn subscription_updated<S: AsRef<str>>(
        &self,
        id: ProvisionId,
        subscription_id: Option<&str>,
        tier_slug: &str,
        new_domains: &[S],
    ) -> Result<EventOutcome, EngineError> {
        self.upgrade_inner(id, subscription_id, tier_slug, new_domains, true)
            .await
    }

    /// `customer.subscription.deleted`: [`cancel`](Self::cancel) the provision. Already
    /// cancelled: nothing changes.
    pub async fn subscription_deleted(
        &self,
        id: ProvisionId,
        subscription_id: Option<&str>,
    ) -> Result<EventOutcome, EngineError> {
        self.cancel_inner(id, subscription_id).await
    }

    /// `invoice.payment_failed`: flag the provision (`invoice_payment_failed:<invoice>`,
    /// see [`Snapshot::flags`]) and notify the sinks with a failed run-level event (step
    /// 0, "Invoice payment failed"; a [`WebhookSink`](crate::WebhookSink) posts it). The
    /// same invoice again changes nothing. Nothing is stopped: Stripe retries the payment,
    /// and deletes the subscription if it never succeeds.
    pub async fn invoice_payment_failed(
        &self,
        id: ProvisionId,
        invoice: InvoicePaymentFailed,
    ) -> Result<EventOutcome, EngineError> {
        let invoice_id = invoice.invoice_id.trim().to_string();
        if invoice_id.is_empty() {
            return Err(EngineError::Invalid("the invoice id is empty".into()));
        }
        let flag = invoice_flag(&invoice_id);
        self.apply(id, |s| {
            if s.status == ProvisionStatus::PendingPayment {
                return Err(wrong(
                    s,
                    "record a failed invoice (it has no subscription yet)",
                ));
            }
            check_subscription(s, invoice.subscription_id.as_deref())?;
            if s.flags.contains(&flag) {
                return Ok(Change::Nothing);
            }
            s.flags.push(flag.clone());
            let attempt = invoice
                .attempt_count
                .map(|n| format!(" (attempt {n})"))
                .unwrap_or_default();
            Ok(Change::Save {
                events: vec![(
                    0,
                    "Invoice payment failed",
                    StepStatus::Failed,
                    format!("the payment of invoice {invoice_id} failed{attempt}; the provision is flagged"),
                    Some(format!("invoice {invoice_id}: payment failed{attempt}")),
                )],
                details: Some(json!({
                    "invoice_id": invoice_id,
                    "subscription_id": s.payment.subscription_id,
                    "attempt_count": invoice.attempt_count,
                    "hosted_invoice_url": invoice.hosted_invoice_url,
                    "flag": flag,
                })),
                wake: false,
            })
        })
        .await
    }

    /// Move an `active` provision to the larger tier `new_tier_slug`, adding
    /// `new_domains` (exactly as many as the new tier has more than the old one). Queues
    /// an upgrade run (status `upgrading`): it buys only the new domains, creates their
    /// mailboxes with the provision's patterns, exports them into the existing PlusVibe
    /// workspace, configures their warmup, then sets the new tier (status `active`).
    /// Resumable with the same guarantees as the first provisioning; drive it with
    /// [`run`](Self::run) or a worker. Downgrades and same-tier requests are refused
    /// ([`EngineError::Invalid`]); asking again for the upgrade in progress changes nothing.
    pub async fn upgrade<S: AsRef<str>>(
        &self,
        id: ProvisionId,
        new_tier_slug: &str,
        new_domains: &[S],
    ) -> Result<Snapshot, EngineError> {
        Ok(self
            .upgrade_inner(id, None, new_tier_slug, new_domains, false)
            .await?
            .snapshot)
    }

    async fn upgrade_inner<S: AsRef<str>>(
        &self,
        id: ProvisionId,
        subscription_id: Option<&str>,
        new_tier_slug: &str,
        new_domains: &[S],
        same_tier_is_noop: bool,
    ) -> Result<EventOutcome, EngineError> {
        let slug = new_tier_slug.trim();
        let tier = match self.inner.store.tier_by_slug(slug).await {
            Ok(t) => t,
            Err(StoreError::TierNotFound(_)) => {
                return Err(EngineError::Invalid(format!(
                    "unknown tier {slug:?}; known tiers: {}",
                    self.tier_slugs().await?
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let raw: Vec<String> = new_domains.iter().map(|d| d.as_ref().to_string()).collect();
        let tlds = self.inner.config.supported_tlds.clone();
        self.apply(id, |s| {
            check_subscription(s, subscription_id)?;
            // Repeated: the upgrade to this tier is under way (or failed and awaits a retry).
            if s.ledger.upgrade_to.as_ref().is_some_and(|t| t.slug == tier.slug) {
                return Ok(Change::Nothing);
            }
            if s.tier.slug == tier.slug {
                if same_tier_is_noop {
                    // Stripe sends `subscription.updated` for many reasons besides a tier
                    // change (renewals, payment methods...), and again after the upgrade.
                    return Ok(Change::Nothing);
                }
                return Err(EngineError::Invalid(format!(
                    "provision {} is already on tier {:?}",
                    s.id, tier.slug
                )));
            }
            if tier.domain_count <= s.tier.domain_count {
                return Err(EngineError::Invalid(format!(
                    "moving from {} ({} domains) to {} ({} domains) is a downgrade: downgrades are not supported (domains are paid for the year; cancel instead, or keep the current tier)",
                    s.tier.name, s.tier.domain_count, tier.name, tier.domain_count
                )));
            }
            if s.ledger.upgrade_to.is_some() {
                return Err(wrong(
                    s,
                    "start another upgrade (one is in progress or failed; retry or finish it first)",
                ));
            }
            if s.status != ProvisionStatus::Active {
                return Err(wrong(s, "upgrade (only an active provision can be upgraded)"));
            }
            let have = s.domains.len() as u32;
            if tier.domain_count <= have {
                return Err(EngineError::Invalid(format!(
                    "provision {} already has {have} domains; tier {} has {}",
                    s.id, tier.name, tier.domain_count
                )));
            }
            if !tier.is_active {
                return Err(EngineError::Invalid(format!(
                    "tier {:?} is not offered any more",
                    tier.slug
                )));
            }
            if tier.mailboxes_per_domain != s.tier.mailboxes_per_domain {
                return Err(EngineError::Invalid(format!(
                    "tier {:?} has {} mailboxes per domain, the provision's patterns give {}",
                    tier.slug, tier.mailboxes_per_domain, s.tier.mailboxes_per_domain
                )));
            }
            let need = (tier.domain_count - have) as usize;
            let names = check_domains(&raw, need, &tlds).map_err(|e| match e {
                EngineError::Invalid(m) => EngineError::Invalid(format!(
                    "upgrading from {} to {} adds {need} domains: {m}",
                    s.tier.name, tier.name
                )),
                other => other,
            })?;
            if let Some(dup) = names.iter().find(|n| s.domain(n).is_some()) {
                return Err(EngineError::Invalid(format!(
                    "domain {dup} is already part of provision {}",
                    s.id
                )));
            }
            let run = new_run(RunKind::Upgrade);
            for n in &names {
                s.domains
                    .push(domain_record(n, &s.mailbox_patterns, Some(run.id)));
            }
            s.ledger.upgrade_to = Some(tier.clone());
            // The first export may have used the partner upload; the new mailboxes go
            // through the export again (and fall back again if it fails).
            s.ledger.used_partner_upload = false;
            s.ledger.export_id = None;
            s.ledger.mailboxes_in_flight.clear();
            s.status = ProvisionStatus::Upgrading;
            s.run = Some(run);
            s.provisioning_log = steps::initial_log(RunKind::Upgrade);
            Ok(Change::run_queued())
        })
        .await
    }

    /// Cancel a provision: status `cancelled`, then a teardown run (as configured by
    /// [`EngineConfig::teardown`](crate::EngineConfig::teardown): warmup `INACTIVE`,
    /// mailboxes removed at the next renewal, domains kept), resumable and recorded in the
    /// `provisioning_log`. Drive it with [`run`](Self::run) or a worker. A provision never
    /// paid for is cancelled with nothing to tear down; one already cancelled is returned
    /// as it is. Refused while a provisioning or upgrade run is in progress (its vendor
    /// calls would race the teardown): cancel once it has ended or failed.
    pub async fn cancel(&self, id: ProvisionId) -> Result<Snapshot, EngineError> {
        Ok(self.cancel_inner(id, None).await?.snapshot)
    }

    async fn cancel_inner(
        &self,
        id: ProvisionId,
        subscription_id: Option<&str>,
    ) -> Result<EventOutcome, EngineError> {
        self.apply(id, |s| {
            check_subscription(s, subscription_id)?;
            match s.status {
                ProvisionStatus::Cancelled => return Ok(Change::Nothing),
                ProvisionStatus::PendingPayment => {
                    s.status = ProvisionStatus::Cancelled;
                    return Ok(Change::Save {
                        events: vec![(
                            0,
                            "Cancelled",
                            StepStatus::Completed,
                            "cancelled before payment: nothing to tear down".into(),
                            None,
                        )],
                        details: None,
                        wake: false,
                    });
                }
                _ => {}
            }
            if s.run.as_ref().is_some_and(|r| r.status.is_live()) {
                return Err(wrong(
                    s,
                    "cancel while a run is in progress (cancel once it has finished or failed)",
                ));
            }
            s.ledger.upgrade_to = None;
            s.status = ProvisionStatus::Cancelled;
            s.run = Some(new_run(RunKind::Cancel));
            s.provisioning_log = steps::initial_log(RunKind::Cancel);
            Ok(Change::run_queued())
        })
        .await
    }
}

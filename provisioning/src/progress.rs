//! Progress events and the sinks that receive them.
//!
//! The store's `provisioning_log` always receives progress (it is part of the saved state);
//! sinks are for everyone else: a [`BroadcastSink`] for live UIs, a [`TracingSink`] for logs,
//! [`FnSink`] for any closure (the Python callbacks wrap one), and [`WebhookSink`] to POST
//! completions and failures, signed, to a URL. Events never carry a secret: they are built
//! from names, ids, counts and redacted error text only.

pub mod webhook;

pub use webhook::{WebhookConfig, WebhookSink};

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ProvisionId, ProvisionStatus, RunId, StepStatus};

/// One progress event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// The provision.
    pub provision_id: ProvisionId,
    /// The run.
    pub run_id: Option<RunId>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Step number (1-based, the seed's numbering), 0 for run-level events.
    pub step: u32,
    /// Step name, e.g. "Waiting for DNS setup".
    pub name: String,
    /// Step status after this event.
    pub status: StepStatus,
    /// Provision status after this event.
    pub provision_status: ProvisionStatus,
    /// Human-readable note, e.g. "2/3 domains active".
    pub message: Option<String>,
    /// The failure, if the step failed or will be retried.
    pub error: Option<String>,
    /// Step-specific details, e.g. `{"active": 2, "total": 3}`.
    pub details: Option<serde_json::Value>,
}

/// Receives progress events. Implementations must return quickly and never block: the
/// engine calls them inline.
pub trait ProgressSink: Send + Sync + 'static {
    /// Handle one event.
    fn emit(&self, event: &ProgressEvent);
}

/// The sinks an engine reports to.
#[derive(Clone, Default)]
pub struct Sinks {
    sinks: Vec<Arc<dyn ProgressSink>>,
}

impl fmt::Debug for Sinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sinks({})", self.sinks.len())
    }
}

impl Sinks {
    /// No sinks.
    pub fn new() -> Self {
        Sinks::default()
    }
    /// Add a sink.
    pub fn add(&mut self, sink: Arc<dyn ProgressSink>) {
        self.sinks.push(sink);
    }
    /// Send an event to every sink.
    pub fn emit(&self, event: &ProgressEvent) {
        for s in &self.sinks {
            s.emit(event);
        }
    }
}

/// A `tokio::sync::broadcast` channel of events, for live UIs (slow receivers lag and are
/// told how many events they missed; the store's log has them all).
#[derive(Debug, Clone)]
pub struct BroadcastSink {
    tx: tokio::sync::broadcast::Sender<ProgressEvent>,
}

impl BroadcastSink {
    /// A channel keeping up to `capacity` events per receiver.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = tokio::sync::broadcast::channel(capacity.max(1));
        BroadcastSink { tx }
    }
    /// A new receiver of every later event.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ProgressEvent> {
        self.tx.subscribe()
    }
}

impl ProgressSink for BroadcastSink {
    fn emit(&self, event: &ProgressEvent) {
        // No receiver is not an error: nobody is watching right now.
        let _ = self.tx.send(event.clone());
    }
}

/// Logs every event with `tracing` (target `provisioning::progress`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl ProgressSink for TracingSink {
    fn emit(&self, e: &ProgressEvent) {
        match e.status {
            StepStatus::Failed => tracing::warn!(
                target: "provisioning::progress",
                provision = %e.provision_id, step = e.step, name = %e.name,
                error = e.error.as_deref().unwrap_or(""), "step failed"
            ),
            _ => tracing::info!(
                target: "provisioning::progress",
                provision = %e.provision_id, step = e.step, name = %e.name,
                status = ?e.status, message = e.message.as_deref().unwrap_or(""), "progress"
            ),
        }
    }
}

/// Calls a closure for every event.
pub struct FnSink<F>(pub F);

impl<F: Fn(&ProgressEvent) + Send + Sync + 'static> ProgressSink for FnSink<F> {
    fn emit(&self, event: &ProgressEvent) {
        (self.0)(event)
    }
}

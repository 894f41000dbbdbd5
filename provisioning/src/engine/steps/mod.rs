//! The steps of each kind of run. Every step observes the vendor (by the ledger's ids or
//! by deterministic names) before it acts, so running it again after a crash, a lost
//! answer or an operator retry only does what is missing.

pub(crate) mod validate;

mod heyreach_steps;
mod lifecycle_steps;
mod plusvibe_steps;
mod zapmail_steps;

use async_trait::async_trait;
use serde_json::Value;

use super::PollKind;
use super::cx::Cx;
use super::driver::StepError;
use crate::model::{ProvisioningStep, RunKind, StepStatus};

/// The seed's ten step names, in order.
pub const STEP_NAMES: [&str; 10] = [
    "Creating Zapmail workspace",
    "Purchasing domains",
    "Waiting for DNS setup",
    "Setting up DMARC",
    "Creating mailboxes",
    "Setting up PlusVibe workspace",
    "Exporting mailboxes to PlusVibe",
    "Configuring warmup",
    "Creating HeyReach lead list",
    "Setup complete",
];

/// What a step execution achieved.
#[derive(Debug, Clone)]
pub(crate) enum StepOutcome {
    /// The step's effect exists.
    Done {
        message: Option<String>,
        details: Option<Value>,
    },
    /// The vendor is not ready yet: check again on `poll`'s schedule.
    Wait {
        poll: PollKind,
        message: String,
        details: Option<Value>,
    },
}

impl StepOutcome {
    pub(crate) fn done(message: impl Into<String>, details: Value) -> Self {
        StepOutcome::Done {
            message: Some(message.into()),
            details: Some(details),
        }
    }
    pub(crate) fn wait(poll: PollKind, message: impl Into<String>, details: Value) -> Self {
        StepOutcome::Wait {
            poll,
            message: message.into(),
            details: Some(details),
        }
    }
}

pub(crate) type StepResult = Result<StepOutcome, StepError>;

/// Whether this execution of the current step is a poll (the step returned `Wait` and is
/// re-checking) rather than a fresh attempt: the first one, one after a failed attempt, or
/// one by a new worker after the previous one died mid-step. Steps that keep a call "in
/// flight" while its effect may still appear use it to send that call again on a fresh
/// attempt, when the vendor shows no trace of it (crash matrix, issue 3).
pub(crate) fn is_poll(cx: &Cx<'_>) -> bool {
    cx.state
        .run
        .as_ref()
        .and_then(|r| r.steps.get(r.step))
        .is_some_and(|s| s.waiting_since.is_some())
}

/// One step of a run.
#[async_trait]
pub(crate) trait Step: Send + Sync {
    /// The seed's step number.
    fn number(&self) -> u32;
    /// The seed's step name.
    fn name(&self) -> &'static str {
        STEP_NAMES[(self.number() - 1) as usize]
    }
    /// Observe, then act on what is missing.
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult;
}

static PROVISION: [&dyn Step; 10] = [
    &zapmail_steps::Workspace,
    &zapmail_steps::BuyDomains,
    &zapmail_steps::WaitForDns,
    &zapmail_steps::Dmarc,
    &zapmail_steps::Mailboxes,
    &plusvibe_steps::WorkspaceAndClient,
    &plusvibe_steps::Export,
    &plusvibe_steps::Warmup,
    &heyreach_steps::LeadList,
    &heyreach_steps::Finalize,
];

/// The steps of a run of `kind`, in order.
pub(crate) fn plan(kind: RunKind) -> &'static [&'static dyn Step] {
    match kind {
        RunKind::Provision => &PROVISION,
        // The provisioning steps on the domains the upgrade adds (see `lifecycle_steps`).
        RunKind::Upgrade => &lifecycle_steps::UPGRADE,
        RunKind::Cancel => &lifecycle_steps::CANCEL,
    }
}

/// The seed's `provisioning_log` for a new run: every step `pending`.
pub(crate) fn initial_log(kind: RunKind) -> Vec<ProvisioningStep> {
    plan(kind)
        .iter()
        .map(|s| ProvisioningStep {
            step: s.number(),
            name: s.name().to_string(),
            status: StepStatus::Pending,
            started_at: None,
            completed_at: None,
            error: None,
            details: None,
        })
        .collect()
}

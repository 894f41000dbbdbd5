//! The plans of upgrade and cancellation runs.
//!
//! An upgrade reuses the provisioning steps that buy domains, wait for DNS, set DMARC,
//! create mailboxes, export them and configure warmup. They already observe before they
//! act; during an upgrade run the engine shows them only the domains that run added (see
//! `Cx::load`), so they buy exactly the additional domains and create, export and warm up
//! exactly their mailboxes, with the same crash guarantees. The last step checks the new
//! domains and mailboxes are all recorded and moves the provision to the new tier.
//!
//! A cancellation stops what costs money or sends mail, as configured by
//! [`Teardown`](crate::engine::Teardown): warmup set `INACTIVE` in PlusVibe, the Zapmail
//! mailboxes scheduled for removal at the next renewal. Both calls set a state, so running
//! them again after a crash is harmless. Domains are kept.

use async_trait::async_trait;
use plusvibe::{WarmupStatus, WorkspaceId};
use serde_json::json;
use zapmail::DomainId;
use zapmail::mailboxes::ScheduledRemovalRequest;

use super::heyreach_steps::Finalize;
use super::plusvibe_steps::{Export, Warmup};
use super::zapmail_steps::{BuyDomains, Dmarc, Mailboxes, WaitForDns, workspace_client};
use super::{Step, StepOutcome, StepResult};
use crate::engine::cx::Cx;

/// A provisioning step under another number and name (runs other than the first
/// provisioning number their steps from 1 in the seed's `provisioning_log`).
pub(crate) struct As {
    number: u32,
    name: &'static str,
    inner: &'static dyn Step,
}

#[async_trait]
impl Step for As {
    fn number(&self) -> u32 {
        self.number
    }
    fn name(&self) -> &'static str {
        self.name
    }
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        self.inner.execute(cx).await
    }
}

/// The steps of an upgrade run.
pub(crate) static UPGRADE: [&dyn Step; 7] = [
    &As {
        number: 1,
        name: "Purchasing additional domains",
        inner: &BuyDomains,
    },
    &As {
        number: 2,
        name: "Waiting for DNS setup",
        inner: &WaitForDns,
    },
    &As {
        number: 3,
        name: "Setting up DMARC",
        inner: &Dmarc,
    },
    &As {
        number: 4,
        name: "Creating mailboxes",
        inner: &Mailboxes,
    },
    &As {
        number: 5,
        name: "Exporting mailboxes to PlusVibe",
        inner: &Export,
    },
    &As {
        number: 6,
        name: "Configuring warmup",
        inner: &Warmup,
    },
    &UpgradeComplete,
];

/// The steps of a cancellation run.
pub(crate) static CANCEL: [&dyn Step; 3] =
    [&StopWarmup, &ScheduleMailboxRemoval, &CancellationComplete];

/// Last upgrade step: everything new is recorded (the provisioning's final check, on the
/// new domains), then the provision moves to the new tier.
pub(crate) struct UpgradeComplete;

#[async_trait]
impl Step for UpgradeComplete {
    fn number(&self) -> u32 {
        7
    }
    fn name(&self) -> &'static str {
        "Upgrade complete"
    }
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        Finalize.execute(cx).await?;
        let from = cx.state.tier.slug.clone();
        if let Some(tier) = cx.state.ledger.upgrade_to.take() {
            cx.state.tier_id = tier.id;
            cx.state.tier = tier;
        }
        let added = cx.state.domains.len();
        let mailboxes: usize = cx.state.domains.iter().map(|d| d.mailboxes.len()).sum();
        Ok(StepOutcome::done(
            format!(
                "upgraded from {from} to {}: {added} domains and {mailboxes} mailboxes added",
                cx.state.tier.slug
            ),
            json!({
                "from": from,
                "to": cx.state.tier.slug,
                "domains_added": cx.state.domains.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
                "mailboxes_added": mailboxes,
            }),
        ))
    }
}

/// Cancellation step 1: warmup `INACTIVE` on every account of the provision in PlusVibe.
pub(crate) struct StopWarmup;

#[async_trait]
impl Step for StopWarmup {
    fn number(&self) -> u32 {
        1
    }
    fn name(&self) -> &'static str {
        "Stopping warmup"
    }
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        if !cx.engine.config.teardown.stop_warmup {
            return Ok(StepOutcome::done(
                "warmup left running (teardown.stop_warmup is off)",
                json!({"skipped": true}),
            ));
        }
        let Some(ws) = cx.state.ledger.plusvibe_workspace_id.clone() else {
            return Ok(StepOutcome::done(
                "no PlusVibe workspace: nothing to stop",
                json!({"accounts": 0}),
            ));
        };
        let workspace = WorkspaceId::from(ws);
        let expected: Vec<String> = cx
            .state
            .domains
            .iter()
            .flat_map(|d| d.mailboxes.iter().map(|m| m.email.clone()))
            .collect();
        let pv = cx.engine.clients.plusvibe.clone();
        // Observe: which accounts exist (and which still warm up).
        let presence = pv.email_accounts().presence(&workspace, &expected).await?;
        let ids: Vec<_> = presence
            .found
            .iter()
            .filter(|a| a.warmup_status != Some(WarmupStatus::Inactive))
            .map(|a| a.id.clone())
            .collect();
        if !ids.is_empty() {
            pv.email_accounts()
                .bulk_update_warmup(&workspace, &ids, WarmupStatus::Inactive)
                .await?;
        }
        Ok(StepOutcome::done(
            format!("warmup INACTIVE on {} accounts", presence.found.len()),
            json!({"accounts": presence.found.len(), "changed": ids.len()}),
        ))
    }
}

/// Cancellation step 2: the Zapmail mailboxes of every domain scheduled for removal at the
/// next monthly renewal (`PUT /v2/mailboxes/scheduled-removal`), which stops their billing.
pub(crate) struct ScheduleMailboxRemoval;

#[async_trait]
impl Step for ScheduleMailboxRemoval {
    fn number(&self) -> u32 {
        2
    }
    fn name(&self) -> &'static str {
        "Scheduling mailbox removal"
    }
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        if !cx.engine.config.teardown.remove_mailboxes_at_renewal {
            return Ok(StepOutcome::done(
                "mailboxes kept (teardown.remove_mailboxes_at_renewal is off)",
                json!({"skipped": true}),
            ));
        }
        let ids: Vec<DomainId> = cx
            .state
            .domains
            .iter()
            .filter_map(|d| d.zapmail_domain_id.as_deref().map(DomainId::from))
            .collect();
        if ids.is_empty() || cx.state.ledger.zapmail_workspace_id.is_none() {
            return Ok(StepOutcome::done(
                "no Zapmail domains: no mailboxes to remove",
                json!({"domains": 0}),
            ));
        }
        let zm = workspace_client(cx)?;
        zm.mailboxes()
            .schedule_removal(&ScheduledRemovalRequest {
                remove: true,
                domain_ids: ids.clone(),
                status: None,
                contains: None,
            })
            .await?;
        Ok(StepOutcome::done(
            format!(
                "mailboxes of {} domains scheduled for removal at the next renewal",
                ids.len()
            ),
            json!({"domains": ids.len()}),
        ))
    }
}

/// Cancellation step 3: record what was kept.
pub(crate) struct CancellationComplete;

#[async_trait]
impl Step for CancellationComplete {
    fn number(&self) -> u32 {
        3
    }
    fn name(&self) -> &'static str {
        "Cancellation complete"
    }
    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let kept: Vec<String> = cx.state.domains.iter().map(|d| d.name.clone()).collect();
        Ok(StepOutcome::done(
            format!("cancelled; {} domains kept", kept.len()),
            json!({"domains_kept": kept}),
        ))
    }
}

//! Steps 1 to 5: the customer's Zapmail workspace, the domains (bought at most once,
//! ever), DNS, DMARC and mailboxes.

use async_trait::async_trait;
use serde_json::json;
use zapmail::domains::{BuyDomainsRequest, DmarcRequest, DomainPurchase};
use zapmail::mailboxes::CreateMailboxesRequest;
use zapmail::workspaces::CreateWorkspaceRequest;
use zapmail::{DomainId, ErrorKind, PurchaseOutcome, WorkspaceId};

use super::{Step, StepOutcome, StepResult};
use crate::engine::cx::Cx;
use crate::engine::driver::StepError;
use crate::engine::{Naming, PollKind};
use crate::model::{DomainStatus, PurchaseState};

/// The agency client scoped to the customer's workspace.
pub(crate) fn workspace_client(cx: &Cx<'_>) -> Result<zapmail::Client, StepError> {
    let ws = cx
        .state
        .ledger
        .zapmail_workspace_id
        .as_deref()
        .ok_or_else(|| StepError::permanent("no Zapmail workspace recorded"))?;
    Ok(cx
        .engine
        .clients
        .zapmail
        .in_workspace(&WorkspaceId::from(ws)))
}

/// Step 1: the workspace, found by its deterministic name before it is created, and its
/// billing details.
pub(crate) struct Workspace;

#[async_trait]
impl Step for Workspace {
    fn number(&self) -> u32 {
        1
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let zm = cx.engine.clients.zapmail.clone();
        let billing = cx.engine.config.zapmail_billing.clone();
        if cx.state.ledger.zapmail_workspace_id.is_none() {
            let name = Naming::render(
                &cx.engine.config.naming.zapmail_workspace,
                &cx.state.customer.name,
                &cx.state.id,
            );
            let ws = match zm.workspaces().find_by_name(&name).await? {
                Some(ws) => ws,
                None => {
                    let mut req = CreateWorkspaceRequest::named(name.clone());
                    req.billing_details = billing.clone();
                    let ws = zm.workspaces().create(&req).await?;
                    cx.state.ledger.zapmail_billing_added = billing.is_some();
                    ws
                }
            };
            cx.state.ledger.zapmail_workspace_id = Some(ws.id.to_string());
            cx.commit().await?;
        }
        if let Some(details) = billing.filter(|_| !cx.state.ledger.zapmail_billing_added) {
            let scoped = workspace_client(cx)?;
            // Adding twice is refused; updating sets the same values: both are harmless.
            match scoped.billing().add(&details).await {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Validation => {
                    scoped.billing().update(&details).await?;
                }
                Err(e) => return Err(e.into()),
            }
            cx.state.ledger.zapmail_billing_added = true;
            cx.commit().await?;
        }
        Ok(StepOutcome::done(
            "Zapmail workspace ready",
            json!({"workspace_id": cx.state.ledger.zapmail_workspace_id}),
        ))
    }
}

/// Step 2: buy the domains not bought yet. A purchase that may have reached Zapmail is
/// never sent again: the step waits for the domain to show in the workspace instead, and
/// gives the operator the decision when it does not.
pub(crate) struct BuyDomains;

#[async_trait]
impl Step for BuyDomains {
    fn number(&self) -> u32 {
        2
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let zm = workspace_client(cx)?;
        // Observe: which domains are in the workspace already?
        let unconfirmed: Vec<String> = cx
            .state
            .domains
            .iter()
            .filter(|d| d.purchase != PurchaseState::Bought)
            .map(|d| d.name.clone())
            .collect();
        if !unconfirmed.is_empty() {
            let seen = zm.domains().find_by_names(&unconfirmed).await?;
            let mut changed = false;
            for d in &mut cx.state.domains {
                if let Some(found) = seen.get(&d.name) {
                    d.purchase = PurchaseState::Bought;
                    d.zapmail_domain_id = Some(found.id.to_string());
                    d.status = DomainStatus::DnsPending;
                    changed = true;
                }
            }
            if changed {
                cx.commit().await?;
            }
        }
        // Opt-in (`lost_answer_grace`): a purchase whose answer was lost and that Zapmail
        // still does not list after the grace was not applied; buy it again. A late
        // original is refused ("already exists in your account"), never paid twice.
        if !names_in(cx, PurchaseState::InFlight).is_empty() && cx.lost_answer_grace_over() {
            for d in &mut cx.state.domains {
                if d.purchase == PurchaseState::InFlight {
                    d.purchase = PurchaseState::Refused;
                }
            }
        }
        let total = cx.state.domains.len();
        let in_flight: Vec<String> = names_in(cx, PurchaseState::InFlight);
        let to_buy: Vec<String> = cx
            .state
            .domains
            .iter()
            .filter(|d| matches!(d.purchase, PurchaseState::NotSent | PurchaseState::Refused))
            .map(|d| d.name.clone())
            .collect();
        if to_buy.is_empty() {
            if in_flight.is_empty() {
                return Ok(StepOutcome::done(
                    format!("{total} domains bought"),
                    json!({"bought": total, "total": total}),
                ));
            }
            return Ok(StepOutcome::wait(
                PollKind::PurchaseVisibility,
                format!(
                    "the purchase of {} may have gone through; waiting for Zapmail to list it (it is never bought twice)",
                    in_flight.join(", ")
                ),
                json!({"unconfirmed": in_flight, "total": total}),
            ));
        }

        // Intent, committed before the call.
        for d in &mut cx.state.domains {
            if to_buy.contains(&d.name) {
                d.purchase = PurchaseState::InFlight;
                d.status = DomainStatus::Purchasing;
            }
        }
        cx.commit().await?;

        let years = cx.engine.config.domain_years.max(1);
        let req = BuyDomainsRequest {
            domains: to_buy
                .iter()
                .map(|n| DomainPurchase {
                    domain_name: n.clone(),
                    years: Some(years),
                })
                .collect(),
            use_wallet: true,
            enable_dns_shield: None,
        };
        let outcome = zm.domains().buy(&req).await;
        let set = |cx: &mut Cx<'_>, state: PurchaseState, status: DomainStatus| {
            for d in &mut cx.state.domains {
                if to_buy.contains(&d.name) {
                    d.purchase = state;
                    d.status = status;
                }
            }
        };
        match outcome {
            Ok(PurchaseOutcome::Purchased { .. }) => {
                set(cx, PurchaseState::Bought, DomainStatus::DnsPending);
                cx.commit().await?;
                Ok(StepOutcome::done(
                    format!("{total} domains bought"),
                    json!({"bought": total, "total": total}),
                ))
            }
            Ok(PurchaseOutcome::InvoiceDue { invoice_link, .. }) => {
                set(cx, PurchaseState::Refused, DomainStatus::Pending);
                cx.commit().await?;
                Err(StepError::permanent(format!(
                    "Zapmail did not buy {}: the wallet balance is too low (invoice: {invoice_link}). Top up the wallet, then retry.",
                    to_buy.join(", ")
                )))
            }
            Ok(PurchaseOutcome::PaymentLink { payment_link }) => {
                set(cx, PurchaseState::Refused, DomainStatus::Pending);
                cx.commit().await?;
                Err(StepError::permanent(format!(
                    "Zapmail did not buy {}: it asks for a payment ({payment_link}). Top up the wallet, then retry.",
                    to_buy.join(", ")
                )))
            }
            Ok(_) => {
                // An answer we cannot read: the purchase may have happened. Look, never re-buy.
                Err(StepError::transient(
                    "Zapmail's answer to the purchase was not recognised; checking the domain list before anything else",
                ))
            }
            Err(e) if e.may_have_taken_effect() => Err(e.into()),
            Err(e) => {
                set(cx, PurchaseState::Refused, DomainStatus::Pending);
                cx.commit().await?;
                Err(e.into())
            }
        }
    }
}

fn names_in(cx: &Cx<'_>, state: PurchaseState) -> Vec<String> {
    cx.state
        .domains
        .iter()
        .filter(|d| d.purchase == state)
        .map(|d| d.name.clone())
        .collect()
}

/// Step 3: poll the domain list by name until every domain is ACTIVE (its id comes from
/// there).
pub(crate) struct WaitForDns;

#[async_trait]
impl Step for WaitForDns {
    fn number(&self) -> u32 {
        3
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let zm = workspace_client(cx)?;
        let names: Vec<String> = cx.state.domains.iter().map(|d| d.name.clone()).collect();
        let seen = zm.domains().find_by_names(&names).await?;
        let mut active = 0;
        for d in &mut cx.state.domains {
            if let Some(found) = seen.get(&d.name) {
                d.zapmail_domain_id = Some(found.id.to_string());
                if found.is_active() {
                    active += 1;
                    if matches!(
                        d.status,
                        DomainStatus::Pending | DomainStatus::Purchasing | DomainStatus::DnsPending
                    ) {
                        d.status = DomainStatus::Connected;
                    }
                } else {
                    d.status = DomainStatus::DnsPending;
                }
            }
        }
        let total = names.len();
        let details = json!({"active": active, "total": total});
        if active == total {
            Ok(StepOutcome::done(
                format!("{active}/{total} domains active"),
                details,
            ))
        } else {
            Ok(StepOutcome::wait(
                PollKind::Domains,
                format!("{active}/{total} domains active"),
                details,
            ))
        }
    }
}

/// Step 4: DMARC for every domain in one call.
pub(crate) struct Dmarc;

#[async_trait]
impl Step for Dmarc {
    fn number(&self) -> u32 {
        4
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let pending: Vec<(String, String)> = cx
            .state
            .domains
            .iter()
            .filter(|d| !cx.state.ledger.dmarc_domains.contains(&d.name))
            .map(|d| {
                d.zapmail_domain_id
                    .clone()
                    .map(|id| (d.name.clone(), id))
                    .ok_or_else(|| {
                        StepError::permanent(format!("domain {} has no Zapmail id", d.name))
                    })
            })
            .collect::<Result<_, _>>()?;
        if !pending.is_empty() {
            let zm = workspace_client(cx)?;
            let req = DmarcRequest::for_domains(
                pending.iter().map(|(_, id)| DomainId::from(id.as_str())),
                cx.state.customer.email.clone(),
            );
            zm.domains().add_dmarc(&req).await?;
            cx.state
                .ledger
                .dmarc_domains
                .extend(pending.into_iter().map(|(n, _)| n));
        }
        Ok(StepOutcome::done(
            "DMARC records added",
            json!({"domains": cx.state.ledger.dmarc_domains.len(), "report_email": cx.state.customer.email}),
        ))
    }
}

/// Step 5: the planned mailboxes, all domains in one request keyed by domain id, then wait
/// until they are ACTIVE. A creation that may have reached Zapmail is not sent again while
/// its mailboxes may still appear.
pub(crate) struct Mailboxes;

#[async_trait]
impl Step for Mailboxes {
    fn number(&self) -> u32 {
        5
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let zm = workspace_client(cx)?;
        let listing = zm.mailboxes().list_all(None).await?;
        let mut active = 0;
        let mut total = 0;
        for d in &mut cx.state.domains {
            for m in &mut d.mailboxes {
                total += 1;
                if let Some(found) = listing.find_by_email(&m.email) {
                    m.zapmail_mailbox_id = Some(found.id.to_string());
                    if found.is_active() {
                        active += 1;
                    }
                }
            }
        }
        let seen: Vec<String> = cx
            .state
            .domains
            .iter()
            .flat_map(|d| d.mailboxes.iter())
            .filter(|m| m.zapmail_mailbox_id.is_some())
            .map(|m| m.email.clone())
            .collect();
        cx.state
            .ledger
            .mailboxes_in_flight
            .retain(|e| !seen.contains(e));
        // On a fresh attempt (after a failed attempt, or a new worker after one died while
        // the creation was in flight), mailboxes still in flight that the listing does not
        // show were not created: Zapmail lists a new mailbox at once (IN_PROGRESS). Send
        // them again, as an operator retry does; Zapmail refuses a second mailbox with the
        // same address, so this never creates one twice. While polling, the worker that
        // sent them keeps waiting for them instead.
        // The worker that lost the answer re-sends too once `lost_answer_grace` (opt-in)
        // has passed without a trace of them.
        let resending = !cx.state.ledger.mailboxes_in_flight.is_empty()
            && (!super::is_poll(cx) || cx.lost_answer_grace_over());
        if resending {
            cx.state.ledger.mailboxes_in_flight.clear();
        }

        let mut req = CreateMailboxesRequest::new();
        let mut requested = Vec::new();
        let (first, last) = (
            cx.state.customer.first_name.clone(),
            cx.state.customer.last_name.clone(),
        );
        for d in &cx.state.domains {
            let Some(domain_id) = d.zapmail_domain_id.as_deref() else {
                return Err(StepError::permanent(format!(
                    "domain {} has no Zapmail id",
                    d.name
                )));
            };
            for m in &d.mailboxes {
                if m.zapmail_mailbox_id.is_none()
                    && !cx.state.ledger.mailboxes_in_flight.contains(&m.email)
                {
                    req = req.add(
                        DomainId::from(domain_id),
                        &d.name,
                        &m.username,
                        &first,
                        &last,
                    );
                    requested.push(m.email.clone());
                }
            }
        }
        if !requested.is_empty() {
            cx.state
                .ledger
                .mailboxes_in_flight
                .extend(requested.iter().cloned());
            cx.commit().await?;
            match zm.mailboxes().create(&req).await {
                Ok(_) => {}
                Err(e) if e.may_have_taken_effect() => {
                    // Keep them in flight: they may appear; the next poll looks.
                    tracing::warn!(provision = %cx.state.id, error = %e, "mailbox creation answer lost; waiting for them to appear");
                }
                Err(e) => {
                    cx.state
                        .ledger
                        .mailboxes_in_flight
                        .retain(|x| !requested.contains(x));
                    cx.commit().await?;
                    if resending && e.kind() == ErrorKind::Validation {
                        // A re-sent creation refused (e.g. "already exists": the earlier
                        // one was applied but not listed yet): look again later.
                        return Err(StepError::transient(e.to_string()));
                    }
                    return Err(e.into());
                }
            }
        }
        let details = json!({"active": active, "total": total});
        if active == total {
            cx.state.ledger.mailboxes_in_flight.clear();
            Ok(StepOutcome::done(
                format!("{total} mailboxes active"),
                details,
            ))
        } else {
            Ok(StepOutcome::wait(
                PollKind::Mailboxes,
                format!("{active}/{total} mailboxes active"),
                details,
            ))
        }
    }
}

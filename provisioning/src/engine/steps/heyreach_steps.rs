//! Steps 9 and 10: the HeyReach lead list, and the final check.

use async_trait::async_trait;
use serde_json::json;

use super::{Step, StepOutcome, StepResult};
use crate::engine::Naming;
use crate::engine::cx::Cx;
use crate::engine::driver::StepError;
use crate::model::{DomainStatus, PurchaseState};

/// Step 9: find the list by its deterministic name, or create it.
pub(crate) struct LeadList;

#[async_trait]
impl Step for LeadList {
    fn number(&self) -> u32 {
        9
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        if let Some(id) = cx.state.ledger.heyreach_list_id {
            return Ok(StepOutcome::done(
                "lead list exists",
                json!({"list_id": id}),
            ));
        }
        let name = Naming::render(
            &cx.engine.config.naming.heyreach_list,
            &cx.state.customer.name,
            &cx.state.id,
        );
        let lists = cx.engine.clients.heyreach.lists();
        // Observe first: a lost answer or a crash may have left the list created.
        let id = match lists.find_by_name(&name).await? {
            Some(found) => found.id,
            None => {
                lists
                    .create(&heyreach::CreateListRequest::user_list(name.clone()))
                    .await?
                    .id
            }
        };
        cx.state.ledger.heyreach_list_id = Some(id.0);
        cx.commit().await?;
        Ok(StepOutcome::done(
            format!("lead list {name:?} ready"),
            json!({"list_id": id.0, "name": name}),
        ))
    }
}

/// Step 10: check that everything is recorded, then mark the domains active.
pub(crate) struct Finalize;

#[async_trait]
impl Step for Finalize {
    fn number(&self) -> u32 {
        10
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let s = &mut cx.state;
        let mut missing = Vec::new();
        for d in &s.domains {
            if d.zapmail_domain_id.is_none() || d.purchase != PurchaseState::Bought {
                missing.push(format!("domain {} has no Zapmail id", d.name));
            }
            for m in &d.mailboxes {
                if m.zapmail_mailbox_id.is_none() {
                    missing.push(format!("mailbox {} has no Zapmail id", m.email));
                }
                if m.plusvibe_account_id.is_none() {
                    missing.push(format!("mailbox {} is not in PlusVibe", m.email));
                }
            }
        }
        if s.ledger.heyreach_list_id.is_none() {
            missing.push("no HeyReach list".into());
        }
        if !missing.is_empty() {
            return Err(StepError::permanent(format!(
                "setup incomplete: {}",
                missing.join("; ")
            )));
        }
        for d in &mut s.domains {
            d.status = DomainStatus::Active;
        }
        let mailboxes: usize = s.domains.iter().map(|d| d.mailboxes.len()).sum();
        Ok(StepOutcome::done(
            "setup complete",
            json!({
                "domains": s.domains.len(),
                "mailboxes": mailboxes,
                "plusvibe_login_email": s.ledger.plusvibe_client_email,
                "heyreach_list_id": s.ledger.heyreach_list_id,
            }),
        ))
    }
}

//! The customer's infrastructure dashboard in one call ([`Engine::dashboard`]): domains and
//! their status, each mailbox with its PlusVibe warmup health, the HeyReach list with its
//! lead count, and the PlusVibe login email.
//!
//! The stored provision gives the domains, mailboxes and ids; PlusVibe and HeyReach are
//! asked at the same time. When one of them fails, the dashboard is still returned, with
//! that part empty and named in [`Dashboard::missing`], so a UI can draw what it has and
//! say what it could not load.
//!
//! Health figures are `Option`s: `None` is PlusVibe's "no data yet" (its `-1`, e.g. for a
//! new account), which is not the same as a measured `0`.

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineError};
use crate::model::{DomainStatus, ProvisionId, ProvisionStatus};

/// A provision's dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The provision.
    pub provision_id: ProvisionId,
    /// Its status.
    pub status: ProvisionStatus,
    /// Tier slug.
    pub tier: String,
    /// Domains in the order chosen, with their mailboxes.
    pub domains: Vec<DomainCard>,
    /// The PlusVibe client login's email (the password is never shown).
    pub plusvibe_login_email: Option<String>,
    /// The HeyReach list, when it exists and HeyReach answered.
    pub heyreach_list: Option<HeyReachList>,
    /// The parts that could not be loaded, and why. Empty: the dashboard is complete.
    pub missing: Vec<MissingPart>,
}

impl Dashboard {
    /// Whether every part was loaded.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// Every mailbox of every domain.
    pub fn mailboxes(&self) -> impl Iterator<Item = &MailboxCard> {
        self.domains.iter().flat_map(|d| d.mailboxes.iter())
    }
}

/// One domain card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCard {
    /// Domain name.
    pub name: String,
    /// The seed's domain status.
    pub status: DomainStatus,
    /// Its mailboxes.
    pub mailboxes: Vec<MailboxCard>,
}

/// One mailbox with its warmup figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailboxCard {
    /// Address.
    pub email: String,
    /// Whether PlusVibe lists the account (`None`: PlusVibe could not be asked).
    pub in_plusvibe: Option<bool>,
    /// PlusVibe's warmup status (`ACTIVE`, `INACTIVE`...), if listed.
    pub warmup_status: Option<String>,
    /// Warmup health, if the account is listed.
    pub health: Option<WarmupHealth>,
}

/// The per-account warmup figures (PlusVibe `analytics`): `None` is "no data yet", which is
/// not zero.
pub use plusvibe::accounts::WarmupHealth;

/// The HeyReach lead list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeyReachList {
    /// List id.
    pub id: i64,
    /// Name, as HeyReach has it.
    pub name: String,
    /// Leads in it.
    pub lead_count: i64,
}

/// Which part of the dashboard is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DashboardPart {
    /// PlusVibe's accounts and warmup health.
    PlusvibeWarmup,
    /// HeyReach's list and lead count.
    HeyreachList,
}

/// A part that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingPart {
    /// The part.
    pub part: DashboardPart,
    /// Why (the vendor's words; never a secret).
    pub reason: String,
}

impl Engine {
    /// The provision's dashboard. Errors only when the provision cannot be read; a vendor
    /// that fails leaves its part empty and named in [`Dashboard::missing`]. PlusVibe and
    /// HeyReach are asked concurrently (one account listing, one list read).
    pub async fn dashboard(&self, id: ProvisionId) -> Result<Dashboard, EngineError> {
        let s = self.state(id).await?;
        let clients = self.clients();
        let plusvibe = async {
            let ws = s.ledger.plusvibe_workspace_id.as_deref()?;
            let ws = plusvibe::WorkspaceId::from(ws);
            Some(
                clients
                    .plusvibe
                    .email_accounts()
                    .list_all(&ws, &plusvibe::accounts::ListAccounts::default())
                    .await,
            )
        };
        let heyreach = async {
            let list_id = heyreach::ListId(s.ledger.heyreach_list_id?);
            Some(clients.heyreach.lists().get(list_id).await)
        };
        let (accounts, list) = tokio::join!(plusvibe, heyreach);

        let mut missing = Vec::new();
        let accounts = match accounts {
            None => Some(Vec::new()),
            Some(Ok(a)) => Some(a),
            Some(Err(e)) => {
                missing.push(MissingPart {
                    part: DashboardPart::PlusvibeWarmup,
                    reason: e.to_string(),
                });
                None
            }
        };
        let heyreach_list = match list {
            None => None,
            Some(Ok(l)) => Some(HeyReachList {
                id: l.id.0,
                lead_count: l.size(),
                name: l.name,
            }),
            Some(Err(e)) => {
                missing.push(MissingPart {
                    part: DashboardPart::HeyreachList,
                    reason: e.to_string(),
                });
                None
            }
        };
        let domains = s
            .domains
            .iter()
            .map(|d| DomainCard {
                name: d.name.clone(),
                status: d.status,
                mailboxes: d
                    .mailboxes
                    .iter()
                    .map(|m| {
                        let found = accounts
                            .as_ref()
                            .map(|all| all.iter().find(|a| a.email.eq_ignore_ascii_case(&m.email)));
                        MailboxCard {
                            email: m.email.clone(),
                            in_plusvibe: found.map(|f| f.is_some()),
                            warmup_status: found
                                .flatten()
                                .and_then(|a| a.warmup_status.as_ref())
                                .map(|w| w.to_string()),
                            health: found.flatten().map(|a| a.warmup_health()),
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(Dashboard {
            provision_id: s.id,
            status: s.status,
            tier: s.tier.slug.clone(),
            domains,
            plusvibe_login_email: s.ledger.plusvibe_client_email.clone(),
            heyreach_list,
            missing,
        })
    }
}

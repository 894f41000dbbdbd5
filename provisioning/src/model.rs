//! The data model: the seed's tiers, provisions, domains and `provisioning_log`, plus the
//! engine's own state (resource ledger, runs, step attempts).
//!
//! A provision's whole state is one [`ProvisionState`] document. Stores save it atomically
//! and fenced (see [`crate::store`]), and project the seed's columns (`status`,
//! `provisioning_log`, `infra_domains` rows...) from it in the same transaction, so the
//! seed's frontend keeps reading what it always read.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::secret::Sealed;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random id.
            pub fn new() -> Self {
                $name(Uuid::new_v4())
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map($name)
            }
        }
        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                $name(u)
            }
        }
    };
}

uuid_id!(
    /// `infra_provisions.id`.
    ProvisionId
);
uuid_id!(
    /// The host's customer (the seed's `student_id`).
    CustomerId
);
uuid_id!(
    /// `infra_tiers.id`.
    TierId
);
uuid_id!(
    /// One run of the engine over a provision (provision, upgrade, cancel).
    RunId
);

/// A package a customer buys (`infra_tiers`). Money in integer cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Id.
    pub id: TierId,
    /// Display name, e.g. "Starter".
    pub name: String,
    /// Unique slug, e.g. "starter".
    pub slug: String,
    /// Domains bought for the customer.
    pub domain_count: u32,
    /// Mailboxes created on each domain.
    pub mailboxes_per_domain: u32,
    /// One-time setup fee, cents.
    pub setup_fee_cents: i64,
    /// Recurring monthly fee, cents.
    pub monthly_fee_cents: i64,
    /// Stripe price of the setup fee.
    pub stripe_setup_price_id: Option<String>,
    /// Stripe price of the monthly fee.
    pub stripe_monthly_price_id: Option<String>,
    /// Offered to new customers.
    pub is_active: bool,
    /// Display order.
    pub sort_order: i32,
}

impl Tier {
    /// The seed's three default tiers (Starter 3, Growth 5, Scale 10 domains; 2 mailboxes
    /// each; the seed's prices).
    pub fn seed_defaults() -> Vec<Tier> {
        let t = |name: &str, slug: &str, domains, setup, monthly, order| Tier {
            id: TierId::new(),
            name: name.into(),
            slug: slug.into(),
            domain_count: domains,
            mailboxes_per_domain: 2,
            setup_fee_cents: setup,
            monthly_fee_cents: monthly,
            stripe_setup_price_id: None,
            stripe_monthly_price_id: None,
            is_active: true,
            sort_order: order,
        };
        vec![
            t("Starter", "starter", 3, 9700, 4700, 0),
            t("Growth", "growth", 5, 14700, 7700, 1),
            t("Scale", "scale", 10, 24700, 12700, 2),
        ]
    }
}

/// `infra_provisions.status`, with the seed's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionStatus {
    /// Created by the wizard, waiting for checkout.
    PendingPayment,
    /// Paid; the engine is setting things up.
    Provisioning,
    /// Everything is set up.
    Active,
    /// A step failed permanently; an operator can retry from the failed step.
    Failed,
    /// Subscription cancelled.
    Cancelled,
    /// Moving to a larger tier.
    Upgrading,
}

impl ProvisionStatus {
    /// The value stored in the seed's `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionStatus::PendingPayment => "pending_payment",
            ProvisionStatus::Provisioning => "provisioning",
            ProvisionStatus::Active => "active",
            ProvisionStatus::Failed => "failed",
            ProvisionStatus::Cancelled => "cancelled",
            ProvisionStatus::Upgrading => "upgrading",
        }
    }
}

impl fmt::Display for ProvisionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `infra_domains.status`, with the seed's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    /// Chosen, not bought yet.
    Pending,
    /// Purchase sent.
    Purchasing,
    /// Bought; DNS being set up.
    DnsPending,
    /// DNS ready (Zapmail says ACTIVE).
    Connected,
    /// Mailboxes created and exported.
    Active,
    /// Could not be set up.
    Failed,
}

impl DomainStatus {
    /// The value stored in the seed's `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "pending",
            DomainStatus::Purchasing => "purchasing",
            DomainStatus::DnsPending => "dns_pending",
            DomainStatus::Connected => "connected",
            DomainStatus::Active => "active",
            DomainStatus::Failed => "failed",
        }
    }
}

/// One entry of the seed's `provisioning_log` (its `ProvisioningStep` type, camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningStep {
    /// Step number, 1-based.
    pub step: u32,
    /// Step name, e.g. "Purchasing domains".
    pub name: String,
    /// `pending`, `in_progress`, `completed` or `failed`.
    pub status: StepStatus,
    /// When the step started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the step completed (or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// The failure, naming the vendor's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Step-specific details (e.g. `{"active": 2, "total": 3}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The seed's step statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Running or waiting on the vendor.
    InProgress,
    /// Done.
    Completed,
    /// Failed (see `error`).
    Failed,
}

/// The customer a provision is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The host's id (the seed's `student_id`).
    pub id: CustomerId,
    /// Full name, used in vendor object names (`"<name>'s Infrastructure"`).
    pub name: String,
    /// Email (DMARC reports, PlusVibe client login).
    pub email: String,
    /// Sender first name for mailboxes.
    pub first_name: String,
    /// Sender last name for mailboxes.
    pub last_name: String,
}

/// Stripe ids recorded when the customer pays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Checkout session.
    pub checkout_session_id: Option<String>,
    /// Stripe customer.
    pub customer_id: Option<String>,
    /// Subscription.
    pub subscription_id: Option<String>,
}

/// A mailbox of a domain (the seed's `infra_domains.mailboxes` element).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxRecord {
    /// Local part, e.g. `tim.keen`.
    pub username: String,
    /// Full address.
    pub email: String,
    /// Zapmail's mailbox id, once known.
    pub zapmail_mailbox_id: Option<String>,
    /// PlusVibe's account id, once exported.
    pub plusvibe_account_id: Option<String>,
}

/// A domain of a provision (an `infra_domains` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRecord {
    /// Row id.
    pub id: Uuid,
    /// Domain name, lower-case.
    pub name: String,
    /// Status for the seed's frontend.
    pub status: DomainStatus,
    /// Zapmail's domain id, once the domain shows in the domain list.
    pub zapmail_domain_id: Option<String>,
    /// Mailboxes planned or created on it.
    pub mailboxes: Vec<MailboxRecord>,
    /// Whether the engine has sent a purchase for it (see [`PurchaseState`]).
    pub purchase: PurchaseState,
    /// Which run added it (the first provisioning or an upgrade).
    pub added_by: Option<RunId>,
}

/// What the engine knows about buying a domain. Money safety hangs on this: a domain whose
/// purchase may have happened is never bought again without seeing it at the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseState {
    /// Never sent.
    #[default]
    NotSent,
    /// Intent recorded; the call may or may not have reached Zapmail.
    InFlight,
    /// Zapmail refused it before applying (safe to send again).
    Refused,
    /// Zapmail accepted it, or the domain was seen in the workspace.
    Bought,
}

/// What exists at each vendor for this provision, as learned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Zapmail workspace id (also the `x-workspace-key` value).
    pub zapmail_workspace_id: Option<String>,
    /// Billing details were added to the workspace.
    pub zapmail_billing_added: bool,
    /// DMARC was set for these domains.
    pub dmarc_domains: Vec<String>,
    /// PlusVibe workspace id.
    pub plusvibe_workspace_id: Option<String>,
    /// PlusVibe client login id.
    pub plusvibe_client_id: Option<String>,
    /// PlusVibe client login email.
    pub plusvibe_client_email: Option<String>,
    /// PlusVibe client password, sealed with the operator's key (never plaintext).
    pub plusvibe_client_password: Option<Sealed>,
    /// The client login is registered in the customer's Zapmail workspace (app PIPL).
    pub pipl_registered: bool,
    /// Mailbox emails whose creation was sent and not yet seen in the listing (never sent
    /// again while they may still appear).
    #[serde(default)]
    pub mailboxes_in_flight: Vec<String>,
    /// Mailbox ids an export was requested for.
    pub exported_mailbox_ids: Vec<String>,
    /// The Zapmail export id, while the export runs.
    #[serde(default)]
    pub export_id: Option<String>,
    /// The partner-upload fallback was used instead of the export.
    pub used_partner_upload: bool,
    /// Emails whose warmup settings were applied.
    pub warmup_configured: Vec<String>,
    /// HeyReach list id.
    pub heyreach_list_id: Option<i64>,
    /// The tier an upgrade run moves to; set when the upgrade starts, applied (and
    /// cleared) by the run's last step.
    #[serde(default)]
    pub upgrade_to: Option<Tier>,
}

/// What kind of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// The first provisioning.
    Provision,
    /// Adding domains for a larger tier.
    Upgrade,
    /// Cancellation teardown.
    Cancel,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Due now (or at `next_wake_at`).
    Pending,
    /// Waiting for the vendor (polling); due at `next_wake_at`.
    Waiting,
    /// Finished.
    Succeeded,
    /// Stopped on a permanent error; an operator retry resumes at the failed step.
    Failed,
}

impl RunStatus {
    /// Whether a worker should pick the run up when due.
    pub fn is_live(self) -> bool {
        matches!(self, RunStatus::Pending | RunStatus::Waiting)
    }
}

/// The engine's bookkeeping for one step of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRun {
    /// Attempts that called the vendor (polls excluded).
    pub attempts: u32,
    /// Polls while waiting.
    pub polls: u32,
    /// When the current attempt began (the intent).
    pub attempt_started_at: Option<DateTime<Utc>>,
    /// When the step started waiting, for its deadline.
    pub waiting_since: Option<DateTime<Utc>>,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// One run of the engine over a provision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Id.
    pub id: RunId,
    /// Kind.
    pub kind: RunKind,
    /// Status.
    pub status: RunStatus,
    /// Index into the run's step list of the current step.
    pub step: usize,
    /// Per-step bookkeeping, by index.
    pub steps: Vec<StepRun>,
    /// When a worker should next look at it.
    pub next_wake_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Finished, if it has.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Everything about one provision: the seed's row, its domains, the ledger and the engine's
/// run. Stores save it whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionState {
    /// Id.
    pub id: ProvisionId,
    /// The customer.
    pub customer: Customer,
    /// Tier id.
    pub tier_id: TierId,
    /// The tier as it was when chosen (upgrades replace it).
    pub tier: Tier,
    /// Seed status.
    pub status: ProvisionStatus,
    /// The two mailbox name patterns (usernames).
    pub mailbox_patterns: [String; 2],
    /// Stripe ids.
    pub payment: Payment,
    /// Domains, in the order chosen.
    pub domains: Vec<DomainRecord>,
    /// Vendor resources.
    pub ledger: Ledger,
    /// The seed's `provisioning_log`.
    pub provisioning_log: Vec<ProvisioningStep>,
    /// The current (or last) run.
    pub run: Option<Run>,
    /// Why the provision is flagged (e.g. a failed invoice), for operators.
    pub flags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

impl ProvisionState {
    /// The domain named `name`, if it belongs to this provision.
    pub fn domain(&self, name: &str) -> Option<&DomainRecord> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The domain named `name`, mutable.
    pub fn domain_mut(&mut self, name: &str) -> Option<&mut DomainRecord> {
        self.domains.iter_mut().find(|d| d.name == name)
    }

    /// When a worker should next look at this provision, if ever.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.run
            .as_ref()
            .filter(|r| r.status.is_live())
            .map(|r| r.next_wake_at)
    }
}

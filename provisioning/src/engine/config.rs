//! Engine settings: retry and polling schedules, the seed's opinionated vendor settings and
//! the deterministic names vendor objects get.

use std::time::Duration;

/// Backoff for transient failures (Temporal's vocabulary).
#[derive(Debug, Clone, PartialEq)]
pub struct StepRetryPolicy {
    /// First delay.
    pub initial: Duration,
    /// Growth factor per attempt.
    pub coefficient: f64,
    /// Cap of a delay.
    pub max_interval: Duration,
    /// Attempts before the step fails for good.
    pub max_attempts: u32,
    /// Random spread, as a fraction of the delay (0.5 = ±50%).
    pub jitter: f64,
}

impl Default for StepRetryPolicy {
    fn default() -> Self {
        StepRetryPolicy {
            initial: Duration::from_secs(2),
            coefficient: 2.0,
            max_interval: Duration::from_secs(300),
            max_attempts: 8,
            jitter: 0.5,
        }
    }
}

impl StepRetryPolicy {
    /// The delay after failed attempt number `attempt` (1-based), with jitter `r` in [0, 1).
    pub fn delay(&self, attempt: u32, r: f64) -> Duration {
        let exp = self
            .coefficient
            .powi(attempt.saturating_sub(1).min(60) as i32);
        let base = self.initial.mul_f64(exp.min(1e9)).min(self.max_interval);
        let spread = 1.0 + self.jitter * (2.0 * r.clamp(0.0, 1.0) - 1.0);
        base.mul_f64(spread.max(0.0))
    }
}

/// How to poll while waiting for a vendor (polls never use retry attempts).
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// First re-check.
    pub initial: Duration,
    /// Growth factor per poll.
    pub coefficient: f64,
    /// Longest gap between checks.
    pub max_interval: Duration,
    /// Give up (step fails, operator can retry) after waiting this long.
    pub deadline: Duration,
}

impl PollPolicy {
    /// The gap before poll number `poll` (1-based).
    pub fn interval(&self, poll: u32) -> Duration {
        let exp = self.coefficient.powi(poll.saturating_sub(1).min(60) as i32);
        self.initial.mul_f64(exp.min(1e9)).min(self.max_interval)
    }
}

/// Poll schedules per kind of wait.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicies {
    /// Bought domains becoming ACTIVE (DNS set up).
    pub domains: PollPolicy,
    /// Mailboxes going IN_PROGRESS → ACTIVE.
    pub mailboxes: PollPolicy,
    /// Exported accounts appearing in PlusVibe.
    pub export: PollPolicy,
    /// A purchase whose answer was lost, until the domain shows in the list.
    pub purchase_visibility: PollPolicy,
}

impl Default for PollPolicies {
    fn default() -> Self {
        let p = |initial, max, deadline_h: u64| PollPolicy {
            initial: Duration::from_secs(initial),
            coefficient: 1.5,
            max_interval: Duration::from_secs(max),
            deadline: Duration::from_secs(deadline_h * 3600),
        };
        PollPolicies {
            domains: p(30, 600, 72),
            mailboxes: p(20, 600, 24),
            export: p(30, 600, 24),
            purchase_visibility: p(15, 300, 2),
        }
    }
}

/// Which poll schedule a waiting step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollKind {
    /// [`PollPolicies::domains`].
    Domains,
    /// [`PollPolicies::mailboxes`].
    Mailboxes,
    /// [`PollPolicies::export`].
    Export,
    /// [`PollPolicies::purchase_visibility`].
    PurchaseVisibility,
}

impl PollPolicies {
    /// The schedule for `kind`.
    pub fn for_kind(&self, kind: PollKind) -> &PollPolicy {
        match kind {
            PollKind::Domains => &self.domains,
            PollKind::Mailboxes => &self.mailboxes,
            PollKind::Export => &self.export,
            PollKind::PurchaseVisibility => &self.purchase_visibility,
        }
    }

    /// Every poll answered quickly: for simulators, tests and demos.
    pub fn fast() -> Self {
        let p = PollPolicy {
            initial: Duration::from_millis(20),
            coefficient: 1.5,
            max_interval: Duration::from_millis(200),
            deadline: Duration::from_secs(60),
        };
        PollPolicies {
            domains: p.clone(),
            mailboxes: p.clone(),
            export: p.clone(),
            purchase_visibility: p,
        }
    }
}

/// The deterministic names of vendor objects (how the engine finds them again).
/// `{name}` is replaced by the customer's name and `{id}` by the first 8 characters of the
/// provision id. The defaults follow the seed's names with the id appended, because two
/// customers with the same name must never share (or adopt) each other's vendor objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Naming {
    /// Zapmail workspace.
    pub zapmail_workspace: String,
    /// PlusVibe workspace.
    pub plusvibe_workspace: String,
    /// PlusVibe client business name.
    pub plusvibe_business: String,
    /// HeyReach lead list.
    pub heyreach_list: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            zapmail_workspace: "{name}'s Infrastructure ({id})".into(),
            plusvibe_workspace: "{name}'s Workspace ({id})".into(),
            plusvibe_business: "{name}'s GTM".into(),
            heyreach_list: "{name}'s Prospects ({id})".into(),
        }
    }
}

impl Naming {
    /// Fill `{name}` and `{id}` in `template`.
    pub fn render(template: &str, customer_name: &str, id: &crate::model::ProvisionId) -> String {
        let short: String = id.to_string().chars().take(8).collect();
        template
            .replace("{name}", customer_name.trim())
            .replace("{id}", &short)
    }
}

/// Everything the engine can be told.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This worker's name in leases (default: host-pid-random).
    pub worker_id: String,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Backoff for transient failures.
    pub retry: StepRetryPolicy,
    /// Polling schedules.
    pub polls: PollPolicies,
    /// PlusVibe warmup and sending settings applied to every account (default: the
    /// seed's opinionated values, [`plusvibe::accounts::AccountSettings::recommended`]); the sender
    /// name is filled in per customer.
    pub warmup: plusvibe::accounts::AccountSettings,
    /// Vendor object names.
    pub naming: Naming,
    /// Provisions a worker drives at once.
    pub concurrency: usize,
    /// How often an idle worker looks for due runs (other processes may add some).
    pub idle_poll: Duration,
    /// The agency's PlusVibe workspace (anchor for create-workspace and create-client).
    pub plusvibe_agency_workspace_id: Option<String>,
    /// Email notified by PlusVibe's partner upload (fallback path).
    pub operator_email: Option<String>,
    /// Domain registration years.
    pub domain_years: u32,
    /// Use the partner upload when the Zapmail export to PlusVibe fails permanently.
    pub partner_upload_fallback: bool,
    /// PlusVibe partner `provider_id` for the fallback upload (PlusVibe reportedly rejects
    /// uploads without one).
    pub partner_provider_id: Option<String>,
    /// Billing details added to each customer's Zapmail workspace before buying (Zapmail
    /// refuses purchases in a workspace without them). `None`: not sent.
    pub zapmail_billing: Option<zapmail::workspaces::BillingDetails>,
    /// TLDs Zapmail sells (default: the documented list; `.io` is not on it).
    pub supported_tlds: zapmail::SupportedTlds,
    /// How long a creation whose answer was lost (5xx, timeout, dropped connection: it may
    /// or may not have happened) may stay invisible at the vendor before the worker that
    /// sent it sends it again: a domain purchase, a mailbox creation, an export. The step
    /// keeps observing meanwhile and adopts whatever appears; Zapmail refuses names
    /// already in the account and addresses that exist, so a late original is not created
    /// twice. `None` (the default): keep waiting until the poll deadline and leave the
    /// decision to the operator (a retry re-sends mailbox creations and exports, never a
    /// purchase). Keep it well below the poll deadlines.
    pub lost_answer_grace: Option<Duration>,
    /// What a cancellation stops (default: warmup off, mailboxes removed at renewal,
    /// domains kept).
    pub teardown: super::Teardown,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            worker_id: format!("worker-{}-{:08x}", std::process::id(), fastrand::u32(..)),
            lease: Duration::from_secs(60),
            retry: StepRetryPolicy::default(),
            polls: PollPolicies::default(),
            warmup: plusvibe::accounts::AccountSettings::recommended(),
            naming: Naming::default(),
            concurrency: 16,
            idle_poll: Duration::from_secs(5),
            plusvibe_agency_workspace_id: None,
            operator_email: None,
            domain_years: 1,
            partner_upload_fallback: true,
            partner_provider_id: None,
            zapmail_billing: None,
            supported_tlds: zapmail::SupportedTlds::default(),
            lost_answer_grace: None,
            teardown: super::Teardown::default(),
        }
    }
}

impl EngineConfig {
    /// Short schedules for simulators, tests and demos.
    pub fn fast() -> Self {
        EngineConfig {
            retry: StepRetryPolicy {
                initial: Duration::from_millis(10),
                coefficient: 2.0,
                max_interval: Duration::from_millis(200),
                max_attempts: 8,
                jitter: 0.5,
            },
            polls: PollPolicies::fast(),
            idle_poll: Duration::from_millis(100),
            lease: Duration::from_secs(30),
            ..EngineConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_cap() {
        let p = StepRetryPolicy {
            jitter: 0.0,
            ..StepRetryPolicy::default()
        };
        assert_eq!(p.delay(1, 0.3), Duration::from_secs(2));
        assert_eq!(p.delay(3, 0.3), Duration::from_secs(8));
        assert_eq!(p.delay(30, 0.3), Duration::from_secs(300));
        let j = StepRetryPolicy::default();
        assert_eq!(j.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(j.delay(1, 1.0), Duration::from_secs(3));
    }

    #[test]
    fn polls_back_off_to_a_cap() {
        let p = PollPolicies::default().domains;
        assert_eq!(p.interval(1), Duration::from_secs(30));
        assert_eq!(p.interval(2), Duration::from_secs(45));
        assert_eq!(p.interval(50), Duration::from_secs(600));
    }

    #[test]
    fn names_are_deterministic() {
        let id: crate::model::ProvisionId = "0c9a7b7e-1111-4222-8333-444455556666".parse().unwrap();
        assert_eq!(
            Naming::render(&Naming::default().zapmail_workspace, " Ada Lovelace ", &id),
            "Ada Lovelace's Infrastructure (0c9a7b7e)"
        );
    }
}

//! The summary the seed meant to email the customer when provisioning completes (its step
//! 10: "PlusVibe login, HeyReach list link, getting started guide"), as data: a host
//! renders and sends it with its own mailer and templates.
//!
//! ```
//! # fn demo(snapshot: &provisioning::Snapshot) {
//! let summary = provisioning::Summary::from_snapshot(snapshot);
//! println!("{}\n\n{}", summary.subject, summary.text());
//! # }
//! ```

use serde::{Deserialize, Serialize};

use crate::engine::Snapshot;
use crate::model::{ProvisionId, ProvisionStatus};

/// Where customers sign in to PlusVibe.
pub const PLUSVIBE_LOGIN_URL: &str = "https://app.plusvibe.ai/login";

/// The HeyReach app's page of a lead list.
pub fn heyreach_list_url(list_id: i64) -> String {
    format!("https://app.heyreach.io/app/lists/{list_id}")
}

/// The "your infrastructure is ready" message, as data. Never holds a password: the
/// PlusVibe password is sealed in the store; the host shows it once, or the customer
/// resets it from the login page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The provision.
    pub provision_id: ProvisionId,
    /// Its status when the summary was built.
    pub status: ProvisionStatus,
    /// Customer's name.
    pub customer_name: String,
    /// Where to send it.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Tier slug.
    pub tier: String,
    /// The domains.
    pub domains: Vec<String>,
    /// Every mailbox address.
    pub mailboxes: Vec<String>,
    /// The PlusVibe client login's email.
    pub plusvibe_login_email: Option<String>,
    /// Where to sign in to PlusVibe.
    pub plusvibe_login_url: String,
    /// The HeyReach list id.
    pub heyreach_list_id: Option<i64>,
    /// A link to the HeyReach list.
    pub heyreach_list_url: Option<String>,
    /// What to do next, in order.
    pub next_steps: Vec<String>,
}

impl Summary {
    /// Build the summary of `snapshot` (normally an `active` one; for other statuses the
    /// subject and next steps say where things stand).
    pub fn from_snapshot(snapshot: &Snapshot) -> Summary {
        let domains: Vec<String> = snapshot.domains.iter().map(|d| d.name.clone()).collect();
        let mailboxes: Vec<String> = snapshot.mailboxes().map(|m| m.email.clone()).collect();
        let first = snapshot.customer.first_name.clone();
        let subject = match snapshot.status {
            ProvisionStatus::Active => {
                format!("{first}, your outreach infrastructure is ready")
            }
            ProvisionStatus::Cancelled => {
                format!("{first}, your outreach infrastructure is cancelled")
            }
            other => format!("{first}, your outreach infrastructure is {other}"),
        };
        let mut next_steps = Vec::new();
        if let Some(email) = &snapshot.plusvibe_login_email {
            next_steps.push(format!(
                "Sign in to PlusVibe at {PLUSVIBE_LOGIN_URL} as {email} (use \"forgot password\" if you do not have the password)."
            ));
        }
        next_steps.push(format!(
            "Let warmup run: your {} mailboxes are warming up; wait about 14 days before sending campaigns.",
            mailboxes.len()
        ));
        if let Some(id) = snapshot.heyreach_list_id {
            next_steps.push(format!(
                "Add LinkedIn prospects to your HeyReach list: {}",
                heyreach_list_url(id)
            ));
        }
        next_steps.push(
            "Write your first campaign in PlusVibe and keep daily volumes low for the first weeks."
                .into(),
        );
        Summary {
            provision_id: snapshot.id,
            status: snapshot.status,
            customer_name: snapshot.customer.name.clone(),
            to: snapshot.customer.email.clone(),
            subject,
            tier: snapshot.tier.clone(),
            domains,
            mailboxes,
            plusvibe_login_email: snapshot.plusvibe_login_email.clone(),
            plusvibe_login_url: PLUSVIBE_LOGIN_URL.to_string(),
            heyreach_list_id: snapshot.heyreach_list_id,
            heyreach_list_url: snapshot.heyreach_list_id.map(heyreach_list_url),
            next_steps,
        }
    }

    /// A plain-text body.
    pub fn text(&self) -> String {
        let mut out = format!("Hi {},\n\n", self.customer_name);
        out.push_str(&format!(
            "Your {} infrastructure: {} domains, {} mailboxes.\n",
            self.tier,
            self.domains.len(),
            self.mailboxes.len()
        ));
        for d in &self.domains {
            out.push_str(&format!("  - {d}\n"));
        }
        if let Some(email) = &self.plusvibe_login_email {
            out.push_str(&format!(
                "\nPlusVibe login: {email} ({})\n",
                self.plusvibe_login_url
            ));
        }
        if let Some(url) = &self.heyreach_list_url {
            out.push_str(&format!("HeyReach list: {url}\n"));
        }
        out.push_str("\nNext steps:\n");
        for (i, s) in self.next_steps.iter().enumerate() {
            out.push_str(&format!("  {}. {s}\n", i + 1));
        }
        out
    }
}

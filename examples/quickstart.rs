//! Provision a Starter setup for a sample customer against the three simulators, into a
//! local SQLite file, with live progress.
//!
//! ```sh
//! cargo run --example quickstart            # state in ./gtm-quickstart.db
//! cargo run --example quickstart -- my.db   # or any path
//! ```
//!
//! Run it again on the same file: the customer is found in the store and its provision is
//! shown instead of being created twice. (The simulators start empty on every run, so a
//! provision interrupted in one run cannot be resumed against the next run's simulators;
//! against real vendors, `engine.run(id)` resumes it from its last recorded step.)

use std::sync::Arc;
use std::time::Duration;

use gtm_examples::{heading, say};
use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::store::SqliteStore;
use provisioning::{
    CustomerId, Engine, FnSink, NewProvision, Payment, ProgressEvent, ProvisionStatus, SecretKey,
    StepStatus,
};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = quickstart().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn quickstart() -> Result<(), AnyError> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "gtm-quickstart.db".to_string());

    heading("Starting the vendor simulators");
    // Realistic but short: every answer takes 20 ms, DNS and mailboxes take a few polls.
    let sims =
        Simulators::start_with(SimulatorsConfig::default().with_latency(Duration::from_millis(20)))
            .await;
    say(format!("Zapmail  {}", sims.zapmail.base_url()));
    say(format!("PlusVibe {}", sims.plusvibe.base_url()));
    say(format!("HeyReach {}", sims.heyreach.base_url()));

    heading(&format!("Opening the store at {path}"));
    let store = Arc::new(SqliteStore::open(&format!("sqlite://{path}")).await?);
    // The key that seals stored passwords: an operator keeps theirs; the demo makes one.
    let key = SecretKey::generate();
    let clients = sims.clients();
    let engine = Engine::builder()
        .clients(clients.zapmail, clients.plusvibe, clients.heyreach)
        .store(store)
        .secret_key(key)
        .config(sims.engine_config())
        .sink(Arc::new(FnSink(print_progress)))
        .build()
        .await?;

    // A fixed customer id: the demo finds its customer again on a second run.
    let customer: CustomerId = "00000000-0000-4000-8000-00000000c0de".parse()?;
    let id = match engine.store().find_by_customer(customer).await? {
        Some(existing) => {
            say(format!("customer already has provision {existing}"));
            existing
        }
        None => {
            let id = engine
                .create_provision(
                    NewProvision::new("Tim Keen", "tim@acmeoutreach.example", "starter")
                        .customer_id(customer)
                        .domains([
                            "acmeoutreach.com",
                            "getacmeoutreach.net",
                            "tryacmeoutreach.org",
                        ])
                        .patterns("tim", "tim.keen"),
                )
                .await?;
            say(format!("created provision {id} (pending payment)"));
            id
        }
    };
    if engine.status(id).await?.status == ProvisionStatus::PendingPayment {
        engine.mark_paid(id, Payment::default()).await?;
        say("payment recorded; provisioning");
    }

    heading("Provisioning");
    let snap = engine.run(id).await?;

    heading("Summary");
    say(format!("status: {}", snap.status));
    if let Some(e) = &snap.error {
        say(format!("error: {e}"));
    }
    for d in &snap.domains {
        say(format!(
            "{} ({}) zapmail id {}",
            d.name,
            d.status.as_str(),
            d.zapmail_domain_id.as_deref().unwrap_or("-")
        ));
        for m in &d.mailboxes {
            say(format!(
                "    {} → PlusVibe account {}",
                m.email,
                m.plusvibe_account_id.as_deref().unwrap_or("-")
            ));
        }
    }
    say(format!(
        "PlusVibe login: {} (password sealed in the store)",
        snap.plusvibe_login_email.as_deref().unwrap_or("-")
    ));
    say(format!(
        "HeyReach list id: {}",
        snap.heyreach_list_id
            .map_or("-".to_string(), |i| i.to_string())
    ));
    if snap.status != ProvisionStatus::Active {
        return Err(format!("provision ended {}", snap.status).into());
    }
    Ok(())
}

fn print_progress(e: &ProgressEvent) {
    let mark = match e.status {
        StepStatus::Completed => "done",
        StepStatus::Failed => "FAILED",
        StepStatus::InProgress => "....",
        StepStatus::Pending => "    ",
    };
    let note = e
        .error
        .as_deref()
        .or(e.message.as_deref())
        .unwrap_or_default();
    if e.step == 0 {
        println!("  {note}");
    } else {
        println!("  [{mark}] {:>2}. {:<32} {note}", e.step, e.name);
    }
}

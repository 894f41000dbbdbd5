//! Provision a Starter setup, then upgrade it to Growth, against the three simulators:
//! the upgrade buys only the two additional domains, creates their four mailboxes with
//! the existing patterns, exports them into the existing PlusVibe workspace and warms
//! them up. Then the dashboard and the summary email's content.
//!
//! ```sh
//! cargo run --example upgrade
//! ```

use std::sync::Arc;
use std::time::Duration;

use gtm_examples::{heading, say};
use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::{
    CheckoutCompleted, FnSink, MemoryStore, NewProvision, ProgressEvent, SecretKey, StepStatus,
    Summary,
};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn print_progress(e: &ProgressEvent) {
    match e.status {
        StepStatus::Completed if e.step > 0 => say(format!(
            "{:>2}. {} ✓ {}",
            e.step,
            e.name,
            e.message.as_deref().unwrap_or("")
        )),
        StepStatus::Failed => say(format!(
            "{:>2}. {} ✗ {}",
            e.step,
            e.name,
            e.error.as_deref().unwrap_or("")
        )),
        _ => {}
    }
}

async fn run() -> Result<(), AnyError> {
    let sims =
        Simulators::start_with(SimulatorsConfig::default().with_latency(Duration::from_millis(5)))
            .await;
    let engine = sims
        .engine_builder()
        .store(Arc::new(MemoryStore::new()))
        .secret_key(SecretKey::generate())
        .sink(Arc::new(FnSink(print_progress)))
        .build()
        .await?;

    heading("Starter: 3 domains, 6 mailboxes");
    let id = engine
        .create_provision(
            NewProvision::new("Ada Lovelace", "ada@example.com", "starter")
                .domains(["getada.com", "adahq.net", "tryada.org"])
                .patterns("ada", "ada.lovelace"),
        )
        .await?;
    // What a Stripe webhook handler calls on checkout.session.completed.
    engine
        .checkout_completed(
            id,
            CheckoutCompleted::new("cs_demo_1")
                .customer("cus_demo")
                .subscription("sub_demo"),
        )
        .await?;
    let snap = engine.run(id).await?;
    say(format!("provision {}: {}", id, snap.status));

    heading("Upgrade to Growth: 2 more domains");
    // customer.subscription.updated with the Growth price; the new domains come from the
    // host's upgrade screen.
    let out = engine
        .subscription_updated(
            id,
            Some("sub_demo"),
            "growth",
            &["adamail.com", "meetada.net"],
        )
        .await?;
    say(format!(
        "upgrade queued: {} (status {})",
        out.applied, out.snapshot.status
    ));
    let snap = engine.run(id).await?;
    say(format!(
        "provision {}: tier {}, {} domains, {} mailboxes",
        snap.status,
        snap.tier,
        snap.domains.len(),
        snap.mailboxes().count()
    ));
    if let Err(e) = engine.upgrade(id, "starter", &[] as &[&str]).await {
        say(format!("going back to Starter is refused: {e}"));
    }
    let z = &sims.zapmail;
    for d in &snap.domains {
        say(format!(
            "{:<14} bought {}x, {} mailboxes created",
            d.name,
            z.domains_bought(&d.name),
            z.mailboxes_created_for(&d.name)
        ));
    }

    heading("Dashboard");
    let dash = engine.dashboard(id).await?;
    for d in &dash.domains {
        say(format!("{} ({:?})", d.name, d.status));
        for m in &d.mailboxes {
            let health = m
                .health
                .and_then(|h| h.overall_7d)
                .map_or("no data yet".to_string(), |v| format!("{v:.0}%"));
            say(format!(
                "    {:<26} warmup {:<8} health {health}",
                m.email,
                m.warmup_status.as_deref().unwrap_or("?")
            ));
        }
    }
    if let Some(list) = &dash.heyreach_list {
        say(format!(
            "HeyReach list {:?}: {} leads",
            list.name, list.lead_count
        ));
    }
    say(format!(
        "complete: {} (missing: {:?})",
        dash.is_complete(),
        dash.missing
    ));

    heading("Summary email (as data)");
    let summary = Summary::from_snapshot(&snap);
    println!("Subject: {}\n\n{}", summary.subject, summary.text());
    Ok(())
}

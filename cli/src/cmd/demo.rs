//! `gtm-infra demo`: the quickstart. Simulators + a local SQLite file + a Starter
//! provisioning with live progress, with no configuration at all.

use std::sync::Arc;
use std::time::Duration;

use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::{Engine, NewProvision, Payment, SecretKey};

use super::run_and_report;
use crate::config::{Settings, open_store};
use crate::error::CliResult;
use crate::progress::{Mode, Progress};

/// Provision a sample customer's whole Starter setup (Zapmail workspace, 3 domains,
/// DMARC, 6 mailboxes, PlusVibe workspace + login + warmup, HeyReach list) against
/// built-in simulators, into a local SQLite file, with live progress. Needs no keys and
/// ignores the vendor and database settings.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo run --release -p gtm-infra -- demo
  gtm-infra demo --db /tmp/demo.db --json

JSON: the provision's snapshot (see `gtm-infra status --help`).")]
pub struct Args {
    /// The SQLite file to write (created if missing; each run adds one provision).
    #[arg(long, default_value = "gtm-infra-demo.db", value_name = "FILE")]
    pub db: String,
    /// Delay added to every simulated answer, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
}

/// Run it. JSON: the provision's snapshot (see `status ID --json`).
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let mode = Mode::for_result(settings.json);
    let say = |s: String| {
        if mode != Mode::Quiet {
            eprintln!("{s}");
        }
    };
    let sims = Simulators::start_with(
        SimulatorsConfig::default().with_latency(Duration::from_millis(args.latency_ms)),
    )
    .await;
    say(format!(
        "simulators: Zapmail {}  PlusVibe {}  HeyReach {}",
        sims.zapmail.base_url(),
        sims.plusvibe.base_url(),
        sims.heyreach.base_url()
    ));
    let url = if args.db.contains("://") || args.db.starts_with("sqlite:") {
        args.db.clone()
    } else {
        format!("sqlite://{}", args.db)
    };
    let store = open_store(&url).await?;
    say(format!("store: {url}"));

    let (progress, sink) = Progress::start(mode, false);
    let clients = sims.clients();
    let engine = Engine::builder()
        .clients(clients.zapmail, clients.plusvibe, clients.heyreach)
        .store(Arc::clone(&store))
        // The demo's own key: its provisions cannot be opened by another run.
        .secret_key(SecretKey::generate())
        .config(sims.engine_config())
        .sink(sink)
        .build()
        .await?;
    progress.attach(store);
    let id = engine
        .create_provision(
            NewProvision::new("Tim Keen", "tim@acmeoutreach.example", "starter")
                .domains([
                    "acmeoutreach.com",
                    "getacmeoutreach.net",
                    "tryacmeoutreach.org",
                ])
                .patterns("tim", "tim.keen"),
        )
        .await?;
    engine.mark_paid(id, Payment::default()).await?;
    say(format!("provision {id}: paid; provisioning"));
    run_and_report(settings, &engine, progress, id).await
}

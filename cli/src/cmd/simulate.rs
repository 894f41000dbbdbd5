//! `gtm-infra simulate`: start the three vendor simulators and print how to use them.

use std::time::Duration;

use provisioning::sim::{Simulators, SimulatorsConfig};

use super::worker::stop_signal;
use crate::config::Settings;
use crate::error::CliResult;
use crate::output;

/// Start the Zapmail, PlusVibe and HeyReach simulators on local ports and run until
/// Ctrl-C or SIGTERM. Prints their base URLs and the `export` lines that point every
/// other command at them (no account, no money). They keep state in memory only.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example (two shells):
  gtm-infra simulate                       # shell 1: prints export lines, keeps running
  export ZAPMAIL_BASE_URL=...              # shell 2: paste them, then
  gtm-infra provision --name \"Tim Keen\" --email tim@acme.example \\
      --domains acmeoutreach.com,getacmeoutreach.net,tryacmeoutreach.org --patterns tim,tim.keen

JSON: one line {\"zapmail\": URL, \"plusvibe\": URL, \"heyreach\": URL, \"env\": {VARIABLE: value}} (the simulators' own test keys), then nothing until stopped.")]
pub struct Args {
    /// Delay added to every simulated answer, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
}

/// The simulators' settings as environment variables, in order.
pub fn env_lines(sims: &Simulators) -> Vec<(&'static str, String)> {
    vec![
        ("ZAPMAIL_BASE_URL", sims.zapmail.base_url()),
        ("ZAPMAIL_API_KEY", sims.zapmail.api_key()),
        ("PLUSVIBE_BASE_URL", sims.plusvibe.base_url()),
        ("PLUSVIBE_API_KEY", sims.plusvibe.api_key().to_string()),
        (
            "PLUSVIBE_WORKSPACE_ID",
            sims.plusvibe.agency_workspace_id().to_string(),
        ),
        ("HEYREACH_BASE_URL", sims.heyreach.base_url()),
        ("HEYREACH_API_KEY", sims.heyreach.api_key().to_string()),
        ("GTM_SIMULATORS", "1".to_string()),
        ("GTM_DATABASE_URL", "sqlite://gtm-infra-sim.db".to_string()),
    ]
}

/// Run it. JSON: one line `{"zapmail": URL, "plusvibe": URL, "heyreach": URL, "env":
/// {VAR: value}}` (the simulators' own test keys), then nothing until stopped.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let sims = Simulators::start_with(
        SimulatorsConfig::default().with_latency(Duration::from_millis(args.latency_ms)),
    )
    .await;
    let env = env_lines(&sims);
    if settings.json {
        let map: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
            .collect();
        output::json_line(&serde_json::json!({
            "zapmail": sims.zapmail.base_url(),
            "plusvibe": sims.plusvibe.base_url(),
            "heyreach": sims.heyreach.base_url(),
            "env": map,
        }));
    } else {
        println!("Simulators running (Ctrl-C stops them; their state is lost then):");
        println!("  Zapmail   {}", sims.zapmail.base_url());
        println!("  PlusVibe  {}", sims.plusvibe.base_url());
        println!("  HeyReach  {}", sims.heyreach.base_url());
        println!();
        println!("Point gtm-infra at them from another shell:");
        for (k, v) in &env {
            println!("export {k}={v}");
        }
        println!("export GTM_SECRET_KEY=\"$(head -c 32 /dev/urandom | base64)\"");
    }
    stop_signal().await;
    if !settings.json {
        eprintln!("simulators stopped");
    }
    Ok(())
}

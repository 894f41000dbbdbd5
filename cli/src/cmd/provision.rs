//! `gtm-infra provision`: create a provision, record the payment, and run it (or leave it
//! queued for a worker with `--no-run`).

use provisioning::{CustomerId, NewProvision, Payment};

use super::{engine_with_progress, run_and_report};
use crate::config::Settings;
use crate::error::CliResult;
use crate::output;
use crate::progress::{Mode, Progress};

/// Provision a customer's whole setup: Zapmail workspace, domains, DNS/DMARC, mailboxes,
/// PlusVibe workspace + login + warmup, HeyReach list.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra provision --name \"Tim Keen\" --email tim@acme.example --tier starter \\
      --domains acmeoutreach.com,getacmeoutreach.net,tryacmeoutreach.org --patterns tim,tim.keen
  gtm-infra provision ... --no-run --json     # queue it; `gtm-infra worker` runs it

The payment is recorded as made (the tool is for operators; hosts call Engine::mark_paid
from their checkout webhook). Exit code 4 when the run ends failed: fix the cause, then
`gtm-infra retry ID` resumes from the failed step.

JSON: the provision's snapshot (see `gtm-infra status --help`).")]
pub struct Args {
    /// Customer's full name.
    #[arg(long)]
    pub name: String,
    /// Customer's email.
    #[arg(long)]
    pub email: String,
    /// Tier slug (see `gtm-infra tiers`).
    #[arg(long, default_value = "starter")]
    pub tier: String,
    /// The chosen domains, comma-separated or repeated (as many as the tier has).
    #[arg(
        long,
        required = true,
        value_delimiter = ',',
        value_name = "DOMAIN,..."
    )]
    pub domains: Vec<String>,
    /// The two mailbox usernames, e.g. `tim,tim.keen`.
    #[arg(
        long,
        required = true,
        value_delimiter = ',',
        value_name = "FIRST,SECOND"
    )]
    pub patterns: Vec<String>,
    /// Sender first name [default: first word of the name].
    #[arg(long)]
    pub first_name: Option<String>,
    /// Sender last name [default: the rest of the name].
    #[arg(long)]
    pub last_name: Option<String>,
    /// The host's customer id (one provision per customer) [default: random].
    #[arg(long)]
    pub customer_id: Option<CustomerId>,
    /// Stripe checkout session id to record with the payment.
    #[arg(long)]
    pub checkout_session: Option<String>,
    /// Only create it and record the payment: a `gtm-infra worker` runs it.
    #[arg(long)]
    pub no_run: bool,
}

/// Run it. JSON: the provision's snapshot (see `status ID --json`).
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    if args.patterns.len() != 2 {
        return Err(crate::error::CliError::user(format!(
            "--patterns needs exactly two usernames, e.g. --patterns tim,tim.keen (got {})",
            args.patterns.len()
        )));
    }
    let mut req = NewProvision::new(args.name, args.email, args.tier)
        .domains(args.domains)
        .patterns(args.patterns[0].clone(), args.patterns[1].clone());
    req.customer_id = args.customer_id;
    req.first_name = args.first_name;
    req.last_name = args.last_name;
    let payment = Payment {
        checkout_session_id: args.checkout_session,
        ..Payment::default()
    };

    if args.no_run {
        let engine = settings.engine(settings.engine_config(), vec![]).await?;
        let id = engine.create_provision(req).await?;
        let snap = engine.mark_paid(id, payment).await?;
        if settings.json {
            return output::json(&snap);
        }
        println!("{id}");
        eprintln!("provision {id} is paid and queued: `gtm-infra worker` will run it");
        return Ok(());
    }

    let mode = Mode::for_result(settings.json);
    let (engine, progress): (_, Progress) =
        engine_with_progress(settings, mode, false, settings.engine_config()).await?;
    let id = engine.create_provision(req).await?;
    engine.mark_paid(id, payment).await?;
    if mode != Mode::Quiet {
        eprintln!("provision {id}: provisioning");
    }
    run_and_report(settings, &engine, progress, id).await
}

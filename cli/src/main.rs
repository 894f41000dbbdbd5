//! `gtm-infra`: the operator's command-line tool for the GTM Infrastructure SDK.
//!
//! One module per subcommand in [`cmd`], sharing the configuration ([`config`]), the
//! error type and exit codes ([`error`]), output helpers ([`output`]) and the live
//! progress display ([`progress`]). Run `gtm-infra --help`.

mod cmd;
mod config;
mod error;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{GlobalArgs, Settings};
use crate::error::{CliError, CliResult, Exit};

const AFTER_HELP: &str = "\
Quick start (no accounts, no money):
  gtm-infra demo        # simulators + SQLite + a Starter provisioning, live
  gtm-infra simulate    # simulators for the other commands (prints export lines)

Examples:
  gtm-infra suggest \"Acme Outreach\" --check
  gtm-infra check acmeoutreach.com getacmeoutreach.net
  gtm-infra quote --tier starter acmeoutreach.com getacmeoutreach.net tryacmeoutreach.org
  gtm-infra provision --name \"Tim Keen\" --email tim@acme.example --tier starter \\
      --domains acmeoutreach.com,getacmeoutreach.net,tryacmeoutreach.org --patterns tim,tim.keen
  gtm-infra status
  gtm-infra dashboard 3f2a9c1e
  gtm-infra upgrade 3f2a9c1e --tier growth --domains acmeoutreach.co,useacmeoutreach.com
  gtm-infra cancel 3f2a9c1e
  gtm-infra worker --concurrency 4

Configuration: flags, then environment variables (ZAPMAIL_API_KEY, ZAPMAIL_BASE_URL,
PLUSVIBE_API_KEY, PLUSVIBE_BASE_URL, PLUSVIBE_WORKSPACE_ID, HEYREACH_API_KEY,
HEYREACH_BASE_URL, GTM_DATABASE_URL, GTM_SECRET_KEY, GTM_SIMULATORS, GTM_CONFIG), then the
TOML config file (./gtm-infra.toml or --config), then defaults. Secrets are never printed.
Logs go to stderr: errors by default, RUST_LOG=warn (or info) shows more.

Output: text on stdout, progress on stderr (live on a terminal, plain lines otherwise);
--json prints one JSON document on stdout (worker and simulate: JSON lines); a command
that fails before its result prints {\"error\": {\"exit_code\", \"kind\", \"message\"}} instead.

Exit codes:
  0  success
  1  other failure (database, I/O, internal error)
  2  user error: bad input or missing/invalid configuration
  3  vendor error: a vendor refused, failed or could not be reached (also a partial
     `dashboard`, unless --allow-partial)
  4  provisioning failed (the run — provisioning, upgrade or teardown — ended `failed`;
     `gtm-infra retry ID` resumes it)
  130  interrupted (Ctrl-C/SIGTERM during a run; it is saved: `retry ID` or a worker resumes it)";

/// Provision and operate cold-email + LinkedIn outreach infrastructure (Zapmail,
/// PlusVibe, HeyReach) from the command line.
#[derive(Debug, Parser)]
#[command(name = "gtm-infra", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Suggest domain names for a brand (optionally with availability and prices).
    Suggest(cmd::suggest::Args),
    /// Check domain availability and prices at Zapmail.
    Check(cmd::check::Args),
    /// Price a package with chosen domains (setup + domains + first month).
    Quote(cmd::quote::Args),
    /// List, add, update or deactivate tiers (packages).
    Tiers(cmd::tiers::Args),
    /// Create a provision, record the payment and run it (or queue it with --no-run).
    Provision(cmd::provision::Args),
    /// Show one provision, or list them all.
    Status(cmd::status::Args),
    /// Resume a failed provision from its failed step (or drive a queued/interrupted one).
    Retry(cmd::retry::Args),
    /// Move an active provision to a larger tier, adding domains (downgrades are refused).
    Upgrade(cmd::upgrade::Args),
    /// Cancel a provision: stop warmup, schedule mailbox removal, keep the domains.
    Cancel(cmd::cancel::Args),
    /// Show a provision's domains, mailbox warmup health, HeyReach list and login.
    Dashboard(cmd::dashboard::Args),
    /// Run due provisions until Ctrl-C/SIGTERM, with bounded concurrency.
    Worker(cmd::worker::Args),
    /// Start the three vendor simulators and print how to point the tool at them.
    Simulate(cmd::simulate::Args),
    /// The quickstart: simulators + SQLite + a Starter provisioning with live progress.
    Demo(cmd::demo::Args),
}

async fn dispatch(settings: &Settings, command: Command) -> CliResult {
    match command {
        Command::Suggest(a) => cmd::suggest::run(settings, a).await,
        Command::Check(a) => cmd::check::run(settings, a).await,
        Command::Quote(a) => cmd::quote::run(settings, a).await,
        Command::Tiers(a) => cmd::tiers::run(settings, a).await,
        Command::Provision(a) => cmd::provision::run(settings, a).await,
        Command::Status(a) => cmd::status::run(settings, a).await,
        Command::Retry(a) => cmd::retry::run(settings, a).await,
        Command::Upgrade(a) => cmd::upgrade::run(settings, a).await,
        Command::Cancel(a) => cmd::cancel::run(settings, a).await,
        Command::Dashboard(a) => cmd::dashboard::run(settings, a).await,
        Command::Worker(a) => cmd::worker::run(settings, a).await,
        Command::Simulate(a) => cmd::simulate::run(settings, a).await,
        Command::Demo(a) => cmd::demo::run(settings, a).await,
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let line: Vec<&str> = msg.split_whitespace().collect();
        eprintln!(
            "error: internal error{at}: {} (please report it)",
            line.join(" ")
        );
    }));

    let cli = Cli::parse();
    // Errors only unless RUST_LOG asks for more (e.g. a worker's failed drive).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Other as u8);
        }
    };
    let json = cli.global.json;
    let result = runtime.block_on(async {
        let settings = Settings::load(cli.global)?;
        // A panic inside a task surfaces as an error here rather than a hang.
        tokio::spawn(async move { dispatch(&settings, cli.command).await })
            .await
            .map_err(|e| CliError::other(format!("internal error: {e}")))?
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::from(Exit::Success as u8),
        Err(e) => {
            if json {
                output::json_error(&e);
            }
            eprintln!("error: {e}");
            ExitCode::from(e.exit as u8)
        }
    }
}

//! `gtm-infra upgrade ID --tier SLUG --domains ...`: move an active provision to a larger
//! tier, buying only the domains it adds, and run the upgrade (or queue it with `--no-run`).

use provisioning::{RunKind, RunStatus};

use super::{engine_with_progress, resolve_id, run_and_report};
use crate::config::Settings;
use crate::error::{CliError, CliResult};
use crate::output;
use crate::progress::Mode;

/// Upgrade an active provision to a larger tier: buys only the added domains, creates
/// their mailboxes with the provision's patterns, exports them into the existing PlusVibe
/// workspace with warmup, then sets the new tier. The domains and mailboxes it already
/// has are not touched. Downgrades are refused (domains are paid for the year).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra upgrade 3f2a9c1e --tier growth --domains acmeoutreach.co,useacmeoutreach.com
  gtm-infra upgrade 3f2a9c1e --tier growth --domains a.com,b.net --no-run   # a worker runs it
  gtm-infra quote --tier growth ...   # price the tier first

--domains gives exactly as many new domains as the new tier has more than the current one
(Starter 3 -> Growth 5: two). Asking again for the upgrade already queued changes nothing.
A failed upgrade keeps the current tier: fix the cause, then `gtm-infra retry ID`.

Exit codes: 0 the provision is active on the new tier (or, with --no-run, the upgrade is
queued); 2 a downgrade, the same tier, a provision that is not active, a wrong number of
domains or an unknown tier (nothing changes); 3 a vendor error before the run; 4 the
upgrade run failed.

JSON: the provision's snapshot (see `gtm-infra status --help`): \"tier\" is the new tier
and \"domains\" lists the old and the new ones.")]
pub struct Args {
    /// The provision id (or a unique prefix).
    pub id: String,
    /// The new, larger tier's slug (see `gtm-infra tiers`).
    #[arg(long)]
    pub tier: String,
    /// The domains to add, comma-separated or repeated.
    #[arg(
        long,
        required = true,
        value_delimiter = ',',
        value_name = "DOMAIN,..."
    )]
    pub domains: Vec<String>,
    /// Only queue the upgrade: a `gtm-infra worker` runs it.
    #[arg(long)]
    pub no_run: bool,
}

/// An upgrade that failed earlier is resumed by `retry`, not by asking again.
fn refuse_failed(s: &provisioning::Snapshot) -> CliResult {
    if s.run == Some((RunKind::Upgrade, RunStatus::Failed)) {
        return Err(CliError::user(format!(
            "the upgrade of provision {} to this tier failed earlier ({}); `gtm-infra retry {}` \
             resumes it",
            s.id,
            s.error.as_deref().unwrap_or("see `gtm-infra status`"),
            s.id
        )));
    }
    Ok(())
}

/// Run it. JSON: the provision's snapshot.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    if args.no_run {
        let engine = settings.engine(settings.engine_config(), vec![]).await?;
        let id = resolve_id(engine.store(), &args.id).await?;
        let snap = engine.upgrade(id, &args.tier, &args.domains).await?;
        refuse_failed(&snap)?;
        if settings.json {
            return output::json(&snap);
        }
        println!("{id}");
        eprintln!(
            "provision {id}: the upgrade to {} is queued: `gtm-infra worker` runs it",
            args.tier.trim()
        );
        return Ok(());
    }
    let mode = Mode::for_result(settings.json);
    let (engine, progress) =
        engine_with_progress(settings, mode, false, settings.engine_config()).await?;
    let id = resolve_id(engine.store(), &args.id).await?;
    let snap = match engine.upgrade(id, &args.tier, &args.domains).await {
        Ok(s) => s,
        Err(e) => {
            progress.finish().await;
            return Err(e.into());
        }
    };
    if let Err(e) = refuse_failed(&snap) {
        progress.finish().await;
        return Err(e);
    }
    if mode != Mode::Quiet {
        eprintln!("provision {id}: upgrading to {}", args.tier.trim());
    }
    run_and_report(settings, &engine, progress, id).await
}

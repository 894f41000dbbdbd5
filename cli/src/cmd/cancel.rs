//! `gtm-infra cancel ID`: cancel a provision and run its teardown (or queue it with
//! `--no-run`).

use provisioning::ProvisionStatus;

use super::{engine_with_progress, print_snapshot, resolve_id, run_and_report};
use crate::config::Settings;
use crate::error::CliResult;
use crate::output;
use crate::progress::Mode;

/// Cancel a provision: its status becomes `cancelled` and a teardown run stops the warmup
/// in PlusVibe (accounts `INACTIVE`) and schedules the Zapmail mailboxes for removal at
/// their next renewal (which ends their billing). Domains are kept: their registration is
/// paid for the year. A provision never paid for is cancelled with nothing to tear down;
/// one already cancelled is shown as it is.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra cancel 3f2a9c1e
  gtm-infra cancel 3f2a9c1e --no-run --json   # a worker runs the teardown

Refused (exit 2, nothing changes) while a provisioning or upgrade run is still in progress:
its vendor calls would race the teardown; cancel once it has finished or failed. A teardown
that fails (exit 4) is resumed by `gtm-infra retry ID`.

Exit codes: 0 cancelled (teardown finished, or queued with --no-run); 2 refused or an
unknown id; 3 a vendor error before the run; 4 the teardown failed.

JSON: the provision's snapshot (see `gtm-infra status --help`), \"status\": \"cancelled\";
\"run\" is [\"cancel\", \"succeeded\"] after the teardown, [\"cancel\", \"pending\"] when
queued, and null for a provision cancelled before payment.")]
pub struct Args {
    /// The provision id (or a unique prefix).
    pub id: String,
    /// Only cancel it and queue the teardown: a `gtm-infra worker` runs it.
    #[arg(long)]
    pub no_run: bool,
}

/// Run it. JSON: the provision's snapshot.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let store = settings.store().await?;
    let id = resolve_id(&store, &args.id).await?;
    // Never paid for: nothing to tear down, so no vendor is needed (nor checked).
    let unpaid = store.load(id).await?.value.status == ProvisionStatus::PendingPayment;
    if args.no_run || unpaid {
        let engine = settings.engine(settings.engine_config(), vec![]).await?;
        let snap = engine.cancel(id).await?;
        if settings.json {
            return output::json(&snap);
        }
        if !args.no_run || snap.run.is_none() {
            print_snapshot(&snap);
            return Ok(());
        }
        println!("{id}");
        let note = if snap.run.is_some_and(|(_, s)| s.is_live()) {
            "is cancelled; its teardown is queued: `gtm-infra worker` runs it"
        } else {
            "is cancelled"
        };
        eprintln!("provision {id} {note}");
        return Ok(());
    }
    let mode = Mode::for_result(settings.json);
    let (engine, progress) =
        engine_with_progress(settings, mode, false, settings.engine_config()).await?;
    let snap = match engine.cancel(id).await {
        Ok(s) => s,
        Err(e) => {
            progress.finish().await;
            return Err(e.into());
        }
    };
    // Paid for in the meantime? No: cancelled before payment, nothing to run.
    if snap.run.is_none() {
        progress.finish().await;
        if settings.json {
            return output::json(&snap);
        }
        print_snapshot(&snap);
        return Ok(());
    }
    if mode != Mode::Quiet {
        eprintln!("provision {id}: cancelling (teardown)");
    }
    run_and_report(settings, &engine, progress, id).await
}

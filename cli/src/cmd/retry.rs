//! `gtm-infra retry ID`: resume a failed provision from its failed step, or drive one whose
//! run is still live (queued, waiting on a vendor, or interrupted) in the foreground.

use provisioning::{Engine, ProvisionId, Snapshot};

use super::{engine_with_progress, resolve_id, run_and_report};
use crate::config::Settings;
use crate::error::CliResult;
use crate::output;
use crate::progress::Mode;

/// Resume a failed provision from the step that failed (nothing already done is redone;
/// a purchase whose answer was lost is never re-sent without checking Zapmail). A
/// provision whose run is still live (queued, waiting, interrupted) is driven as it is.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra retry 3f2a9c1e
  gtm-infra retry 3f2a9c1e --no-run   # a worker picks it up

A run interrupted by Ctrl-C is resumed once that process's claim expires (within a minute).

JSON: the provision's snapshot (see `gtm-infra status --help`). Exit code 4 if it fails again.")]
pub struct Args {
    /// The provision id (or a unique prefix).
    pub id: String,
    /// Only mark it for retry: a `gtm-infra worker` runs it.
    #[arg(long)]
    pub no_run: bool,
}

/// Mark a failed run for retry; a live run is left as it is. `None`: it was live.
async fn requeue(engine: &Engine, id: ProvisionId) -> CliResult<Option<Snapshot>> {
    let state = engine.state(id).await?;
    if state.run.as_ref().is_some_and(|r| r.status.is_live()) {
        return Ok(None);
    }
    Ok(Some(engine.retry(id).await?))
}

/// Run it.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    if args.no_run {
        let engine = settings.engine(settings.engine_config(), vec![]).await?;
        let id = resolve_id(engine.store(), &args.id).await?;
        let note = match requeue(&engine, id).await? {
            Some(_) => "is queued for retry",
            None => "is already queued or running",
        };
        if settings.json {
            return output::json(&engine.status(id).await?);
        }
        println!("{id}");
        eprintln!("provision {id} {note}: `gtm-infra worker` runs it");
        return Ok(());
    }
    let mode = Mode::for_result(settings.json);
    let (engine, progress) =
        engine_with_progress(settings, mode, false, settings.engine_config()).await?;
    let id = resolve_id(engine.store(), &args.id).await?;
    let note = match requeue(&engine, id).await? {
        Some(_) => "retrying from the failed step",
        None => "its run is still live: driving it (after any other claim expires)",
    };
    if mode != Mode::Quiet {
        eprintln!("provision {id}: {note}");
    }
    run_and_report(settings, &engine, progress, id).await
}

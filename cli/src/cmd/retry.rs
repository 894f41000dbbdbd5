//! `gtm-infra retry ID`: resume a failed provision from its failed step.

use super::{engine_with_progress, resolve_id, run_and_report};
use crate::config::Settings;
use crate::error::CliResult;
use crate::output;
use crate::progress::Mode;

/// Resume a failed provision from the step that failed (nothing already done is redone;
/// a purchase whose answer was lost is never re-sent without checking Zapmail).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gtm-infra retry 3f2a9c1e\n  gtm-infra retry 3f2a9c1e --no-run   # a worker picks it up\n\nJSON: the provision's snapshot (see `gtm-infra status --help`). Exit code 4 if it fails again."
)]
pub struct Args {
    /// The provision id (or a unique prefix).
    pub id: String,
    /// Only mark it for retry: a `gtm-infra worker` runs it.
    #[arg(long)]
    pub no_run: bool,
}

/// Run it. JSON: the snapshot after the run (or after queueing, with `--no-run`).
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    if args.no_run {
        let engine = settings.engine(settings.engine_config(), vec![]).await?;
        let id = resolve_id(engine.store(), &args.id).await?;
        let snap = engine.retry(id).await?;
        if settings.json {
            return output::json(&snap);
        }
        println!("{id}");
        eprintln!("provision {id} is queued for retry: `gtm-infra worker` will run it");
        return Ok(());
    }
    let mode = Mode::for_result(settings.json);
    let (engine, progress) =
        engine_with_progress(settings, mode, false, settings.engine_config()).await?;
    let id = resolve_id(engine.store(), &args.id).await?;
    engine.retry(id).await?;
    if mode != Mode::Quiet {
        eprintln!("provision {id}: retrying from the failed step");
    }
    run_and_report(settings, &engine, progress, id).await
}

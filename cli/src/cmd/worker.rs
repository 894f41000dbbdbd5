//! `gtm-infra worker`: run every due provision until stopped (Ctrl-C or SIGTERM).

use super::engine_with_progress;
use crate::config::Settings;
use crate::error::CliResult;
use crate::progress::Mode;

/// Run due provisions (paid, retried, or waiting on a vendor) until Ctrl-C or SIGTERM,
/// up to `--concurrency` at once. Several workers may share one database: each run is
/// claimed with a lease, so none is driven twice.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra worker
  gtm-infra worker --concurrency 4 --json > events.jsonl

On stop, runs in progress finish their current step and save; the rest resume on the
next start. Progress goes to stderr (one line per event, prefixed with the provision's
short id); with --json, every event is one JSON line on stdout: {\"provision_id\", \"run_id\", \"at\", \"step\", \"name\", \"status\", \"provision_status\", \"message\", \"error\", \"details\"}.")]
pub struct Args {
    /// Provisions driven at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Run it. JSON: one progress event per line on stdout: `{"provision_id", "run_id", "at",
/// "step", "name", "status", "provision_status", "message", "error", "details"}`.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let mode = if settings.json {
        Mode::JsonLines
    } else {
        Mode::Lines
    };
    let mut config = settings.engine_config();
    config.concurrency = usize::from(args.concurrency);
    let worker_id = config.worker_id.clone();
    let (engine, progress) = engine_with_progress(settings, mode, true, config).await?;
    eprintln!(
        "worker {worker_id} running (up to {} provisions at once); Ctrl-C or SIGTERM stops it",
        args.concurrency
    );
    let result = engine.run_worker(stop_signal()).await;
    progress.finish().await;
    result?;
    eprintln!("worker {worker_id} stopped");
    Ok(())
}

//! One module per subcommand, each with its clap `Args` and an async `run`; the helpers
//! they share (finding a provision by id or prefix, showing a provision, driving a run
//! with live progress) are here.

pub mod cancel;
pub mod check;
pub mod dashboard;
pub mod demo;
pub mod provision;
pub mod quote;
pub mod retry;
pub mod simulate;
pub mod status;
pub mod suggest;
pub mod tiers;
pub mod upgrade;
pub mod worker;

use std::sync::Arc;

use provisioning::{
    Engine, ProvisionId, ProvisionStatus, RunKind, RunStatus, Snapshot, StepStatus, Store,
};

use crate::config::{Settings, preflight};
use crate::error::{CliError, CliResult};
use crate::output::{self, Table};
use crate::progress::{Mode, Progress};

/// A provision id: the full UUID, or a unique prefix of one (as the tables show).
pub async fn resolve_id(store: &Arc<dyn Store>, text: &str) -> CliResult<ProvisionId> {
    let t = text.trim().to_ascii_lowercase();
    if let Ok(id) = t.parse::<ProvisionId>() {
        return Ok(id);
    }
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(CliError::user(format!(
            "{text:?} is not a provision id (a UUID, or the first characters of one)"
        )));
    }
    let matches: Vec<ProvisionId> = store
        .list_provisions()
        .await?
        .into_iter()
        .map(|p| p.id)
        .filter(|id| id.to_string().starts_with(&t))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(CliError::user(format!(
            "no provision id starts with {t:?} (see `gtm-infra status`)"
        ))),
        _ => Err(CliError::user(format!(
            "{} provisions start with {t:?}: give more characters",
            matches.len()
        ))),
    }
}

fn mark(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Completed => "done",
        StepStatus::Failed => "FAILED",
        StepStatus::InProgress => "running",
        StepStatus::Pending => "pending",
    }
}

/// A step's details for people: `{"active": 2, "total": 3}` → `active 2, total 3`.
fn details(d: &serde_json::Value) -> String {
    match d {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Show one provision for people: header, steps, domains and mailboxes.
pub fn print_snapshot(s: &Snapshot) {
    println!("Provision {}  {}", s.id, s.status);
    println!(
        "Customer  {} <{}>  tier {}",
        s.customer.name, s.customer.email, s.tier
    );
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    println!(
        "Zapmail workspace {}\nPlusVibe workspace {}  login {}\nHeyReach list {}",
        dash(&s.zapmail_workspace_id),
        dash(&s.plusvibe_workspace_id),
        dash(&s.plusvibe_login_email),
        s.heyreach_list_id.map_or("-".into(), |i| i.to_string()),
    );
    if !s.provisioning_log.is_empty() {
        println!();
        let mut t = Table::new(["STEP", "NAME", "STATUS", "NOTE"]);
        for e in &s.provisioning_log {
            let note = e
                .error
                .clone()
                .or_else(|| e.details.as_ref().map(details))
                .unwrap_or_default();
            t.row([
                e.step.to_string(),
                e.name.clone(),
                mark(e.status).to_string(),
                note,
            ]);
        }
        t.print();
    }
    if !s.domains.is_empty() {
        println!();
        let mut t = Table::new(["DOMAIN", "STATUS", "ZAPMAIL ID", "MAILBOXES"]);
        for d in &s.domains {
            let boxes: Vec<&str> = d.mailboxes.iter().map(|m| m.email.as_str()).collect();
            t.row([
                d.name.clone(),
                d.status.as_str().to_string(),
                d.zapmail_domain_id.clone().unwrap_or_else(|| "-".into()),
                boxes.join(", "),
            ]);
        }
        t.print();
    }
    for f in &s.flags {
        println!("flag: {f}");
    }
    if let Some(e) = &s.error {
        println!("\nerror: {e}");
    }
}

/// Exit 4 when the provision's last run failed: its status is `failed`, or (a failed
/// teardown leaves the provision `cancelled`) its run's status is.
pub fn failed_run(s: &Snapshot) -> CliResult {
    let run_failed = s.run.is_some_and(|(_, status)| status == RunStatus::Failed);
    if s.status != ProvisionStatus::Failed && !run_failed {
        return Ok(());
    }
    let what = match s.run {
        Some((RunKind::Upgrade, _)) => "the upgrade of provision",
        Some((RunKind::Cancel, _)) => "the teardown of provision",
        _ => "provision",
    };
    Err(CliError::failed(format!(
        "{what} {} failed: {}; fix the cause, then run `gtm-infra retry {}`",
        s.id,
        s.error.as_deref().unwrap_or("see `gtm-infra status`"),
        s.id
    )))
}

/// Print the result of a run (`--json`: the snapshot) and turn a failed run into exit 4.
pub fn report_run(settings: &Settings, s: &Snapshot) -> CliResult {
    if settings.json {
        output::json(s)?;
    } else {
        println!();
        print_snapshot(s);
    }
    failed_run(s)
}

/// An engine with a live progress display, and the vendors checked (one read each).
pub async fn engine_with_progress(
    settings: &Settings,
    mode: Mode,
    with_ids: bool,
    config: provisioning::EngineConfig,
) -> CliResult<(Engine, Progress)> {
    let (progress, sink) = Progress::start(mode, with_ids);
    let engine = settings.engine(config, vec![sink]).await?;
    progress.attach(engine.store().clone());
    preflight(engine.clients()).await?;
    Ok((engine, progress))
}

/// Drive `id` to the end of its run with `progress` showing it, then report.
pub async fn run_and_report(
    settings: &Settings,
    engine: &Engine,
    progress: Progress,
    id: ProvisionId,
) -> CliResult {
    let result = tokio::select! {
        r = engine.run(id) => r,
        _ = worker::stop_signal() => {
            progress.finish().await;
            return Err(CliError::interrupted(format!(
                "interrupted: provision {id} is saved at its current step; `gtm-infra retry \
                 {id}` or a worker resumes it once this process's claim expires (within {}s)",
                engine.config().lease.as_secs()
            )));
        }
    };
    progress.finish().await;
    report_run(settings, &result?)
}

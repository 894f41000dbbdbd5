//! Driving one claimed provision through its steps.
//!
//! The rule for each step execution:
//! 1. record the *intent* (attempt count, start time, log entry `in_progress`) and commit it
//!    before any vendor call;
//! 2. run the step, which observes the vendor before it acts and commits what it learns
//!    (ledger rows) right after each call that creates something;
//! 3. record the *outcome* (log entry, ledger, progress event, run position) in one commit.
//!
//! Waiting is not retrying: a step that waits for the vendor is re-run on its poll schedule
//! without using attempts, until its deadline. Transient errors back off with jitter and use
//! attempts; permanent errors stop the run in `failed` with the step and the vendor's words.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use super::cx::Cx;
use super::steps::{self, StepOutcome};
use super::{EngineError, EngineInner};
use crate::model::{ProvisionStatus, RunKind, RunStatus, StepStatus};
use crate::store::{Claim, StoreError};

/// Why a step could not finish now.
#[derive(Debug, Clone)]
pub(crate) enum StepError {
    /// Worth trying again later (5xx, timeouts, rate limits...).
    Transient {
        message: String,
        retry_after: Option<Duration>,
        /// Whether this uses one of the step's attempts (rate limits do not).
        counts: bool,
    },
    /// Needs an operator (validation, auth, insufficient funds, deadline passed...).
    Permanent { message: String },
}

impl StepError {
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        StepError::Permanent {
            message: message.into(),
        }
    }

    pub(crate) fn transient(message: impl Into<String>) -> Self {
        StepError::Transient {
            message: message.into(),
            retry_after: None,
            counts: true,
        }
    }
}

impl From<vendor_http::Error> for StepError {
    fn from(e: vendor_http::Error) -> Self {
        use vendor_http::ErrorKind as K;
        let message = e.to_string();
        match e.kind() {
            K::RateLimited => StepError::Transient {
                message,
                retry_after: e.retry_after(),
                counts: false,
            },
            K::Server | K::Transport | K::Decode | K::OtherStatus => StepError::Transient {
                message,
                retry_after: e.retry_after(),
                counts: true,
            },
            _ => StepError::Permanent { message },
        }
    }
}

impl From<EngineError> for StepError {
    fn from(e: EngineError) -> Self {
        StepError::permanent(e.to_string())
    }
}

/// Where driving left the provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driven {
    /// The run ended (succeeded or failed), or there was no live run.
    Finished,
    /// The run waits; it is due again at this time.
    DueAt(chrono::DateTime<Utc>),
    /// Another worker holds it (or took it over while we drove it).
    Busy,
}

/// Drive a claimed provision until it finishes, waits, or is taken over.
pub(crate) async fn drive_claimed(
    engine: &EngineInner,
    claim: Claim,
) -> Result<Driven, EngineError> {
    let mut cx = match Cx::load(engine, claim).await {
        Ok(cx) => cx,
        Err(EngineError::Store(StoreError::Conflict { .. })) => return Ok(Driven::Busy),
        Err(e) => return Err(e),
    };
    let id = cx.state.id;
    // The step runs while a heartbeat renews the lease; if the lease is lost (it expired and
    // another worker took the run), the drive stops at once, before any further vendor call.
    let result = tokio::select! {
        biased;
        r = drive_loop(&mut cx) => r,
        () = keep_lease(engine, id) => {
            tracing::warn!(provision = %id, "lost the lease on this provision; stopping");
            return Ok(Driven::Busy);
        }
    };
    match result {
        Err(EngineError::Store(StoreError::Conflict { .. })) => {
            tracing::warn!(provision = %id, "lost the claim on this provision; stopping");
            Ok(Driven::Busy)
        }
        other => other,
    }
}

/// Renew this worker's lease on `id` every third of the lease, so a long step keeps its
/// claim. Returns only when the lease is no longer this worker's.
async fn keep_lease(engine: &EngineInner, id: crate::model::ProvisionId) {
    let lease = engine.config.lease;
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        let until = Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default();
        match engine
            .store
            .renew_lease(id, &engine.config.worker_id, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            // The store is unreachable: keep trying; the next save is fenced anyway.
            Err(e) => tracing::warn!(provision = %id, error = %e, "could not renew the lease"),
        }
    }
}

async fn drive_loop(cx: &mut Cx<'_>) -> Result<Driven, EngineError> {
    loop {
        let Some(run) = cx.state.run.clone() else {
            cx.release().await?;
            return Ok(Driven::Finished);
        };
        if !run.status.is_live() {
            cx.release().await?;
            return Ok(Driven::Finished);
        }
        let plan = steps::plan(run.kind);
        if run.step >= plan.len() {
            finish_run(cx).await?;
            return Ok(Driven::Finished);
        }
        let idx = run.step;
        let step = plan[idx];
        let number = step.number();
        let polling = run
            .steps
            .get(idx)
            .is_some_and(|s| s.waiting_since.is_some());

        // 1. Intent.
        {
            let now = Utc::now();
            let r = cx.run_mut();
            r.status = RunStatus::Pending;
            if r.steps.len() <= idx {
                r.steps.resize(idx + 1, Default::default());
            }
            let s = &mut r.steps[idx];
            if polling {
                s.polls += 1;
            } else {
                s.attempts += 1;
                s.attempt_started_at = Some(now);
            }
            let first_time = cx.log_step_started(number, step.name());
            if first_time {
                cx.event(
                    number,
                    step.name(),
                    StepStatus::InProgress,
                    None,
                    None,
                    None,
                );
            }
            cx.commit().await?;
        }

        // 2. The step itself.
        // The oldest provisions take the vendors' rate-limit slots first (see
        // `vendor_http::limit::with_priority`).
        let priority = cx.state.created_at.timestamp_millis().max(0) as u64;
        let result = vendor_http::limit::with_priority(priority, step.execute(cx)).await;

        // 3. Outcome.
        let now = Utc::now();
        match result {
            Ok(StepOutcome::Done { message, details }) => {
                cx.log_step_finished(number, StepStatus::Completed, None, details.clone());
                let r = cx.run_mut();
                r.steps[idx].waiting_since = None;
                r.steps[idx].last_error = None;
                r.step += 1;
                r.next_wake_at = now;
                cx.event(
                    number,
                    step.name(),
                    StepStatus::Completed,
                    message,
                    None,
                    details,
                );
                cx.commit().await?;
            }
            Ok(StepOutcome::Wait {
                poll,
                message,
                details,
            }) => {
                let policy = cx.engine.config.polls.for_kind(poll).clone();
                let r = cx.run_mut();
                let since = *r.steps[idx].waiting_since.get_or_insert(now);
                let waited = (now - since).to_std().unwrap_or_default();
                if waited > policy.deadline {
                    let msg = format!(
                        "{} (still not ready after {}; the vendor may be slow: retry to keep waiting)",
                        message,
                        human(policy.deadline)
                    );
                    fail_run(cx, idx, number, step.name(), msg).await?;
                    return Ok(Driven::Finished);
                }
                let gap = policy.interval(r.steps[idx].polls.max(1));
                let due = now + chrono::Duration::from_std(gap).unwrap_or_default();
                r.status = RunStatus::Waiting;
                r.next_wake_at = due;
                cx.log_step_details(number, details.clone());
                cx.event(
                    number,
                    step.name(),
                    StepStatus::InProgress,
                    Some(message),
                    None,
                    details,
                );
                cx.release().await?;
                return Ok(Driven::DueAt(due));
            }
            Err(StepError::Permanent { message }) => {
                fail_run(cx, idx, number, step.name(), message).await?;
                return Ok(Driven::Finished);
            }
            Err(StepError::Transient {
                message,
                retry_after,
                counts,
            }) => {
                let retry = cx.engine.config.retry.clone();
                let r = cx.run_mut();
                let s = &mut r.steps[idx];
                if !counts && !polling {
                    // Rate limits do not use an attempt.
                    s.attempts = s.attempts.saturating_sub(1);
                }
                if counts && s.attempts >= retry.max_attempts {
                    let msg = format!("{message} (gave up after {} attempts)", s.attempts);
                    fail_run(cx, idx, number, step.name(), msg).await?;
                    return Ok(Driven::Finished);
                }
                s.last_error = Some(message.clone());
                let backoff = retry.delay(s.attempts.max(1), fastrand::f64());
                let wait = retry_after.map_or(backoff, |ra| ra.max(backoff));
                let due = now + chrono::Duration::from_std(wait).unwrap_or_default();
                r.status = RunStatus::Pending;
                r.next_wake_at = due;
                cx.event(
                    number,
                    step.name(),
                    StepStatus::InProgress,
                    Some(format!("retrying in {}", human(wait))),
                    Some(message),
                    None,
                );
                cx.release().await?;
                return Ok(Driven::DueAt(due));
            }
        }
    }
}

async fn fail_run(
    cx: &mut Cx<'_>,
    idx: usize,
    number: u32,
    name: &'static str,
    message: String,
) -> Result<(), EngineError> {
    let now = Utc::now();
    let full = format!("{name} failed: {message}");
    cx.log_step_finished(number, StepStatus::Failed, Some(full.clone()), None);
    let r = cx.run_mut();
    r.status = RunStatus::Failed;
    r.finished_at = Some(now);
    r.steps[idx].last_error = Some(message);
    let kind = r.kind;
    if kind != RunKind::Cancel {
        cx.state.status = ProvisionStatus::Failed;
    }
    cx.event(number, name, StepStatus::Failed, None, Some(full), None);
    cx.release().await
}

async fn finish_run(cx: &mut Cx<'_>) -> Result<(), EngineError> {
    let now = Utc::now();
    let r = cx.run_mut();
    r.status = RunStatus::Succeeded;
    r.finished_at = Some(now);
    let kind = r.kind;
    cx.state.status = match kind {
        RunKind::Provision | RunKind::Upgrade => ProvisionStatus::Active,
        RunKind::Cancel => ProvisionStatus::Cancelled,
    };
    cx.event(
        0,
        "Run finished",
        StepStatus::Completed,
        Some(format!("provision is {}", cx.state.status)),
        None,
        Some(Value::from(cx.state.status.as_str())),
    );
    cx.release().await
}

/// "2m 30s"-style durations for messages.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

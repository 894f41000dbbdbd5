//! The context a step runs in: the provision's state as read under a claim, and the way
//! to commit it (fenced by the version) together with progress events.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{EngineError, EngineInner};
use crate::model::{DomainRecord, ProvisionState, ProvisioningStep, Run, RunKind, StepStatus};
use crate::progress::ProgressEvent;
use crate::store::Claim;

/// A claimed provision being driven.
pub(crate) struct Cx<'a> {
    pub(crate) engine: &'a EngineInner,
    pub(crate) state: ProvisionState,
    version: u64,
    events: Vec<ProgressEvent>,
    /// Domains outside the run's scope (an upgrade works only on the domains it added):
    /// the steps do not see them, and every save puts them back, in their order.
    hidden: Vec<DomainRecord>,
    order: Vec<uuid::Uuid>,
}

impl<'a> Cx<'a> {
    /// Read the provision under `claim`.
    pub(crate) async fn load(engine: &'a EngineInner, claim: Claim) -> Result<Cx<'a>, EngineError> {
        let loaded = engine.store.load(claim.id).await?;
        if loaded.version != claim.version {
            return Err(EngineError::Store(crate::store::StoreError::Conflict {
                id: claim.id,
                expected: claim.version,
            }));
        }
        let mut state = loaded.value;
        let order = state.domains.iter().map(|d| d.id).collect();
        let mut hidden = Vec::new();
        if let Some(run) = state.run.as_ref().filter(|r| r.kind == RunKind::Upgrade) {
            let run_id = run.id;
            let (mine, others) = std::mem::take(&mut state.domains)
                .into_iter()
                .partition(|d| d.added_by == Some(run_id));
            state.domains = mine;
            hidden = others;
        }
        Ok(Cx {
            engine,
            state,
            version: loaded.version,
            events: Vec::new(),
            hidden,
            order,
        })
    }

    /// The live run (the driver only runs steps when there is one).
    pub(crate) fn run_mut(&mut self) -> &mut Run {
        self.state
            .run
            .as_mut()
            .expect("driving a provision without a run")
    }

    /// Whether the current step has polled longer than the configured `lost_answer_grace`
    /// for something whose answer was lost to show up. If so, the wait restarts (the caller
    /// sends it again, and then waits afresh).
    pub(crate) fn lost_answer_grace_over(&mut self) -> bool {
        let Some(grace) = self.engine.config.lost_answer_grace else {
            return false;
        };
        let Some(run) = self.state.run.as_mut() else {
            return false;
        };
        let idx = run.step;
        let Some(step) = run.steps.get_mut(idx) else {
            return false;
        };
        let over = step
            .waiting_since
            .is_some_and(|since| (Utc::now() - since).to_std().unwrap_or_default() > grace);
        if over {
            step.waiting_since = None;
        }
        over
    }

    fn lease_until(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.engine.config.lease).unwrap_or_default()
    }

    /// Save the state and queued events, keeping (renewing) the claim. Sinks hear the
    /// events only once they are stored.
    pub(crate) async fn commit(&mut self) -> Result<(), EngineError> {
        let lease = self.lease_until();
        self.save(Some(lease)).await
    }

    /// Save and give up the claim (the run waits, or ended).
    pub(crate) async fn release(&mut self) -> Result<(), EngineError> {
        self.save(None).await
    }

    async fn save(&mut self, lease: Option<DateTime<Utc>>) -> Result<(), EngineError> {
        self.state.updated_at = Utc::now();
        let events = std::mem::take(&mut self.events);
        let merged;
        let whole = if self.hidden.is_empty() {
            &self.state
        } else {
            let mut s = self.state.clone();
            s.domains.extend(self.hidden.iter().cloned());
            let pos = |id: &uuid::Uuid| self.order.iter().position(|o| o == id);
            s.domains.sort_by_key(|d| pos(&d.id).unwrap_or(usize::MAX));
            merged = s;
            &merged
        };
        self.version = self
            .engine
            .store
            .save(whole, self.version, &events, lease)
            .await?;
        for e in &events {
            self.engine.sinks.emit(e);
        }
        Ok(())
    }

    /// Queue a progress event (sent with the next commit).
    pub(crate) fn event(
        &mut self,
        step: u32,
        name: &str,
        status: StepStatus,
        message: Option<String>,
        error: Option<String>,
        details: Option<Value>,
    ) {
        self.events.push(ProgressEvent {
            provision_id: self.state.id,
            run_id: self.state.run.as_ref().map(|r| r.id),
            at: Utc::now(),
            step,
            name: name.to_string(),
            status,
            provision_status: self.state.status,
            message,
            error,
            details,
        });
    }

    fn log_entry(&mut self, step: u32, name: &str) -> &mut ProvisioningStep {
        let log = &mut self.state.provisioning_log;
        let pos = match log.iter().position(|e| e.step == step) {
            Some(p) => p,
            None => {
                log.push(ProvisioningStep {
                    step,
                    name: name.to_string(),
                    status: StepStatus::Pending,
                    started_at: None,
                    completed_at: None,
                    error: None,
                    details: None,
                });
                log.sort_by_key(|e| e.step);
                log.iter().position(|e| e.step == step).expect("just added")
            }
        };
        &mut log[pos]
    }

    /// Mark the step `in_progress` in the seed's log; true if it was not already.
    pub(crate) fn log_step_started(&mut self, step: u32, name: &str) -> bool {
        let e = self.log_entry(step, name);
        if e.status == StepStatus::InProgress {
            return false;
        }
        e.status = StepStatus::InProgress;
        e.started_at = Some(Utc::now());
        e.completed_at = None;
        e.error = None;
        true
    }

    /// Record a step's end in the seed's log.
    pub(crate) fn log_step_finished(
        &mut self,
        step: u32,
        status: StepStatus,
        error: Option<String>,
        details: Option<Value>,
    ) {
        let name = self
            .state
            .provisioning_log
            .iter()
            .find(|e| e.step == step)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        let e = self.log_entry(step, &name);
        e.status = status;
        e.completed_at = Some(Utc::now());
        e.error = error;
        if details.is_some() {
            e.details = details;
        }
    }

    /// Update a step's details in the seed's log (e.g. "2/3 domains active").
    pub(crate) fn log_step_details(&mut self, step: u32, details: Option<Value>) {
        if details.is_some()
            && let Some(e) = self
                .state
                .provisioning_log
                .iter_mut()
                .find(|e| e.step == step)
        {
            e.details = details;
        }
    }
}

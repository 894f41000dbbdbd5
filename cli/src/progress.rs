//! Live progress of runs, on stderr: indicatif spinners per step and per domain on a
//! terminal, plain lines otherwise, JSON lines on stdout for `worker --json`.
//!
//! The engine calls sinks inline and they must not block, so the sink only sends the
//! event into a channel; a task draws it and, after each event, reads the provision from
//! the store to show every domain's status and mailboxes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use provisioning::{
    DomainRecord, FnSink, ProgressEvent, ProgressSink, ProvisionId, StepStatus, Store,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Spinners on a terminal.
    Bars,
    /// Plain lines on stderr.
    Lines,
    /// One JSON event per line on stdout.
    JsonLines,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// The mode for a command printing one result: bars on a terminal; with `--json`,
    /// nothing when stderr is not a terminal (stdout carries only the result).
    pub fn for_result(json: bool) -> Self {
        match (crate::output::stderr_is_terminal(), json) {
            (true, _) => Mode::Bars,
            (false, false) => Mode::Lines,
            (false, true) => Mode::Quiet,
        }
    }
}

enum Msg {
    Event(Box<ProgressEvent>),
    Store(Arc<dyn Store>),
    Done,
}

/// A running progress display.
pub struct Progress {
    tx: mpsc::UnboundedSender<Msg>,
    task: JoinHandle<()>,
}

impl Progress {
    /// Start drawing; returns the display and the sink to give the engine. `with_ids`
    /// prefixes lines with the provision's short id (several provisions at once).
    pub fn start(mode: Mode, with_ids: bool) -> (Self, Arc<dyn ProgressSink>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let sink_tx = tx.clone();
        let sink: Arc<dyn ProgressSink> = Arc::new(FnSink(move |e: &ProgressEvent| {
            let _ = sink_tx.send(Msg::Event(Box::new(e.clone())));
        }));
        let task = tokio::spawn(draw(mode, with_ids, rx));
        (Progress { tx, task }, sink)
    }

    /// Let the display read provisions from `store` (per-domain lines).
    pub fn attach(&self, store: Arc<dyn Store>) {
        let _ = self.tx.send(Msg::Store(store));
    }

    /// Draw what is left and stop.
    pub async fn finish(self) {
        let _ = self.tx.send(Msg::Done);
        let _ = self.task.await;
    }
}

fn short(id: ProvisionId) -> String {
    id.to_string().chars().take(8).collect()
}

fn note(e: &ProgressEvent) -> String {
    e.error
        .as_deref()
        .or(e.message.as_deref())
        .unwrap_or_default()
        .to_string()
}

fn domain_line(d: &DomainRecord) -> String {
    let created = d
        .mailboxes
        .iter()
        .filter(|m| m.zapmail_mailbox_id.is_some())
        .count();
    let exported = d
        .mailboxes
        .iter()
        .filter(|m| m.plusvibe_account_id.is_some())
        .count();
    let total = d.mailboxes.len();
    format!(
        "{:<11} {created}/{total} mailboxes, {exported}/{total} in PlusVibe",
        d.status.as_str()
    )
}

struct Bars {
    mp: MultiProgress,
    steps: HashMap<(ProvisionId, u32), ProgressBar>,
    domains: HashMap<(ProvisionId, String), ProgressBar>,
    first_domain: Option<ProgressBar>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Bars {
    fn new() -> Self {
        Bars {
            mp: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            steps: HashMap::new(),
            domains: HashMap::new(),
            first_domain: None,
        }
    }

    fn add(&mut self, bar: ProgressBar, is_domain: bool) -> ProgressBar {
        match (&self.first_domain, is_domain) {
            (Some(first), false) => self.mp.insert_before(first, bar),
            _ => self.mp.add(bar),
        }
    }

    fn event(&mut self, e: &ProgressEvent, with_ids: bool) {
        let id = if with_ids {
            format!("{} ", short(e.provision_id))
        } else {
            String::new()
        };
        if e.step == 0 {
            let _ = self.mp.println(format!("  {id}{}", note(e)));
            return;
        }
        let key = (e.provision_id, e.step);
        let bar = match self.steps.get(&key) {
            Some(b) => b.clone(),
            None => {
                let b = ProgressBar::new_spinner()
                    .with_style(style("{spinner:.cyan} {prefix} {wide_msg}"))
                    .with_prefix(format!("{id}{:>2}. {:<32}", e.step, e.name));
                let b = self.add(b, false);
                self.steps.insert(key, b.clone());
                b
            }
        };
        match e.status {
            StepStatus::Completed => {
                bar.set_style(style("{prefix:.green} {wide_msg}"));
                bar.set_prefix(format!("✓ {id}{:>2}. {:<32}", e.step, e.name));
                bar.finish_with_message(note(e));
            }
            StepStatus::Failed => {
                bar.set_style(style("{prefix:.red} {wide_msg}"));
                bar.set_prefix(format!("✗ {id}{:>2}. {:<32}", e.step, e.name));
                bar.finish_with_message(note(e));
            }
            StepStatus::InProgress | StepStatus::Pending => {
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(note(e));
            }
        }
    }

    fn domains(&mut self, id: ProvisionId, domains: &[DomainRecord], with_ids: bool) {
        let prefix = if with_ids {
            format!("{} ", short(id))
        } else {
            String::new()
        };
        for d in domains {
            let key = (id, d.name.clone());
            let bar = match self.domains.get(&key) {
                Some(b) => b.clone(),
                None => {
                    let b = ProgressBar::new_spinner()
                        .with_style(style("    {prefix} {wide_msg}"))
                        .with_prefix(format!("{prefix}{:<28}", d.name));
                    let b = self.add(b, true);
                    if self.first_domain.is_none() {
                        self.first_domain = Some(b.clone());
                    }
                    self.domains.insert(key, b.clone());
                    b
                }
            };
            bar.set_message(domain_line(d));
        }
    }

    fn finish(&self) {
        for b in self.steps.values().chain(self.domains.values()) {
            if !b.is_finished() {
                b.abandon();
            }
        }
    }
}

#[derive(Default)]
struct Lines {
    /// The last line printed per step and per domain (a poll repeating it is not shown).
    steps: HashMap<(ProvisionId, u32), String>,
    domains: HashMap<(ProvisionId, String), String>,
}

impl Lines {
    fn event(&mut self, e: &ProgressEvent, with_ids: bool) {
        let id = if with_ids {
            format!("{} ", short(e.provision_id))
        } else {
            String::new()
        };
        let mark = match e.status {
            StepStatus::Completed => "done",
            StepStatus::Failed => "FAILED",
            StepStatus::InProgress => "....",
            StepStatus::Pending => "    ",
        };
        if e.step == 0 {
            eprintln!("{id}{}", note(e));
            return;
        }
        let line = format!("{id}[{mark:<6}] {:>2}. {:<32} {}", e.step, e.name, note(e));
        let line = line.trim_end().to_string();
        if self.steps.get(&(e.provision_id, e.step)) != Some(&line) {
            eprintln!("{line}");
            self.steps.insert((e.provision_id, e.step), line);
        }
    }

    fn domains(&mut self, id: ProvisionId, domains: &[DomainRecord], with_ids: bool) {
        let prefix = if with_ids {
            format!("{} ", short(id))
        } else {
            String::new()
        };
        for d in domains {
            let line = domain_line(d);
            let key = (id, d.name.clone());
            if self.domains.get(&key) != Some(&line) {
                eprintln!("{prefix}           {:<32} {line}", d.name);
                self.domains.insert(key, line);
            }
        }
    }
}

async fn draw(mode: Mode, with_ids: bool, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut store: Option<Arc<dyn Store>> = None;
    let mut bars = (mode == Mode::Bars).then(Bars::new);
    let mut lines = Lines::default();
    while let Some(msg) = rx.recv().await {
        let e = match msg {
            Msg::Done => break,
            Msg::Store(s) => {
                store = Some(s);
                continue;
            }
            Msg::Event(e) => e,
        };
        match mode {
            Mode::Quiet => continue,
            Mode::JsonLines => {
                crate::output::json_line(&e);
                continue;
            }
            Mode::Bars => {
                if let Some(b) = bars.as_mut() {
                    b.event(&e, with_ids);
                }
            }
            Mode::Lines => lines.event(&e, with_ids),
        }
        // Per-domain state, read back from the store (best effort: a read error only
        // means the domain lines are not refreshed this time).
        let loaded = match &store {
            Some(s) => s.load(e.provision_id).await.ok(),
            None => None,
        };
        if let Some(loaded) = loaded {
            let domains = &loaded.value.domains;
            match bars.as_mut() {
                Some(b) => b.domains(e.provision_id, domains, with_ids),
                None => lines.domains(e.provision_id, domains, with_ids),
            }
        }
    }
    if let Some(b) = &bars {
        b.finish();
    }
}

//! The three vendor simulators started together and linked (Zapmail exports land in the
//! PlusVibe simulator), with clients and an engine configuration pointed at them
//! (feature `mock`). Examples, tests, benchmarks, the CLI and the Python package use this.

use std::time::Duration;

use heyreach::mock::{HeyReachSim, HeyReachSimConfig};
use plusvibe::mock::{PlusVibeSim, PlusVibeSimConfig};
use zapmail::mock::{ZapmailSim, ZapmailSimConfig};
use zapmail::workspaces::BillingDetails;

use crate::engine::{Clients, Engine, EngineBuilder, EngineConfig};

/// Settings of the three simulators.
#[derive(Debug, Clone, Default)]
pub struct SimulatorsConfig {
    /// Zapmail.
    pub zapmail: ZapmailSimConfig,
    /// PlusVibe.
    pub plusvibe: PlusVibeSimConfig,
    /// HeyReach.
    pub heyreach: HeyReachSimConfig,
}

impl SimulatorsConfig {
    /// Every simulator with `latency` on each answer (a more realistic demo pace).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.zapmail.latency = latency;
        self.plusvibe.latency = latency;
        self.heyreach.latency = latency;
        self
    }
}

/// The three simulators, running and linked.
#[derive(Debug)]
pub struct Simulators {
    /// Zapmail.
    pub zapmail: ZapmailSim,
    /// PlusVibe.
    pub plusvibe: PlusVibeSim,
    /// HeyReach.
    pub heyreach: HeyReachSim,
}

impl Simulators {
    /// Start all three with their defaults (short state transitions, the vendors'
    /// documented rate limits).
    pub async fn start() -> Self {
        Self::start_with(SimulatorsConfig::default()).await
    }

    /// Start all three with `config`, and link Zapmail's PIPL export to PlusVibe.
    pub async fn start_with(config: SimulatorsConfig) -> Self {
        let (zapmail, plusvibe, heyreach) = tokio::join!(
            ZapmailSim::start_with(config.zapmail),
            PlusVibeSim::start_with(config.plusvibe),
            HeyReachSim::start_with(config.heyreach),
        );
        zapmail.link_exporter("PIPL", plusvibe.importer());
        Simulators {
            zapmail,
            plusvibe,
            heyreach,
        }
    }

    /// Clients pointed at the simulators, with their test keys, the vendors' documented
    /// rate limits and short retry delays.
    pub fn clients(&self) -> Clients {
        Clients {
            zapmail: self.zapmail.client(),
            plusvibe: self.plusvibe.client(),
            heyreach: self.heyreach.client(),
        }
    }

    /// An engine builder with [`clients`](Self::clients) and
    /// [`engine_config`](Self::engine_config) set: add a store, a secret key and sinks.
    pub fn engine_builder(&self) -> EngineBuilder {
        let c = self.clients();
        Engine::builder()
            .clients(c.zapmail, c.plusvibe, c.heyreach)
            .config(self.engine_config())
    }

    /// An engine configuration for the simulators: short polls and backoffs, sample
    /// billing details, and the simulated partner provider id.
    pub fn engine_config(&self) -> EngineConfig {
        simulator_engine_config()
    }
}

/// The engine configuration of [`Simulators::engine_config`], for a process that talks to
/// simulators started elsewhere (e.g. by `gtm-infra simulate`).
pub fn simulator_engine_config() -> EngineConfig {
    EngineConfig {
        zapmail_billing: Some(sample_billing()),
        partner_provider_id: Some(plusvibe::mock::TEST_PROVIDER_ID.to_string()),
        operator_email: Some("ops@agency.example".into()),
        ..EngineConfig::fast()
    }
}

/// Billing details used against the simulators (and in examples).
pub fn sample_billing() -> BillingDetails {
    BillingDetails {
        first_name: "Agency".into(),
        last_name: "Operator".into(),
        company: Some("Example Agency".into()),
        address_line_one: "1 Example Street".into(),
        address_line_two: None,
        address_line_three: None,
        city: "Springfield".into(),
        state: Some("IL".into()),
        country: "US".into(),
        postal_code: Some("62701".into()),
        phone_cc: None,
        ..Default::default()
    }
}

/// Vendor objects that exist more than once in the simulators (what "nothing created or
/// paid twice" forbids), from their state: see [`Simulators::duplicates`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// One line per duplicated object, e.g. `"zapmail purchase of acme.com: 2"`.
    pub found: Vec<String>,
}

impl Duplicates {
    /// Extra copies in total (an object bought or created `k` times counts `k - 1`).
    pub fn total(&self) -> usize {
        self.found
            .iter()
            .filter_map(|l| l.rsplit(": ").next()?.parse::<usize>().ok())
            .map(|k| k.saturating_sub(1))
            .sum()
    }
}

fn repeated(what: &str, keys: impl IntoIterator<Item = String>, out: &mut Vec<String>) {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    out.extend(
        counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, n)| format!("{what} {k}: {n}")),
    );
}

impl Simulators {
    /// Every vendor object that exists twice: a domain bought more than once, two
    /// mailboxes with one address, two Zapmail or PlusVibe workspaces with one name, two
    /// PlusVibe client logins with one email, one address twice in a PlusVibe workspace,
    /// two HeyReach lists with one name. Every name the engine gives is unique per
    /// provision, so any repeat is a duplicate the engine caused.
    pub fn duplicates(&self) -> Duplicates {
        let mut found = Vec::new();
        let z = &self.zapmail;
        let mut names: Vec<String> = z.domains().into_iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        for n in names {
            let bought = z.domains_bought(&n);
            if bought > 1 {
                found.push(format!("zapmail purchase of {n}: {bought}"));
            }
        }
        repeated(
            "zapmail mailbox",
            z.mailboxes().into_iter().map(|m| m.email.to_lowercase()),
            &mut found,
        );
        repeated(
            "zapmail workspace",
            z.workspaces().into_iter().map(|w| w.name),
            &mut found,
        );
        let pv = self.plusvibe.state();
        repeated(
            "plusvibe workspace",
            pv.workspaces_created().into_iter().map(|w| w.name),
            &mut found,
        );
        repeated(
            "plusvibe client login",
            pv.clients().into_iter().map(|c| c.email.to_lowercase()),
            &mut found,
        );
        repeated(
            "plusvibe account",
            pv.all_accounts()
                .into_iter()
                .map(|a| format!("{} in {}", a.email.to_lowercase(), a.workspace_id)),
            &mut found,
        );
        repeated(
            "heyreach list",
            self.heyreach.state().lists().into_iter().map(|l| l.name),
            &mut found,
        );
        Duplicates { found }
    }
}

//! The three vendor simulators started together and linked (Zapmail exports land in the
//! PlusVibe simulator), with clients and an engine configuration pointed at them
//! (feature `mock`). Examples, tests, benchmarks, the CLI and the Python package use this.

use std::time::Duration;

use heyreach::mock::{HeyReachSim, HeyReachSimConfig};
use plusvibe::mock::{PlusVibeSim, PlusVibeSimConfig};
use zapmail::mock::{ZapmailSim, ZapmailSimConfig};
use zapmail::workspaces::BillingDetails;

use crate::engine::{Clients, EngineConfig};

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

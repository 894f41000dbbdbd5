//! The native half of the `gtm_infra` Python package (`gtm_infra._native`): the
//! provisioning engine, wizard helpers, vendor clients and simulators of the Rust SDK,
//! exposed to Python with a sync and an asyncio flavour of every I/O call.
//!
//! This module is private: the public, typed API is the Python package around it, which
//! turns the JSON documents returned here into dataclasses and the failures into the
//! exception classes of `gtm_infra.errors`.

mod clients;
mod config;
mod engine;
mod errors;
mod runtime;
mod sims;

use pyo3::prelude::*;

/// The private native module.
#[pymodule(gil_used = false)]
mod _native {
    use std::sync::Arc;

    use provisioning::wizard;
    use pyo3::prelude::*;
    use secrecy::ExposeSecret;

    #[pymodule_export]
    use crate::clients::{HeyReachClient, PlusVibeClient, ZapmailClient};
    #[pymodule_export]
    use crate::engine::{Engine, EventStream, StopSignal};
    #[pymodule_export]
    use crate::sims::Simulators;

    use crate::errors::Failure;
    use crate::runtime::wait;

    fn err(py: Python<'_>) -> impl FnOnce(Failure) -> PyErr + '_ {
        move |f| f.into_pyerr(py)
    }

    /// The package version.
    #[pyfunction]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The ten steps of a provisioning run, in order.
    #[pyfunction]
    fn step_names() -> Vec<&'static str> {
        provisioning::STEP_NAMES.to_vec()
    }

    /// The seed's domain suggestions for `brand`, filtered to the TLDs Zapmail sells.
    #[pyfunction]
    fn suggest_domains(py: Python<'_>, brand: &str) -> PyResult<Vec<String>> {
        wizard::suggest_domains(brand, &zapmail::SupportedTlds::default())
            .map_err(|e| Failure::from(e).into_pyerr(py))
    }

    /// The two mailbox patterns, checked and normalised.
    #[pyfunction]
    fn validate_patterns(py: Python<'_>, first: &str, second: &str) -> PyResult<(String, String)> {
        wizard::validate_patterns([first, second])
            .map(|[a, b]| (a, b))
            .map_err(|e| Failure::from(e).into_pyerr(py))
    }

    /// Every mailbox a provision will create, as `(domain, username, email)`.
    #[pyfunction]
    fn preview(domains: Vec<String>, patterns: Vec<String>) -> Vec<(String, String, String)> {
        wizard::preview(&domains, &patterns)
            .into_iter()
            .map(|r| (r.domain, r.username, r.email))
            .collect()
    }

    /// The sender's `(first, last)` name, as the engine derives it.
    #[pyfunction]
    fn sender_names(py: Python<'_>, customer_name: &str) -> PyResult<(String, String)> {
        wizard::sender_names(customer_name).map_err(|e| Failure::from(e).into_pyerr(py))
    }

    /// A fresh random key for stored secrets (64 hex characters). Keep it: it opens the
    /// PlusVibe passwords the engine stores.
    #[pyfunction]
    fn generate_secret_key() -> String {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&fastrand_u64().to_le_bytes());
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn fastrand_u64() -> u64 {
        // `uuid` v4 draws from the OS's secure generator.
        let (hi, lo) = uuid::Uuid::new_v4().as_u64_pair();
        hi ^ lo.rotate_left(17)
    }

    /// Billing details for the simulators (Zapmail's field names, JSON).
    #[pyfunction]
    fn sample_billing() -> String {
        serde_json::to_string(&provisioning::sim::sample_billing()).unwrap_or_default()
    }

    /// Test oracle: provision `request` (JSON) with the Rust API alone — the same calls the
    /// Rust README shows — against `sims`, into the SQLite file `store`; returns the final
    /// snapshot as JSON.
    #[pyfunction]
    fn _reference_provision(
        py: Python<'_>,
        sims: &Simulators,
        store: String,
        request: String,
    ) -> PyResult<String> {
        let sims = sims.shared().map_err(err(py))?;
        let req = crate::engine::provision_request(&request).map_err(err(py))?;
        wait(
            py,
            async move {
                let c = sims.clients();
                let store = provisioning::store::SqliteStore::open(&store).await?;
                let engine = provisioning::Engine::builder()
                    .clients(c.zapmail, c.plusvibe, c.heyreach)
                    .store(Arc::new(store))
                    .secret_key(provisioning::SecretKey::generate())
                    .config(sims.engine_config())
                    .build()
                    .await?;
                let id = engine.create_provision(req).await?;
                engine
                    .mark_paid(id, provisioning::Payment::default())
                    .await?;
                let snap = engine.run(id).await?;
                serde_json::to_string(&snap).map_err(|e| Failure::new("GtmError", e.to_string()))
            },
            None,
        )
    }

    /// Whether a secret key parses (never echoes it).
    #[pyfunction]
    fn _check_secret_key(key: String) -> bool {
        let s = secrecy::SecretString::from(key);
        let _ = s.expose_secret();
        provisioning::SecretKey::parse(&s).is_ok()
    }
}

//! `_native.Simulators`: the three vendor simulators, started together and linked, with
//! their base URLs, test keys, request journals, fault injection and a few state hooks.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provisioning::sim::{Simulators as RsSims, SimulatorsConfig};
use pyo3::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use vendor_http::sim::Journal;
use vendor_http::sim::{AfterApply, Fault, Faults};

use crate::config::{RateSpec, decode};
use crate::errors::{Failure, Outcome};
use crate::runtime::{awaitable, runtime, wait};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimSpec {
    #[serde(default)]
    latency: Option<f64>,
    #[serde(default)]
    rate_limits: Option<RateSpec>,
    #[serde(default)]
    wallet_balance: Option<String>,
    #[serde(default)]
    taken_domains: Vec<String>,
}

fn scaled(
    spec: &Option<RateSpec>,
    defaults: vendor_http::RateLimits,
) -> Outcome<Option<vendor_http::RateLimits>> {
    Ok(match spec {
        None => None,
        Some(RateSpec::Named(n)) if n == "default" => None,
        Some(RateSpec::Named(n)) if n == "unlimited" => Some(vendor_http::RateLimits::unlimited()),
        Some(RateSpec::Factor(f)) if f.is_finite() && *f > 0.0 => Some(defaults.scaled(*f)),
        Some(other) => {
            return Err(Failure::config(format!(
                "rate_limits must be \"default\", \"unlimited\" or a positive factor, got {other:?}"
            )));
        }
    })
}

async fn start(spec: SimSpec) -> Outcome<Simulators> {
    let mut config = SimulatorsConfig::default();
    if let Some(l) = spec.latency {
        let d = Duration::try_from_secs_f64(l)
            .map_err(|_| Failure::config("latency must be a non-negative number of seconds"))?;
        config = config.with_latency(d);
    }
    config.zapmail.limits = scaled(&spec.rate_limits, zapmail::default_limits())?;
    config.plusvibe.limits = scaled(&spec.rate_limits, plusvibe::default_limits())?;
    config.heyreach.limits = scaled(&spec.rate_limits, heyreach::default_limits())?;
    if let Some(b) = &spec.wallet_balance {
        config.zapmail.wallet_balance = parse_usd(b)?;
    }
    config.zapmail.taken_domains.extend(
        spec.taken_domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase()),
    );
    Ok(Simulators {
        sims: Mutex::new(Some(Arc::new(RsSims::start_with(config).await))),
    })
}

fn parse_usd(text: &str) -> Outcome<zapmail::Decimal> {
    zapmail::Decimal::from_str(text.trim()).map_err(|_| {
        Failure::validation(format!("{text:?} is not an amount in USD (e.g. \"12.50\")"))
    })
}

fn fault_of(spec: &Value) -> Outcome<Fault> {
    let bad = || Failure::validation(format!("unknown fault {spec}"));
    let num = |v: &Value| v.as_u64().ok_or_else(bad);
    Ok(match spec {
        Value::String(s) => match s.as_str() {
            "timeout" => Fault::Timeout,
            "drop" => Fault::Drop,
            "malformed" => Fault::Malformed,
            _ => return Err(bad()),
        },
        Value::Object(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().ok_or_else(bad)?;
            match k.as_str() {
                "status" => Fault::Status(u16::try_from(num(v)?).map_err(|_| bad())?),
                "rate_limited" => Fault::RateLimited {
                    retry_after_secs: num(v)?,
                },
                "error_in_200" => Fault::ErrorIn200(u16::try_from(num(v)?).map_err(|_| bad())?),
                "apply_then" => Fault::ApplyThen(match v {
                    Value::String(s) if s == "timeout" => AfterApply::Timeout,
                    Value::String(s) if s == "drop" => AfterApply::Drop,
                    Value::Number(_) => {
                        AfterApply::Status(u16::try_from(num(v)?).map_err(|_| bad())?)
                    }
                    _ => return Err(bad()),
                }),
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    })
}

/// Warmup figures for `set_warmup_health`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthSpec {
    overall_7d: Option<f64>,
    google_7d: Option<f64>,
    microsoft_7d: Option<f64>,
    other_7d: Option<f64>,
    reply_rate_7d: Option<f64>,
    email_sent_today: Option<u64>,
    warmup_email_sent_today: Option<u64>,
}

fn journal_json(j: &Journal) -> String {
    Value::Array(
        j.entries()
            .into_iter()
            .map(|e| {
                let mut body = e.body.clone();
                vendor_http::redact::redact_value(&mut body);
                json!({
                    "seq": e.seq,
                    "method": e.method,
                    "path": e.path,
                    "route": e.route,
                    "query": e.query,
                    "body": body,
                    "status": e.status,
                    "applied": e.applied,
                    "rate_limited": e.rate_limited,
                    "fault": e.fault,
                })
            })
            .collect(),
    )
    .to_string()
}

/// The three simulators (see `gtm_infra.Simulators`).
#[pyclass(frozen, module = "gtm_infra._native")]
pub struct Simulators {
    sims: Mutex<Option<Arc<RsSims>>>,
}

impl Simulators {
    fn get(&self) -> Outcome<Arc<RsSims>> {
        crate::runtime::check_fork()?;
        self.sims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| Failure::new("InvalidStateError", "the simulators were stopped"))
    }

    fn take(&self) -> Option<Arc<RsSims>> {
        self.sims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&RsSims) -> Outcome<R>) -> PyResult<R> {
        self.get().and_then(|s| f(&s)).map_err(|e| e.into_pyerr(py))
    }
}

impl Drop for Simulators {
    fn drop(&mut self) {
        // The servers belong to the runtime: shut them down there (never in a forked child).
        if let Some(s) = self.take() {
            match runtime() {
                Ok(rt) => {
                    rt.spawn(async move { drop(s) });
                }
                Err(_) => std::mem::forget(s),
            }
        }
    }
}

fn vendor_of<'a>(s: &'a RsSims, vendor: &str) -> Outcome<(&'a Journal, &'a Faults)> {
    match vendor {
        "zapmail" => Ok((s.zapmail.journal(), s.zapmail.faults())),
        "plusvibe" => Ok((s.plusvibe.journal(), s.plusvibe.faults())),
        "heyreach" => Ok((s.heyreach.journal(), s.heyreach.faults())),
        other => Err(Failure::validation(format!(
            "unknown vendor {other:?}: expected \"zapmail\", \"plusvibe\" or \"heyreach\""
        ))),
    }
}

#[pymethods]
impl Simulators {
    /// Start the three simulators (JSON settings).
    #[staticmethod]
    fn start(py: Python<'_>, spec: String) -> PyResult<Simulators> {
        let spec: SimSpec = decode("simulator settings", &spec).map_err(|f| f.into_pyerr(py))?;
        wait(py, start(spec), None)
    }

    /// `start`, as an awaitable.
    #[staticmethod]
    fn start_async(py: Python<'_>, spec: String) -> PyResult<Bound<'_, PyAny>> {
        let spec: SimSpec = decode("simulator settings", &spec).map_err(|f| f.into_pyerr(py))?;
        awaitable(py, start(spec))
    }

    /// Stop them (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.take();
        wait(
            py,
            async move {
                drop(s);
                Ok(())
            },
            None,
        )
    }

    /// `stop`, as an awaitable.
    fn stop_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.take();
        awaitable(py, async move {
            drop(s);
            Ok(())
        })
    }

    /// Whether they are running.
    #[getter]
    fn running(&self) -> bool {
        self.sims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// Base URLs, test keys and ids (JSON).
    fn info(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| {
            Ok(json!({
                "zapmail": { "base_url": s.zapmail.base_url(), "api_key": s.zapmail.api_key() },
                "plusvibe": {
                    "base_url": s.plusvibe.base_url(),
                    "api_key": s.plusvibe.api_key(),
                    "partner_base_url": s.plusvibe.partner_base_url(),
                    "agency_workspace_id": s.plusvibe.agency_workspace_id().to_string(),
                    "provider_id": plusvibe::mock::TEST_PROVIDER_ID,
                },
                "heyreach": { "base_url": s.heyreach.base_url(), "api_key": s.heyreach.api_key() },
            })
            .to_string())
        })
    }

    /// Every request `vendor`'s simulator received (JSON, secrets redacted).
    fn journal(&self, py: Python<'_>, vendor: &str) -> PyResult<String> {
        self.with(py, |s| Ok(journal_json(vendor_of(s, vendor)?.0)))
    }

    /// The next `times` calls to `route` (e.g. "POST /v2/domains/buy", or "*") fail with
    /// `fault` (JSON).
    fn inject_fault(
        &self,
        py: Python<'_>,
        vendor: &str,
        route: &str,
        fault: &str,
        times: usize,
    ) -> PyResult<()> {
        self.with(py, |s| {
            let f = fault_of(
                &serde_json::from_str(fault).map_err(|e| Failure::validation(e.to_string()))?,
            )?;
            vendor_of(s, vendor)?.1.inject(route, f, times);
            Ok(())
        })
    }

    /// Remove every scripted fault of `vendor`.
    fn clear_faults(&self, py: Python<'_>, vendor: &str) -> PyResult<()> {
        self.with(py, |s| {
            vendor_of(s, vendor)?.1.clear();
            Ok(())
        })
    }

    /// Zapmail wallet balance (USD, as text).
    fn wallet_balance(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| Ok(s.zapmail.wallet_balance().to_string()))
    }

    /// Set the Zapmail wallet balance (USD, as text).
    fn set_wallet_balance(&self, py: Python<'_>, usd: &str) -> PyResult<()> {
        self.with(py, |s| {
            s.zapmail.set_wallet_balance(parse_usd(usd)?);
            Ok(())
        })
    }

    /// Mark names as registered elsewhere.
    fn mark_taken(&self, py: Python<'_>, names: Vec<String>) -> PyResult<()> {
        self.with(py, |s| {
            s.zapmail.mark_taken(&names);
            Ok(())
        })
    }

    /// Finish every pending Zapmail transition now.
    fn complete_transitions(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| {
            s.zapmail.complete_transitions();
            Ok(())
        })
    }

    /// Set the PlusVibe warmup figures of the account `email` (JSON object of
    /// `SimHealth` fields; a missing or null figure is "no data"). `False` if unknown.
    fn set_warmup_health(&self, py: Python<'_>, email: &str, health: &str) -> PyResult<bool> {
        self.with(py, |s| {
            let h: HealthSpec = decode("warmup health", health)?;
            Ok(s.plusvibe.state().set_health(
                email,
                plusvibe::mock::SimHealth {
                    overall_7d: h.overall_7d,
                    google_7d: h.google_7d,
                    microsoft_7d: h.microsoft_7d,
                    other_7d: h.other_7d,
                    reply_rate_7d: h.reply_rate_7d,
                    email_sent_today: h.email_sent_today,
                    warmup_email_sent_today: h.warmup_email_sent_today,
                    ..Default::default()
                },
            ))
        })
    }

    /// Times `domain` was bought (paid and created).
    fn domains_bought(&self, py: Python<'_>, domain: &str) -> PyResult<usize> {
        self.with(py, |s| Ok(s.zapmail.domains_bought(domain)))
    }

    /// Purchase calls that named `domain`.
    fn purchase_calls_for(&self, py: Python<'_>, domain: &str) -> PyResult<usize> {
        self.with(py, |s| Ok(s.zapmail.purchase_calls_for(domain)))
    }

    /// Mailboxes created on `domain`.
    fn mailboxes_created_for(&self, py: Python<'_>, domain: &str) -> PyResult<usize> {
        self.with(py, |s| Ok(s.zapmail.mailboxes_created_for(domain)))
    }

    /// Zapmail workspaces created through the API.
    fn workspaces_created(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| Ok(s.zapmail.workspaces_created()))
    }

    fn __repr__(&self) -> String {
        match self.get() {
            Ok(s) => format!(
                "Simulators(zapmail={:?}, plusvibe={:?}, heyreach={:?})",
                s.zapmail.base_url(),
                s.plusvibe.base_url(),
                s.heyreach.base_url()
            ),
            Err(_) => "Simulators(stopped)".into(),
        }
    }
}

impl Simulators {
    /// The running simulators, shared (for the test oracle).
    pub fn shared(&self) -> Outcome<Arc<RsSims>> {
        self.get()
    }
}

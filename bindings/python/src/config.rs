//! What Python passes to build vendor clients and engines: one JSON document per call,
//! decoded here into typed settings (secrets as `SecretString` from the start).

use std::sync::Arc;
use std::time::Duration;

use provisioning::store::{PgRateLimiter, PostgresStore};
use secrecy::SecretString;
use serde::Deserialize;
use vendor_http::{RateLimits, RetryConfig};

use crate::errors::{Failure, Outcome};

/// Rate limits: the vendor's documented ones, none, or the documented ones times a factor.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RateSpec {
    /// Multiply every documented count by this factor (a plan with higher limits).
    Factor(f64),
    /// `"default"` or `"unlimited"`.
    Named(String),
}

/// One vendor client's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSpec {
    /// The API key.
    pub api_key: SecretString,
    /// Base URL (default: the vendor's production URL).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Per-attempt timeout, seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Attempts per request, first included (1 = no retries).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Longest `Retry-After` honoured, seconds; a longer one raises `RateLimitError`.
    #[serde(default)]
    pub max_retry_after: Option<f64>,
    /// Short retry delays (for simulators and tests).
    #[serde(default)]
    pub fast_retries: bool,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: Option<RateSpec>,
}

fn seconds(what: &str, s: f64) -> Outcome<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        Failure::config(format!(
            "{what} must be a non-negative number of seconds, got {s}"
        ))
    })
}

fn limits(spec: &Option<RateSpec>, defaults: RateLimits) -> Outcome<Option<RateLimits>> {
    Ok(match spec {
        None => None,
        Some(RateSpec::Named(n)) if n == "default" => None,
        Some(RateSpec::Named(n)) if n == "unlimited" => Some(RateLimits::unlimited()),
        Some(RateSpec::Named(n)) => {
            return Err(Failure::config(format!(
                "rate_limits must be \"default\", \"unlimited\" or a positive factor, got {n:?}"
            )));
        }
        Some(RateSpec::Factor(f)) if f.is_finite() && *f > 0.0 => Some(defaults.scaled(*f)),
        Some(RateSpec::Factor(f)) => {
            return Err(Failure::config(format!(
                "rate_limits factor must be positive, got {f}"
            )));
        }
    })
}

impl VendorSpec {
    /// A configured builder of vendor `V`.
    pub fn builder<V: vendor_http::client::Vendor>(
        &self,
        builder: vendor_http::client::ClientBuilder<V>,
    ) -> Outcome<vendor_http::client::ClientBuilder<V>> {
        let mut b = builder.api_key(self.api_key.clone());
        if let Some(url) = &self.base_url {
            b = b.base_url(url.clone());
        }
        if let Some(t) = self.timeout {
            b = b.timeout(seconds("timeout", t)?);
        }
        let mut retry = if self.fast_retries {
            RetryConfig::fast()
        } else {
            RetryConfig::default()
        };
        if let Some(n) = self.max_attempts {
            if n == 0 {
                return Err(Failure::config("max_attempts must be at least 1"));
            }
            retry.max_attempts = n;
        }
        if let Some(s) = self.max_retry_after {
            retry.max_retry_after = seconds("max_retry_after", s)?;
        }
        b = b.retry(retry);
        if let Some(l) = limits(&self.rate_limits, V::default_limits())? {
            b = b.rate_limits(l);
        }
        Ok(b)
    }

    /// A builder of vendor `V` whose rate budget lives in PostgreSQL ([`PgRateLimiter`]):
    /// every process on the same key and database shares the vendor's limits, and a 429
    /// seen by one pauses all. `pg` must be migrated.
    pub async fn shared_builder<V: vendor_http::client::Vendor>(
        &self,
        builder: vendor_http::client::ClientBuilder<V>,
        pg: &PostgresStore,
    ) -> Outcome<vendor_http::client::ClientBuilder<V>> {
        let l = limits(&self.rate_limits, V::default_limits())?.unwrap_or_else(V::default_limits);
        let limiter = PgRateLimiter::new(pg, V::NAME, &self.api_key, l).await?;
        Ok(self.builder(builder)?.rate_limiter(Arc::new(limiter)))
    }

    /// A Zapmail client.
    pub fn zapmail(&self) -> Outcome<zapmail::Client> {
        Ok(self.builder(zapmail::Client::builder())?.build()?)
    }
    /// A PlusVibe client.
    pub fn plusvibe(&self) -> Outcome<plusvibe::Client> {
        Ok(self.builder(plusvibe::Client::builder())?.build()?)
    }
    /// A HeyReach client.
    pub fn heyreach(&self) -> Outcome<heyreach::Client> {
        Ok(self.builder(heyreach::Client::builder())?.build()?)
    }
}

/// Engine settings (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsSpec {
    /// Short schedules (simulators, tests, demos).
    #[serde(default)]
    pub fast: bool,
    /// Worker name in leases.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// Provisions a worker drives at once.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Claim lease, seconds.
    #[serde(default)]
    pub lease: Option<f64>,
    /// Idle worker poll, seconds.
    #[serde(default)]
    pub idle_poll: Option<f64>,
    /// The agency's PlusVibe workspace.
    #[serde(default)]
    pub plusvibe_agency_workspace_id: Option<String>,
    /// Operator email (PlusVibe partner upload).
    #[serde(default)]
    pub operator_email: Option<String>,
    /// PlusVibe partner provider id.
    #[serde(default)]
    pub partner_provider_id: Option<String>,
    /// Partner upload fallback.
    #[serde(default)]
    pub partner_upload_fallback: Option<bool>,
    /// Registration years.
    #[serde(default)]
    pub domain_years: Option<u32>,
    /// Lost-answer grace, seconds.
    #[serde(default)]
    pub lost_answer_grace: Option<f64>,
    /// Zapmail billing details (Zapmail's camelCase field names).
    #[serde(default)]
    pub zapmail_billing: Option<zapmail::workspaces::BillingDetails>,
    /// Availability cache TTL, seconds.
    #[serde(default)]
    pub availability_cache_ttl: Option<f64>,
}

impl SettingsSpec {
    /// The engine configuration.
    pub fn engine_config(&self) -> Outcome<provisioning::EngineConfig> {
        let mut c = if self.fast {
            provisioning::EngineConfig::fast()
        } else {
            provisioning::EngineConfig::default()
        };
        if let Some(w) = &self.worker_id {
            c.worker_id = w.clone();
        }
        if let Some(n) = self.concurrency {
            c.concurrency = n.max(1);
        }
        if let Some(s) = self.lease {
            c.lease = seconds("lease", s)?;
        }
        if let Some(s) = self.idle_poll {
            c.idle_poll = seconds("idle_poll", s)?;
        }
        c.plusvibe_agency_workspace_id = self.plusvibe_agency_workspace_id.clone();
        c.operator_email = self.operator_email.clone();
        c.partner_provider_id = self.partner_provider_id.clone();
        if let Some(b) = self.partner_upload_fallback {
            c.partner_upload_fallback = b;
        }
        if let Some(y) = self.domain_years {
            c.domain_years = y;
        }
        if let Some(s) = self.lost_answer_grace {
            c.lost_answer_grace = Some(seconds("lost_answer_grace", s)?);
        }
        c.zapmail_billing = self.zapmail_billing.clone();
        Ok(c)
    }
}

/// Everything an engine is built from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// `postgres://…`, `sqlite://…`, `sqlite::memory:` or a file path.
    pub store: String,
    /// The key sealing stored passwords (64 hex characters or base64 of 32 bytes).
    pub secret_key: SecretString,
    /// Zapmail.
    pub zapmail: VendorSpec,
    /// PlusVibe.
    pub plusvibe: VendorSpec,
    /// HeyReach.
    pub heyreach: VendorSpec,
    /// Settings.
    #[serde(default)]
    pub settings: SettingsSpec,
    /// Insert the seed's tiers when the store has none.
    #[serde(default = "yes")]
    pub seed_default_tiers: bool,
}

fn yes() -> bool {
    true
}

/// Decode a JSON document from Python.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Outcome<T> {
    serde_json::from_str(json).map_err(|e| Failure::config(format!("invalid {what}: {e}")))
}

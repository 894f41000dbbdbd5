//! Configuration: flags > environment variables > config file > defaults.
//!
//! Clap reads the flags and their environment variables ([`GlobalArgs`]); what neither
//! gives comes from the TOML file ([`FileConfig`]), then from the defaults. Secrets are
//! `SecretString`s from the moment they are read and are never printed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use provisioning::store::{PgRateLimiter, PostgresStore, SqliteStore};
use provisioning::{Engine, EngineConfig, ProgressSink, SecretKey, Store};
use secrecy::SecretString;
use serde::Deserialize;
use vendor_http::RateLimiter;

use crate::error::{CliError, CliResult, from_vendor};

/// The database used when none is configured: a SQLite file in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://gtm-infra.db";
/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "gtm-infra.toml";

/// Settings every subcommand accepts (grouped under "Configuration" in `--help`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Configuration (flags > environment > config file > defaults)")]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// TOML config file [default: ./gtm-infra.toml when it exists].
    #[arg(long, global = true, env = "GTM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://gtm-infra.db].
    #[arg(
        long,
        global = true,
        env = "GTM_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Key sealing stored PlusVibe passwords: 32 bytes as base64 or 64 hex characters
    /// (`openssl rand -base64 32`). Keep it: the database cannot be used without it.
    #[arg(
        long,
        global = true,
        env = "GTM_SECRET_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<SecretString>,

    /// Zapmail API key (prefer the environment variable: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "ZAPMAIL_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub zapmail_api_key: Option<SecretString>,

    /// Zapmail base URL [default: the production API].
    #[arg(long, global = true, env = "ZAPMAIL_BASE_URL", value_name = "URL")]
    pub zapmail_base_url: Option<String>,

    /// PlusVibe API key.
    #[arg(
        long,
        global = true,
        env = "PLUSVIBE_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub plusvibe_api_key: Option<SecretString>,

    /// PlusVibe base URL [default: the production API].
    #[arg(long, global = true, env = "PLUSVIBE_BASE_URL", value_name = "URL")]
    pub plusvibe_base_url: Option<String>,

    /// The agency's PlusVibe workspace id [default: the key's first workspace].
    #[arg(long, global = true, env = "PLUSVIBE_WORKSPACE_ID", value_name = "ID")]
    pub plusvibe_workspace_id: Option<String>,

    /// HeyReach API key.
    #[arg(
        long,
        global = true,
        env = "HEYREACH_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub heyreach_api_key: Option<SecretString>,

    /// HeyReach base URL [default: the production API].
    #[arg(long, global = true, env = "HEYREACH_BASE_URL", value_name = "URL")]
    pub heyreach_base_url: Option<String>,

    /// The vendor URLs are `gtm-infra simulate`'s: short polls, sample billing details.
    #[arg(
        long,
        global = true,
        env = "GTM_SIMULATORS",
        value_parser = clap::builder::BoolishValueParser::new(),
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub simulators: Option<bool>,
}

/// One vendor's section of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSection {
    /// API key.
    pub api_key: Option<SecretString>,
    /// Base URL.
    pub base_url: Option<String>,
    /// PlusVibe only: the agency workspace.
    pub workspace_id: Option<String>,
    /// PlusVibe only: the partner `provider_id` for the fallback upload.
    pub partner_provider_id: Option<String>,
    /// Zapmail only: billing details added to each customer's workspace before buying
    /// (Zapmail's field names: firstName, lastName, addressLineOne, city, country, ...).
    pub billing: Option<zapmail::workspaces::BillingDetails>,
}

/// The TOML config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Database URL.
    pub database_url: Option<String>,
    /// Secret key.
    pub secret_key: Option<SecretString>,
    /// Simulator mode.
    pub simulators: Option<bool>,
    /// Email PlusVibe notifies after a partner upload.
    pub operator_email: Option<String>,
    /// Zapmail.
    #[serde(default)]
    pub zapmail: VendorSection,
    /// PlusVibe.
    #[serde(default)]
    pub plusvibe: VendorSection,
    /// HeyReach.
    #[serde(default)]
    pub heyreach: VendorSection,
}

impl FileConfig {
    fn load(path: &Path) -> CliResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::user(format!("cannot read config file {}: {e}", path.display()))
        })?;
        toml::from_str(&text).map_err(|e| {
            CliError::user(format!(
                "config file {}: {}",
                path.display(),
                e.message().trim()
            ))
        })
    }
}

/// The resolved settings.
#[derive(Debug)]
pub struct Settings {
    /// `--json`.
    pub json: bool,
    args: GlobalArgs,
    file: FileConfig,
}

fn pick<T: Clone>(flag: &Option<T>, file: &Option<T>) -> Option<T> {
    flag.clone().or_else(|| file.clone())
}

impl Settings {
    /// Resolve the config file and keep the flags.
    pub fn load(args: GlobalArgs) -> CliResult<Self> {
        let file = match &args.config {
            Some(p) => FileConfig::load(p)?,
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                FileConfig::load(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };
        Ok(Settings {
            json: args.json,
            args,
            file,
        })
    }

    /// Whether the vendors are the simulators.
    pub fn simulators(&self) -> bool {
        self.args
            .simulators
            .or(self.file.simulators)
            .unwrap_or(false)
    }

    /// The database URL.
    pub fn database_url(&self) -> String {
        pick(&self.args.database_url, &self.file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
    }

    /// Open (and migrate) the store; tiers are seeded when there are none.
    pub async fn store(&self) -> CliResult<Arc<dyn Store>> {
        open_store(&self.database_url()).await
    }

    /// The secret key.
    pub fn secret_key(&self) -> CliResult<SecretKey> {
        let text = pick(&self.args.secret_key, &self.file.secret_key).ok_or_else(|| {
            CliError::user(
                "GTM_SECRET_KEY is not set: it seals the PlusVibe passwords in the database; \
                 create one with `openssl rand -base64 32`, keep it, and export GTM_SECRET_KEY \
                 (or set secret_key in the config file)",
            )
        })?;
        Ok(SecretKey::parse(&text)?)
    }

    fn missing_key(var: &str, section: &str) -> CliError {
        CliError::user(format!(
            "{var} is not set: export {var} (or set api_key under [{section}] in the config \
             file); to try the tool without accounts, run `gtm-infra simulate` and use the \
             lines it prints"
        ))
    }

    /// The Zapmail client.
    pub fn zapmail(&self) -> CliResult<zapmail::Client> {
        self.zapmail_with(None)
    }

    /// The PlusVibe client.
    pub fn plusvibe(&self) -> CliResult<plusvibe::Client> {
        self.plusvibe_with(None)
    }

    /// The HeyReach client.
    pub fn heyreach(&self) -> CliResult<heyreach::Client> {
        self.heyreach_with(None)
    }

    fn zapmail_key(&self) -> CliResult<SecretString> {
        pick(&self.args.zapmail_api_key, &self.file.zapmail.api_key)
            .ok_or_else(|| Self::missing_key("ZAPMAIL_API_KEY", "zapmail"))
    }

    fn plusvibe_key(&self) -> CliResult<SecretString> {
        pick(&self.args.plusvibe_api_key, &self.file.plusvibe.api_key)
            .ok_or_else(|| Self::missing_key("PLUSVIBE_API_KEY", "plusvibe"))
    }

    fn heyreach_key(&self) -> CliResult<SecretString> {
        pick(&self.args.heyreach_api_key, &self.file.heyreach.api_key)
            .ok_or_else(|| Self::missing_key("HEYREACH_API_KEY", "heyreach"))
    }

    /// The Zapmail client, pacing itself with `limiter` when given (else in-process).
    fn zapmail_with(&self, limiter: Option<Arc<dyn RateLimiter>>) -> CliResult<zapmail::Client> {
        let mut b = zapmail::Client::builder().api_key(self.zapmail_key()?);
        if let Some(url) = pick(&self.args.zapmail_base_url, &self.file.zapmail.base_url) {
            b = b.base_url(url);
        }
        if let Some(l) = limiter {
            b = b.rate_limiter(l);
        }
        b.build().map_err(|e| from_vendor(&e))
    }

    /// The PlusVibe client, pacing itself with `limiter` when given (else in-process).
    fn plusvibe_with(&self, limiter: Option<Arc<dyn RateLimiter>>) -> CliResult<plusvibe::Client> {
        let mut b = plusvibe::Client::builder().api_key(self.plusvibe_key()?);
        if let Some(url) = pick(&self.args.plusvibe_base_url, &self.file.plusvibe.base_url) {
            b = b.base_url(url);
        }
        if let Some(l) = limiter {
            b = b.rate_limiter(l);
        }
        b.build().map_err(|e| from_vendor(&e))
    }

    /// The HeyReach client, pacing itself with `limiter` when given (else in-process).
    fn heyreach_with(&self, limiter: Option<Arc<dyn RateLimiter>>) -> CliResult<heyreach::Client> {
        let mut b = heyreach::Client::builder().api_key(self.heyreach_key()?);
        if let Some(url) = pick(&self.args.heyreach_base_url, &self.file.heyreach.base_url) {
            b = b.base_url(url);
        }
        if let Some(l) = limiter {
            b = b.rate_limiter(l);
        }
        b.build().map_err(|e| from_vendor(&e))
    }

    /// The three clients. On PostgreSQL their rate budgets live in the database
    /// ([`PgRateLimiter`]), so every worker process on one key shares the vendor's limits and
    /// a 429 seen by one pauses all; otherwise each paces itself in this process.
    async fn clients(
        &self,
        pg: Option<&PostgresStore>,
    ) -> CliResult<(zapmail::Client, plusvibe::Client, heyreach::Client)> {
        let Some(pg) = pg else {
            return Ok((self.zapmail()?, self.plusvibe()?, self.heyreach()?));
        };
        let shared = |vendor: &'static str, key: SecretString, limits| async move {
            let l = PgRateLimiter::new(pg, vendor, &key, limits).await?;
            CliResult::Ok(Some(Arc::new(l) as Arc<dyn RateLimiter>))
        };
        let z = shared("zapmail", self.zapmail_key()?, zapmail::default_limits()).await?;
        let p = shared("plusvibe", self.plusvibe_key()?, plusvibe::default_limits()).await?;
        let h = shared("heyreach", self.heyreach_key()?, heyreach::default_limits()).await?;
        Ok((
            self.zapmail_with(z)?,
            self.plusvibe_with(p)?,
            self.heyreach_with(h)?,
        ))
    }

    /// The engine's settings: the simulators' short schedules, or the vendors' defaults
    /// with the file's billing details and partner settings.
    pub fn engine_config(&self) -> EngineConfig {
        let mut c = if self.simulators() {
            provisioning::sim::simulator_engine_config()
        } else {
            EngineConfig::default()
        };
        if let Some(b) = &self.file.zapmail.billing {
            c.zapmail_billing = Some(b.clone());
        }
        if let Some(w) = pick(
            &self.args.plusvibe_workspace_id,
            &self.file.plusvibe.workspace_id,
        ) {
            c.plusvibe_agency_workspace_id = Some(w);
        }
        if let Some(p) = &self.file.plusvibe.partner_provider_id {
            c.partner_provider_id = Some(p.clone());
        }
        if let Some(e) = &self.file.operator_email {
            c.operator_email = Some(e.clone());
        }
        c
    }

    /// In simulator mode every base URL must be local: the mode sends sample billing
    /// details, which must never reach a real vendor.
    fn check_simulator_urls(&self) -> CliResult {
        let urls = [
            (
                "ZAPMAIL_BASE_URL",
                pick(&self.args.zapmail_base_url, &self.file.zapmail.base_url),
            ),
            (
                "PLUSVIBE_BASE_URL",
                pick(&self.args.plusvibe_base_url, &self.file.plusvibe.base_url),
            ),
            (
                "HEYREACH_BASE_URL",
                pick(&self.args.heyreach_base_url, &self.file.heyreach.base_url),
            ),
        ];
        for (var, url) in urls {
            let local = url.as_deref().is_some_and(|u| {
                let rest = u.split_once("://").map_or(u, |(_, r)| r);
                ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| {
                    rest.starts_with(&format!("{h}:")) || rest.starts_with(&format!("{h}/"))
                })
            });
            if !local {
                return Err(CliError::user(format!(
                    "GTM_SIMULATORS is on but {var} is not a local simulator URL; unset \
                     GTM_SIMULATORS to use the real vendors, or set {var} to what \
                     `gtm-infra simulate` prints"
                )));
            }
        }
        Ok(())
    }

    /// An engine over the configured vendors and store, reporting to `sinks`.
    pub async fn engine(
        &self,
        config: EngineConfig,
        sinks: Vec<Arc<dyn ProgressSink>>,
    ) -> CliResult<Engine> {
        // Keys first: a missing one is the clearest error.
        self.zapmail_key()?;
        self.plusvibe_key()?;
        self.heyreach_key()?;
        if self.simulators() {
            self.check_simulator_urls()?;
        } else if config.zapmail_billing.is_none() {
            eprintln!(
                "warning: no Zapmail billing details configured ([zapmail.billing] in the \
                 config file): Zapmail refuses purchases in a workspace without them"
            );
        }
        let key = self.secret_key()?;
        let (store, pg) = open_store_parts(&self.database_url()).await?;
        let (z, p, h) = self.clients(pg.as_deref()).await?;
        let mut b = Engine::builder()
            .clients(z, p, h)
            .store(store)
            .secret_key(key)
            .config(config);
        for s in sinks {
            b = b.sink(s);
        }
        Ok(b.build().await?)
    }
}

/// Open a store by URL (`sqlite://`, a bare file path, or `postgres://`), migrate it and
/// seed the default tiers when there are none.
pub async fn open_store(url: &str) -> CliResult<Arc<dyn Store>> {
    Ok(open_store_parts(url).await?.0)
}

/// [`open_store`], plus the PostgreSQL store itself when it is one (for shared rate limits).
async fn open_store_parts(url: &str) -> CliResult<(Arc<dyn Store>, Option<Arc<PostgresStore>>)> {
    let url = url.trim();
    let mut pg = None;
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let s = Arc::new(PostgresStore::connect(url).await?);
            pg = Some(s.clone());
            s
        } else if url.contains("://") && !url.starts_with("sqlite:") {
            return Err(CliError::user(format!(
                "unsupported database URL scheme in GTM_DATABASE_URL: use sqlite://FILE or \
             postgres://USER@HOST/DB (got {:?})",
                url.split("://").next().unwrap_or_default()
            )));
        } else {
            Arc::new(SqliteStore::open(url).await?)
        };
    store.migrate().await?;
    store.seed_default_tiers().await?;
    Ok((store, pg))
}

/// Check that each vendor answers and accepts its key (one cheap read each), so a wrong
/// URL or key is one clear line at once instead of a run retrying for minutes.
pub async fn preflight(clients: &provisioning::Clients) -> CliResult<()> {
    let (users, workspaces) = (clients.zapmail.users(), clients.plusvibe.workspaces());
    let (z, p, h) = tokio::join!(
        users.verify_key(),
        workspaces.list(),
        clients.heyreach.check_api_key(),
    );
    z.map_err(|e| from_vendor(&e))?;
    p.map_err(|e| from_vendor(&e))?;
    h.map_err(|e| from_vendor(&e))?;
    Ok(())
}

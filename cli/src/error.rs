//! One error type for every subcommand: a one-line message and the exit code it maps to.

use std::fmt;

use provisioning::store::StoreError;
use provisioning::wizard::WizardError;
use provisioning::{EngineError, secret::SecretError};
use vendor_http::ErrorKind;

/// The process exit codes (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Success = 0,
    /// Anything else: the database, I/O, an internal error.
    Other = 1,
    /// Bad input or missing/invalid configuration (clap's usage errors are 2 as well).
    User = 2,
    /// A vendor refused, failed or could not be reached.
    Vendor = 3,
    /// The provisioning run ended `failed` (retry it with `gtm-infra retry ID`).
    Failed = 4,
    /// Stopped by Ctrl-C or SIGTERM while driving a run (the run is saved and resumable).
    Interrupted = 130,
}

impl Exit {
    /// A stable name, for `--json` errors.
    pub fn kind(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Other => "other",
            Exit::User => "user",
            Exit::Vendor => "vendor",
            Exit::Failed => "failed",
            Exit::Interrupted => "interrupted",
        }
    }
}

/// A failed command: what to print (one line) and how to exit.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// One line, never containing a secret.
    pub message: String,
}

/// Result of a subcommand.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// A user error (exit 2).
    pub fn user(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::User,
            message: message.into(),
        }
    }
    /// A vendor error (exit 3).
    pub fn vendor(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Vendor,
            message: message.into(),
        }
    }
    /// Any other failure (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Other,
            message: message.into(),
        }
    }
    /// A run stopped by a signal (exit 130).
    pub fn interrupted(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Interrupted,
            message: message.into(),
        }
    }
    /// A provisioning that ended failed (exit 4).
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Failed,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always one line.
        let one: Vec<&str> = self.message.split_whitespace().collect();
        f.write_str(&one.join(" "))
    }
}

/// The environment variables that configure each vendor, for hints.
fn vendor_vars(vendor: &str) -> (&'static str, &'static str) {
    match vendor {
        "zapmail" => ("ZAPMAIL_API_KEY", "ZAPMAIL_BASE_URL"),
        "plusvibe" => ("PLUSVIBE_API_KEY", "PLUSVIBE_BASE_URL"),
        _ => ("HEYREACH_API_KEY", "HEYREACH_BASE_URL"),
    }
}

/// A vendor client error, with what to set when it is a configuration problem.
pub fn from_vendor(e: &vendor_http::Error) -> CliError {
    let vendor = e.vendor();
    let (key, url) = vendor_vars(vendor);
    match e.kind() {
        ErrorKind::Auth => CliError::vendor(format!("{e} (the API key was rejected: check {key})")),
        ErrorKind::Transport if !e.may_have_reached_vendor() => CliError::vendor(format!(
            "cannot reach {vendor}: {e} (check {url} and the network)"
        )),
        ErrorKind::Config => CliError::user(format!("{e} (set {key} / {url})")),
        ErrorKind::InsufficientFunds => CliError::vendor(format!(
            "{e} (top up the {vendor} wallet, then `gtm-infra retry ID`)"
        )),
        _ => CliError::vendor(e.to_string()),
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_)
            | StoreError::TierNotFound(_)
            | StoreError::DuplicateCustomer { .. }
            | StoreError::DuplicateTierSlug(_) => CliError::user(e.to_string()),
            StoreError::Backend(_) => {
                CliError::other(format!("{e} (check GTM_DATABASE_URL / --database-url)"))
            }
            other => CliError::other(other.to_string()),
        }
    }
}

impl From<SecretError> for CliError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::BadKey => CliError::user(format!("GTM_SECRET_KEY is not valid: {e}")),
            other => CliError::user(format!(
                "{other} (is GTM_SECRET_KEY the key this database was written with?)"
            )),
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid(_) | EngineError::WrongState { .. } | EngineError::Config(_) => {
                CliError::user(e.to_string())
            }
            EngineError::Vendor(m) => CliError::vendor(m),
            EngineError::Store(s) => s.into(),
            EngineError::Secret(s) => s.into(),
            other => CliError::other(other.to_string()),
        }
    }
}

impl From<WizardError> for CliError {
    fn from(e: WizardError) -> Self {
        match e {
            WizardError::Vendor(v) => from_vendor(&v),
            WizardError::Store(s) => s.into(),
            other => CliError::user(other.to_string()),
        }
    }
}

impl From<vendor_http::Error> for CliError {
    fn from(e: vendor_http::Error) -> Self {
        from_vendor(&e)
    }
}

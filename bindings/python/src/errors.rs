//! Rust errors → the Python exception classes of `gtm_infra.errors` (defined in Python, so
//! users can subclass, pickle and catch them without touching the native module).

use provisioning::wizard::WizardError;
use provisioning::{EngineError, StoreError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use vendor_http::ErrorKind;

/// A failure on its way to Python: the exception class (by name, in `gtm_infra.errors`),
/// its one-line message and its attributes. Never holds a secret: it is built from the
/// Rust errors' `Display` (which redacts) and their plain fields.
#[derive(Debug, Clone)]
pub struct Failure(Box<Details>);

/// The fields of a [`Failure`].
#[derive(Debug, Clone)]
pub struct Details {
    class: &'static str,
    message: String,
    vendor: Option<&'static str>,
    status: Option<u16>,
    code: Option<String>,
    vendor_message: Option<String>,
    request_id: Option<String>,
    operation: Option<String>,
    retry_after: Option<f64>,
    retryable: bool,
    may_have_taken_effect: bool,
    invoice_link: Option<String>,
}

/// Result of work done without the GIL.
pub type Outcome<T> = Result<T, Failure>;

impl Failure {
    /// A failure of class `class` with `message` and no vendor details.
    pub fn new(class: &'static str, message: impl Into<String>) -> Self {
        Failure(Box::new(Details {
            class,
            message: message.into(),
            vendor: None,
            status: None,
            code: None,
            vendor_message: None,
            request_id: None,
            operation: None,
            retry_after: None,
            retryable: false,
            may_have_taken_effect: false,
            invoice_link: None,
        }))
    }

    /// Bad input, refused locally.
    pub fn validation(message: impl Into<String>) -> Self {
        Failure::new("ValidationError", message)
    }

    /// Bad configuration.
    pub fn config(message: impl Into<String>) -> Self {
        Failure::new("ConfigurationError", message)
    }

    /// Zapmail kept the order but the wallet was short: nothing was bought.
    pub fn insufficient_funds(message: String, invoice_link: String) -> Self {
        let mut f = Failure::new("InsufficientFundsError", message.clone());
        f.0.vendor = Some("zapmail");
        f.0.vendor_message = Some(message);
        f.0.invoice_link = Some(invoice_link);
        f
    }

    /// Prefix the message.
    pub fn context(mut self, prefix: &str) -> Self {
        self.0.message = format!("{prefix}: {}", self.0.message);
        self
    }

    /// The Python exception.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self.build(py) {
            Ok(e) => e,
            Err(e) => e,
        }
    }

    fn build(self, py: Python<'_>) -> PyResult<PyErr> {
        let d = *self.0;
        let module = py.import("gtm_infra.errors")?;
        let class = module.getattr(d.class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("vendor", d.vendor)?;
        kwargs.set_item("status", d.status)?;
        kwargs.set_item("code", d.code)?;
        kwargs.set_item("vendor_message", d.vendor_message)?;
        kwargs.set_item("request_id", d.request_id)?;
        kwargs.set_item("operation", d.operation)?;
        kwargs.set_item("retry_after", d.retry_after)?;
        kwargs.set_item("retryable", d.retryable)?;
        kwargs.set_item("may_have_taken_effect", d.may_have_taken_effect)?;
        if let Some(link) = d.invoice_link {
            kwargs.set_item("invoice_link", link)?;
        }
        let value = class.call((d.message,), Some(&kwargs))?;
        Ok(PyErr::from_value(value))
    }
}

impl From<vendor_http::Error> for Failure {
    fn from(e: vendor_http::Error) -> Self {
        Failure::from(&e)
    }
}

impl From<&vendor_http::Error> for Failure {
    fn from(e: &vendor_http::Error) -> Self {
        let class = match e.kind() {
            ErrorKind::Auth => "AuthError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Validation => "ValidationError",
            ErrorKind::InsufficientFunds => "InsufficientFundsError",
            ErrorKind::RateLimited => "RateLimitError",
            ErrorKind::Transport => "TransportError",
            ErrorKind::Config => "ConfigurationError",
            _ => "ApiError",
        };
        let api = e.api();
        let operation = match e {
            vendor_http::Error::Api(a) => Some(a.operation.clone()),
            vendor_http::Error::RateLimited { operation, .. }
            | vendor_http::Error::Transport { operation, .. }
            | vendor_http::Error::Decode { operation, .. } => Some(operation.clone()),
            _ => None,
        };
        Failure(Box::new(Details {
            class,
            message: e.to_string(),
            vendor: Some(e.vendor()),
            status: e.status(),
            code: api.and_then(|a| a.code.clone()),
            vendor_message: e.vendor_message().map(str::to_string),
            request_id: api.and_then(|a| a.request_id.clone()),
            operation,
            retry_after: e.retry_after().map(|d| d.as_secs_f64()),
            retryable: e.is_retryable(),
            may_have_taken_effect: e.may_have_taken_effect(),
            invoice_link: None,
        }))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let class = match &e {
            StoreError::NotFound(_) | StoreError::TierNotFound(_) => "NotFoundError",
            StoreError::DuplicateCustomer { .. } | StoreError::DuplicateTierSlug(_) => {
                "ValidationError"
            }
            _ => "StorageError",
        };
        Failure::new(class, e.to_string())
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::Invalid(_) => Failure::validation(e.to_string()),
            EngineError::WrongState { .. } => Failure::new("InvalidStateError", e.to_string()),
            EngineError::Config(_) | EngineError::Secret(_) => Failure::config(e.to_string()),
            EngineError::Vendor(_) => Failure::new("ApiError", e.to_string()),
            _ => Failure::new("GtmError", e.to_string()),
        }
    }
}

impl From<WizardError> for Failure {
    fn from(e: WizardError) -> Self {
        match e {
            WizardError::Vendor(inner) => {
                Failure::from(&*inner).context("domain availability check failed")
            }
            WizardError::Store(s) => s.into(),
            WizardError::TierNotFound(_) => Failure::new("NotFoundError", e.to_string()),
            _ => Failure::validation(e.to_string()),
        }
    }
}

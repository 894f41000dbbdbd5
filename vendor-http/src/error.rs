//! The one error type every vendor client returns.

use std::fmt;
use std::time::Duration;

/// Whether a failed request may have reached the vendor.
///
/// This is what makes retries safe: a request that was never sent can always be sent
/// again, while one that may have been received may also have been applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The request never left this process (DNS, connection refused, TLS failure...).
    No,
    /// The request may have been received (timeout, connection dropped mid-response...).
    Maybe,
}

/// A coarse classification of an error, stable across vendors.
///
/// Bindings (Python) map these to exception classes; the provisioning engine maps them to
/// transient or permanent step failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401/403: missing, wrong or under-privileged credentials.
    Auth,
    /// 404: the resource (or route) does not exist.
    NotFound,
    /// 400/409/422 and local validation: the request itself is wrong.
    Validation,
    /// The account cannot pay for what was asked (e.g. wallet balance too low).
    InsufficientFunds,
    /// 429, or our own refusal to wait for a `Retry-After` above the cap.
    RateLimited,
    /// 5xx: the vendor failed.
    Server,
    /// Any other HTTP status the vendor answered with.
    OtherStatus,
    /// The request failed before a complete response arrived.
    Transport,
    /// A response arrived but could not be decoded.
    Decode,
    /// The client was configured wrongly.
    Config,
}

/// An error response from a vendor (HTTP status >= 400, or an error status inside a 2xx
/// body, which Zapmail sends).
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// Vendor name, e.g. `"zapmail"`.
    pub vendor: &'static str,
    /// The HTTP status, or the status carried inside a 2xx body.
    pub status: u16,
    /// The HTTP status line actually received (differs from `status` for errors in 2xx).
    pub http_status: u16,
    /// The vendor's own error code, when it has one.
    pub code: Option<String>,
    /// The vendor's message, or a description of the status when the body had none.
    pub message: String,
    /// The vendor's error or request id, for support tickets.
    pub request_id: Option<String>,
    /// The (redacted, truncated) response body.
    pub body: String,
    /// The parsed `Retry-After`, if the vendor sent one.
    pub retry_after: Option<Duration>,
    /// The operation that failed, e.g. `"POST /v2/domains/buy"`.
    pub operation: String,
}

impl fmt::Debug for ApiError {
    // `body` is already redacted; Debug shows the same as Display plus the body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("vendor", &self.vendor)
            .field("status", &self.status)
            .field("http_status", &self.http_status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("operation", &self.operation)
            .field("body", &self.body)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.vendor, self.status, self.operation)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        write!(f, ": {}", one_line(&self.message))?;
        if self.http_status != self.status {
            write!(f, " (inside HTTP {})", self.http_status)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Every way a vendor call can fail.
///
/// `Display` is always one complete line naming the vendor, the status (where there is one)
/// and the vendor's message. No variant ever holds an API key or a password: bodies are
/// redacted before they are stored here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vendor answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The vendor rate-limited us and we will not (or may no longer) wait.
    #[error("{vendor} rate limited {operation}{}", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// Vendor name.
        vendor: &'static str,
        /// The operation, e.g. `"GET /v2/domains"`.
        operation: String,
        /// How long the vendor asked us to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// The request failed before a complete response arrived.
    #[error("{vendor} {operation}: request failed ({}): {source}", if *.sent == Sent::No { "not sent" } else { "may have been received" })]
    Transport {
        /// Vendor name.
        vendor: &'static str,
        /// The operation, e.g. `"POST /v2/mailboxes"`.
        operation: String,
        /// Whether the vendor may have received it.
        sent: Sent,
        /// Whether it was a timeout.
        timeout: bool,
        /// The underlying error (its URL is stripped).
        #[source]
        source: reqwest::Error,
    },

    /// A response arrived but did not have the documented shape.
    #[error(
        "{vendor} {operation}: could not decode HTTP {status} response at `{path}`: {message}; body: {body}"
    )]
    Decode {
        /// Vendor name.
        vendor: &'static str,
        /// The operation.
        operation: String,
        /// HTTP status of the response.
        status: u16,
        /// JSON path where decoding failed (`.` for the root).
        path: String,
        /// What serde said.
        message: String,
        /// The (redacted, truncated) body.
        body: String,
    },

    /// Input rejected locally, before spending a request (bad username, unsupported TLD...).
    #[error("{vendor}: invalid input: {message}")]
    InvalidInput {
        /// Vendor name.
        vendor: &'static str,
        /// Which rule failed and how.
        message: String,
    },

    /// The client was configured wrongly (missing key, bad base URL...).
    #[error("invalid {vendor} client configuration: {message}")]
    Config {
        /// Vendor name.
        vendor: &'static str,
        /// What is wrong and what to set.
        message: String,
    },
}

fn fmt_retry_after(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("; retry after {:.1}s", d.as_secs_f64()),
        None => String::new(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Convenient alias used by every client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The vendor this error came from.
    pub fn vendor(&self) -> &'static str {
        match self {
            Error::Api(e) => e.vendor,
            Error::RateLimited { vendor, .. }
            | Error::Transport { vendor, .. }
            | Error::Decode { vendor, .. }
            | Error::InvalidInput { vendor, .. }
            | Error::Config { vendor, .. } => vendor,
        }
    }

    /// The HTTP status (or the status inside a 2xx body) when the vendor answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::RateLimited { .. } => Some(429),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The vendor's message, when it sent one.
    pub fn vendor_message(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.message),
            _ => None,
        }
    }

    /// The coarse kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => kind_for_status(e.status, &e.message),
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::InvalidInput { .. } => ErrorKind::Validation,
            Error::Config { .. } => ErrorKind::Config,
        }
    }

    /// Whether sending the same request again could succeed without changing anything.
    ///
    /// True for rate limits, 503, server errors, timeouts, transport failures and
    /// malformed bodies. Whether it is *safe* to retry also depends on the operation: see
    /// [`Error::may_have_taken_effect`] and [`crate::RetryPolicy`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => matches!(e.status, 408 | 425 | 429 | 500..=599),
            Error::RateLimited { .. } | Error::Transport { .. } | Error::Decode { .. } => true,
            Error::InvalidInput { .. } | Error::Config { .. } => false,
        }
    }

    /// How long the vendor asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have reached the vendor at all.
    pub fn may_have_reached_vendor(&self) -> bool {
        match self {
            Error::Api(_) | Error::RateLimited { .. } | Error::Decode { .. } => true,
            Error::Transport { sent, .. } => *sent == Sent::Maybe,
            Error::InvalidInput { .. } | Error::Config { .. } => false,
        }
    }

    /// Whether the vendor may have *applied* the request (created, bought...), so that a
    /// caller must look at the vendor's state before trying again.
    ///
    /// False when the vendor refused it (4xx other than 408, and 503, which HTTP defines as
    /// "unable to handle the request": that is why 503 is retried for every operation) or
    /// it was never sent; true for other 5xx, timeouts, dropped connections and undecodable
    /// success bodies.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            Error::Api(e) => (e.status >= 500 && e.status != 503) || e.status == 408,
            Error::Decode { .. } => true,
            Error::Transport { sent, .. } => *sent == Sent::Maybe,
            Error::RateLimited { .. } | Error::InvalidInput { .. } | Error::Config { .. } => false,
        }
    }

    /// The details of an API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn config(vendor: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            vendor,
            message: message.into(),
        }
    }

    /// A local validation error for `vendor`.
    pub fn invalid_input(vendor: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            vendor,
            message: message.into(),
        }
    }
}

fn kind_for_status(status: u16, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    if status == 402
        || lower.contains("insufficient wallet")
        || lower.contains("insufficient balance")
        || lower.contains("insufficient funds")
    {
        return ErrorKind::InsufficientFunds;
    }
    match status {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        400 | 409 | 422 => ErrorKind::Validation,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::OtherStatus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, message: &str) -> Error {
        Error::Api(Box::new(ApiError {
            vendor: "zapmail",
            status,
            http_status: status,
            code: None,
            message: message.into(),
            request_id: Some("efb89401".into()),
            body: String::new(),
            retry_after: None,
            operation: "POST /v2/domains/buy".into(),
        }))
    }

    #[test]
    fn display_is_one_complete_line() {
        let e = api(422, "Invalid value\nfor domainNames");
        let s = e.to_string();
        assert_eq!(
            s,
            "zapmail 422 POST /v2/domains/buy: Invalid value for domainNames (request id efb89401)"
        );
        assert!(!s.contains('\n'));
    }

    #[test]
    fn kinds_follow_status_and_message() {
        assert_eq!(api(401, "x").kind(), ErrorKind::Auth);
        assert_eq!(api(404, "x").kind(), ErrorKind::NotFound);
        assert_eq!(api(422, "x").kind(), ErrorKind::Validation);
        assert_eq!(api(502, "x").kind(), ErrorKind::Server);
        assert_eq!(
            api(
                400,
                "Insufficient wallet balance. Required: $9, Available: $1"
            )
            .kind(),
            ErrorKind::InsufficientFunds
        );
    }

    #[test]
    fn effect_and_retryability() {
        assert!(api(500, "x").is_retryable());
        assert!(api(500, "x").may_have_taken_effect());
        assert!(!api(400, "x").is_retryable());
        assert!(!api(400, "x").may_have_taken_effect());
        // 503 is retried for every operation, so it must mean "not applied".
        assert!(api(503, "x").is_retryable());
        assert!(!api(503, "x").may_have_taken_effect());
        assert!(api(502, "x").may_have_taken_effect());
        assert!(api(400, "x").may_have_reached_vendor());
        let inv = Error::invalid_input("zapmail", "bad");
        assert!(!inv.may_have_reached_vendor());
        assert_eq!(inv.kind(), ErrorKind::Validation);
    }
}

//! The retry policy: which failures are retried, and after how long.
//!
//! The rules (see `DESIGN.md`):
//! - 429 and 503 are always retried, honouring `Retry-After` (capped: above the cap we
//!   return the rate-limit error instead of sleeping);
//! - failures before the request was sent are always retried;
//! - 5xx, timeouts, dropped connections and undecodable bodies after sending are retried only
//!   for idempotent operations, because the vendor may have applied the request;
//! - everything else (4xx) stops at once.
//!
//! Delays use exponential backoff with full jitter.

use std::time::{Duration, SystemTime};

use crate::error::{Error, Sent};

/// How many times, and how patiently, a client retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in total, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// Backoff base: the cap of the first retry's delay.
    pub base_delay: Duration,
    /// Cap of any computed backoff delay.
    pub max_delay: Duration,
    /// The longest `Retry-After` we are willing to sleep; above it the call returns
    /// [`Error::RateLimited`] at once so the caller can reschedule.
    pub max_retry_after: Duration,
    /// Delay used for a 429 without `Retry-After`, before jitter (doubled per attempt).
    pub default_rate_limit_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            default_rate_limit_delay: Duration::from_secs(1),
        }
    }
}

impl RetryConfig {
    /// No retries: every error is returned as it happened.
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        }
    }

    /// Short delays for tests against local simulators.
    pub fn fast() -> Self {
        RetryConfig {
            max_attempts: 6,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(10),
            default_rate_limit_delay: Duration::from_millis(20),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Return the error to the caller.
    Stop,
    /// Sleep this long, then try again.
    RetryAfter(Duration),
    /// The vendor asked for a wait above the cap: return a rate-limit error.
    GiveUpRateLimited,
}

/// The pure retry decision, table-tested below.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    config: RetryConfig,
}

impl RetryPolicy {
    /// A policy for `config`.
    pub fn new(config: RetryConfig) -> Self {
        RetryPolicy { config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// Decide after attempt number `attempt` (1-based) failed with `err`.
    ///
    /// `idempotent` says whether the operation may be repeated after it may have taken
    /// effect; `jitter` is a uniform random number in `[0, 1)` (a parameter so the decision
    /// is pure and testable).
    pub fn decide(&self, attempt: u32, idempotent: bool, err: &Error, jitter: f64) -> Decision {
        let c = &self.config;
        let status = err.status();
        let rate_limited = matches!(err, Error::RateLimited { .. }) || status == Some(429);
        let always = rate_limited
            || status == Some(503)
            || matches!(err, Error::Transport { sent: Sent::No, .. });
        let if_idempotent = match err {
            Error::Api(e) => matches!(e.status, 408 | 425 | 500..=599),
            Error::Transport {
                sent: Sent::Maybe, ..
            }
            | Error::Decode { .. } => true,
            _ => false,
        };
        if !(always || (idempotent && if_idempotent)) {
            return Decision::Stop;
        }
        if let Some(wait) = err.retry_after()
            && wait > c.max_retry_after
        {
            return if rate_limited {
                Decision::GiveUpRateLimited
            } else {
                Decision::Stop
            };
        }
        if attempt >= c.max_attempts {
            return if rate_limited {
                Decision::GiveUpRateLimited
            } else {
                Decision::Stop
            };
        }
        if let Some(wait) = err.retry_after() {
            // The vendor said how long; add a little jitter so waiters do not stampede.
            let spread = wait.mul_f64(0.1).min(Duration::from_millis(250));
            return Decision::RetryAfter(wait + spread.mul_f64(jitter.clamp(0.0, 1.0)));
        }
        let base = if rate_limited {
            c.default_rate_limit_delay
        } else {
            c.base_delay
        };
        Decision::RetryAfter(backoff(base, c.max_delay, attempt, jitter))
    }
}

/// Full-jitter exponential backoff: `jitter * min(base * 2^(attempt-1), max)`.
pub fn backoff(base: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let ceiling = base.saturating_mul(1u32 << exp).min(max);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// Parse a `Retry-After` header: delay-seconds (possibly fractional, as some vendors send)
/// or an HTTP date. Garbage and negative values give `None`; dates in the past give zero.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (0.0..1e9)
            .contains(&secs)
            .then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api(Box::new(ApiError {
            vendor: "t",
            status,
            http_status: status,
            code: None,
            message: "m".into(),
            request_id: None,
            body: String::new(),
            retry_after,
            operation: "GET /x".into(),
        }))
    }

    fn decode() -> Error {
        Error::Decode {
            vendor: "t",
            operation: "GET /x".into(),
            status: 200,
            path: ".".into(),
            message: "m".into(),
            body: String::new(),
        }
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy::new(RetryConfig::default());
        let s = |secs| Some(Duration::from_secs(secs));
        // (error, idempotent, expected to retry?)
        let table: Vec<(Error, bool, bool)> = vec![
            (api(429, None), false, true),
            (api(429, s(2)), false, true),
            (api(503, None), false, true),
            (api(500, None), true, true),
            (api(500, None), false, false),
            (api(502, None), false, false),
            (api(504, None), true, true),
            (api(400, None), true, false),
            (api(401, None), true, false),
            (api(404, None), true, false),
            (api(409, None), true, false),
            (api(422, None), true, false),
            (decode(), true, true),
            (decode(), false, false),
            (Error::invalid_input("t", "x"), true, false),
        ];
        for (err, idem, retry) in table {
            let d = p.decide(1, idem, &err, 0.5);
            assert_eq!(
                matches!(d, Decision::RetryAfter(_)),
                retry,
                "{err} idempotent={idem}: {d:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::new(RetryConfig::default());
        let d = p.decide(1, false, &api(429, Some(Duration::from_secs(3))), 0.0);
        assert_eq!(d, Decision::RetryAfter(Duration::from_secs(3)));
        let d = p.decide(1, false, &api(429, Some(Duration::from_secs(3600))), 0.0);
        assert_eq!(d, Decision::GiveUpRateLimited);
        let d = p.decide(1, false, &api(503, Some(Duration::from_secs(3600))), 0.0);
        assert_eq!(d, Decision::Stop);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::new(RetryConfig::default());
        assert_eq!(p.decide(4, true, &api(500, None), 0.5), Decision::Stop);
        assert_eq!(
            p.decide(4, true, &api(429, None), 0.5),
            Decision::GiveUpRateLimited
        );
        assert_eq!(
            RetryPolicy::new(RetryConfig::disabled()).decide(1, true, &api(503, None), 0.5),
            Decision::Stop
        );
    }

    #[test]
    fn backoff_is_full_jitter_exponential_and_capped() {
        let b = Duration::from_millis(500);
        let m = Duration::from_secs(30);
        assert_eq!(backoff(b, m, 1, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(b, m, 3, 1.0), Duration::from_millis(2000));
        assert_eq!(backoff(b, m, 3, 0.5), Duration::from_millis(1000));
        assert_eq!(backoff(b, m, 20, 1.0), m);
        assert_eq!(backoff(b, m, 3, 0.0), Duration::ZERO);
    }

    #[test]
    fn retry_after_parsing() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        for garbage in ["", "soon", "-5", "NaN", "inf", "1e99", "Mon, 99 Foo 2020"] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }
}

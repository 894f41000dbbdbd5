//! Email accounts (standard API, §4): list, bulk update, warmup status, add SMTP/IMAP
//! accounts, delete by email; plus the per-account warmup health the dashboard reads.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vendor_http::reqwest::Method;

use crate::{
    AccountId, AccountStatus, Client, Error, ErrorKind, Provider, Result, StatusResponse,
    WarmupStatus, WorkspaceId, YesNo,
};

/// Page size used by [`EmailAccounts::list_all`] (what every integrator uses, §1.5).
pub const PAGE_SIZE: u32 = 100;

/// Ids per bulk call: every integrator chunks at 100 (§1.4); the server maximum is unknown.
pub const BULK_CHUNK: usize = 100;

// ---------------------------------------------------------------------------------------
// Read shape
// ---------------------------------------------------------------------------------------

/// An email account as `/account/list` returns it (§4.1).
///
/// The id comes as `id` (sometimes `_id`; both are accepted). Everything under `payload`
/// is optional; health scores, rates and counters use `None` for the vendor's `-1`
/// ("no data", which is not zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawAccount")]
pub struct EmailAccount {
    /// The account id (for bulk updates).
    pub id: AccountId,
    /// The address (deletes go by address).
    pub email: String,
    /// `ACTIVE`, `INACTIVE`, `ERROR` (disconnected), ...
    pub status: Option<AccountStatus>,
    /// `ACTIVE` or `INACTIVE` (no `PAUSED`).
    pub warmup_status: Option<WarmupStatus>,
    /// `GOOGLE_WORKSPACE`, `MICROSOFT365`, `REGULAR_ACCOUNT`, ...
    pub provider: Option<Provider>,
    /// When warmup was last enabled (ISO-8601).
    pub warmup_enb_dt: Option<String>,
    /// Creation time (ISO-8601).
    pub timestamp_created: Option<String>,
    /// Last update time (ISO-8601).
    pub timestamp_updated: Option<String>,
    /// Settings and analytics.
    pub payload: AccountPayload,
    /// Every other top-level field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct RawAccount {
    #[serde(default, deserialize_with = "crate::de::text")]
    id: Option<String>,
    #[serde(default, rename = "_id", deserialize_with = "crate::de::text")]
    underscore_id: Option<String>,
    #[serde(default, deserialize_with = "crate::de::text")]
    email: Option<String>,
    #[serde(default)]
    status: Option<AccountStatus>,
    #[serde(default)]
    warmup_status: Option<WarmupStatus>,
    #[serde(default)]
    provider: Option<Provider>,
    #[serde(default, deserialize_with = "crate::de::text")]
    warmup_enb_dt: Option<String>,
    #[serde(default, deserialize_with = "crate::de::text")]
    timestamp_created: Option<String>,
    #[serde(default, deserialize_with = "crate::de::text")]
    timestamp_updated: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    payload: AccountPayload,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl TryFrom<RawAccount> for EmailAccount {
    type Error = String;
    fn try_from(r: RawAccount) -> std::result::Result<Self, String> {
        let id =
            r.id.or(r.underscore_id)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| "email account without `id` or `_id`".to_string())?;
        Ok(EmailAccount {
            id: AccountId::from(id),
            email: r.email.unwrap_or_default(),
            status: r.status,
            warmup_status: r.warmup_status,
            provider: r.provider,
            warmup_enb_dt: r.warmup_enb_dt,
            timestamp_created: r.timestamp_created,
            timestamp_updated: r.timestamp_updated,
            payload: r.payload,
            extra: r.extra,
        })
    }
}

fn or_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl EmailAccount {
    /// The dashboard's per-account warmup figures.
    pub fn warmup_health(&self) -> WarmupHealth {
        let a = &self.payload.analytics;
        WarmupHealth {
            overall_7d: a.health_scores.overall_7d,
            google_7d: a.health_scores.google_7d,
            microsoft_7d: a.health_scores.microsoft_7d,
            other_7d: a.health_scores.other_7d,
            reply_rate_7d: a.reply_rates.reply_rate_7d,
            email_sent_today: a.daily_counters.email_sent_today,
            warmup_email_sent_today: a.daily_counters.warmup_email_sent_today,
        }
    }

    /// Whether warmup is `ACTIVE`.
    pub fn is_warmup_active(&self) -> bool {
        self.warmup_status == Some(WarmupStatus::Active)
    }

    /// Campaign sends per day (`payload.daily_limit`).
    pub fn daily_limit(&self) -> Option<i64> {
        self.payload.daily_limit
    }
}

/// `payload` of an email account. Note the read names differ from the write names
/// (`sending_gap` ← `interval_limit_in_min`, `warmup.limit` ← `warmup_max_daily_limit`,
/// `warmup.reply_rate` in percent ← `warmup_reply_rate` 0–1; §7 item 4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountPayload {
    /// Sender name.
    #[serde(default)]
    pub name: Option<AccountName>,
    /// Warmup settings in the read shape.
    #[serde(default)]
    pub warmup: Option<WarmupPayload>,
    /// IMAP host.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub imap_host: Option<String>,
    /// IMAP port.
    #[serde(default, deserialize_with = "crate::de::int")]
    pub imap_port: Option<i64>,
    /// SMTP host.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub smtp_host: Option<String>,
    /// SMTP port.
    #[serde(default, deserialize_with = "crate::de::int")]
    pub smtp_port: Option<i64>,
    /// Campaign sends per day (0 stops campaign sends; warmup keeps going).
    #[serde(default, deserialize_with = "crate::de::int")]
    pub daily_limit: Option<i64>,
    /// Minutes between campaign sends (written as `interval_limit_in_min`).
    #[serde(default, deserialize_with = "crate::de::int")]
    pub sending_gap: Option<i64>,
    /// Reply-to address.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub reply_to: Option<String>,
    /// Custom tracking domain.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub custom_domain: Option<String>,
    /// HTML signature.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub signature: Option<String>,
    /// Tag ids or objects.
    #[serde(default, deserialize_with = "crate::de::list")]
    pub tags: Vec<Value>,
    /// Campaign ids (goes stale; do not rely on it).
    #[serde(default, deserialize_with = "crate::de::list")]
    pub cmps: Vec<Value>,
    /// Sending ramp-up settings (shape not documented).
    #[serde(default)]
    pub sending_rampup: Option<Value>,
    /// Warmup ramp-up settings (shape not documented).
    #[serde(default)]
    pub warmup_rampup: Option<Value>,
    /// Health scores, reply rates and today's counters.
    #[serde(default, deserialize_with = "or_default")]
    pub analytics: Analytics,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `payload.name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountName {
    /// First name.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub last_name: Option<String>,
}

/// `payload.warmup` (read shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmupPayload {
    /// Maximum warmup emails per day (written as `warmup_max_daily_limit`).
    #[serde(default, deserialize_with = "crate::de::int")]
    pub limit: Option<i64>,
    /// Daily increment (written as `warmup_pace_increment`).
    #[serde(default, deserialize_with = "crate::de::int")]
    pub increment: Option<i64>,
    /// Reply rate in **percent** (written as a 0–1 fraction).
    #[serde(default, deserialize_with = "crate::de::float")]
    pub reply_rate: Option<f64>,
    /// Custom warmup words.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub warmup_custom_words: Option<String>,
    /// Whether warmup emails carry the signature (0/1).
    #[serde(default, deserialize_with = "crate::de::int")]
    pub warmup_signature: Option<i64>,
    /// `advanced` (`warm_ctd`, `weekday_only`, `warmup_business_type`).
    #[serde(default)]
    pub advanced: Option<Value>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `payload.analytics`: what the dashboard shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analytics {
    /// Warmup health scores.
    #[serde(default, deserialize_with = "or_default")]
    pub health_scores: HealthScores,
    /// Reply rates.
    #[serde(default, deserialize_with = "or_default")]
    pub reply_rates: ReplyRates,
    /// Today's counters.
    #[serde(default, deserialize_with = "or_default")]
    pub daily_counters: DailyCounters,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `analytics.health_scores`; `None` = no data (`-1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthScores {
    /// 7-day overall warmup health (percent).
    #[serde(
        rename = "7d_overall_warmup_health",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub overall_7d: Option<f64>,
    /// 7-day warmup health at Google recipients.
    #[serde(
        rename = "7d_google_warmup_health",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub google_7d: Option<f64>,
    /// 7-day warmup health at Microsoft recipients.
    #[serde(
        rename = "7d_microsoft_warmup_health",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub microsoft_7d: Option<f64>,
    /// 7-day warmup health at other recipients.
    #[serde(
        rename = "7d_other_warmup_health",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub other_7d: Option<f64>,
    /// 1-day missed warmup rate.
    #[serde(
        rename = "1d_miss_warmup_rate",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub miss_warmup_rate_1d: Option<f64>,
    /// 3-day bounce rate.
    #[serde(
        rename = "3d_bounce_rate",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub bounce_rate_3d: Option<f64>,
    /// Other scores, as sent (read them with [`HealthScores::get`]).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl HealthScores {
    /// Another score by its vendor key, with `-1` → `None`.
    pub fn get(&self, key: &str) -> Option<f64> {
        metric_from(self.extra.get(key))
    }
}

/// `analytics.reply_rates` (percent); `None` = no data (`-1`). Longer windows (up to 90
/// days) may appear in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplyRates {
    /// 7-day reply rate.
    #[serde(
        rename = "7d_replyrate",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub reply_rate_7d: Option<f64>,
    /// 7-day out-of-office reply rate.
    #[serde(
        rename = "7d_ooo_replyrate",
        default,
        deserialize_with = "crate::de::metric",
        serialize_with = "crate::de::ser_metric"
    )]
    pub ooo_reply_rate_7d: Option<f64>,
    /// Other windows, as sent (read them with [`ReplyRates::get`], e.g. `"30d_replyrate"`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl ReplyRates {
    /// Another rate by its vendor key, with `-1` → `None`.
    pub fn get(&self, key: &str) -> Option<f64> {
        metric_from(self.extra.get(key))
    }
}

/// `analytics.daily_counters`; `None` = no data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DailyCounters {
    /// Campaign emails sent today.
    #[serde(
        default,
        deserialize_with = "crate::de::count",
        serialize_with = "crate::de::ser_count"
    )]
    pub email_sent_today: Option<u64>,
    /// Warmup emails sent today.
    #[serde(
        default,
        deserialize_with = "crate::de::count",
        serialize_with = "crate::de::ser_count"
    )]
    pub warmup_email_sent_today: Option<u64>,
    /// Other counters, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn metric_from(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite() && *f >= 0.0)
}

/// The per-account warmup figures a dashboard shows. `None` means the vendor has no data
/// yet (its `-1`), which is different from a measured zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmupHealth {
    /// 7-day overall warmup health (percent).
    pub overall_7d: Option<f64>,
    /// 7-day health at Google recipients.
    pub google_7d: Option<f64>,
    /// 7-day health at Microsoft recipients.
    pub microsoft_7d: Option<f64>,
    /// 7-day health at other recipients.
    pub other_7d: Option<f64>,
    /// 7-day reply rate (percent).
    pub reply_rate_7d: Option<f64>,
    /// Campaign emails sent today.
    pub email_sent_today: Option<u64>,
    /// Warmup emails sent today.
    pub warmup_email_sent_today: Option<u64>,
}

impl WarmupHealth {
    /// Whether any health score or rate has data yet.
    pub fn has_scores(&self) -> bool {
        [
            self.overall_7d,
            self.google_7d,
            self.microsoft_7d,
            self.other_7d,
            self.reply_rate_7d,
        ]
        .iter()
        .any(Option::is_some)
    }
}

#[derive(Deserialize)]
pub(crate) struct AccountListBody {
    #[serde(default, deserialize_with = "crate::de::list")]
    accounts: Vec<EmailAccount>,
    // The partner variant may wrap rows in `data` (§6.2).
    #[serde(default, deserialize_with = "crate::de::list")]
    data: Vec<EmailAccount>,
}

impl AccountListBody {
    pub(crate) fn into_accounts(mut self) -> Vec<EmailAccount> {
        self.accounts.append(&mut self.data);
        self.accounts
    }
}

/// Filters and paging of `GET /account/list` (§4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAccounts {
    /// Rows to skip (≥ 0).
    pub skip: Option<u32>,
    /// Page size (≥ 1; integrators use 100).
    pub limit: Option<u32>,
    /// Exact email filter (an unmatched email gives an empty page, not a 404).
    pub email: Option<String>,
    /// Tag ids (sent comma-separated).
    pub tags: Vec<String>,
}

impl ListAccounts {
    /// Only the account with this address.
    pub fn by_email(email: impl Into<String>) -> Self {
        ListAccounts {
            email: Some(email.into()),
            ..Self::default()
        }
    }

    /// One page.
    pub fn page(skip: u32, limit: u32) -> Self {
        ListAccounts {
            skip: Some(skip),
            limit: Some(limit),
            ..Self::default()
        }
    }

    pub(crate) fn apply(&self, mut req: vendor_http::Request) -> vendor_http::Request {
        req = req
            .query_opt("skip", self.skip)
            .query_opt("limit", self.limit)
            .query_opt("email", self.email.as_deref());
        if !self.tags.is_empty() {
            req = req.query("tags", self.tags.join(","));
        }
        req
    }
}

/// Which of the expected addresses are listed (see [`EmailAccounts::presence`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountPresence {
    /// Listed accounts whose address was expected, in the order listed.
    pub found: Vec<EmailAccount>,
    /// Expected addresses not listed yet, in the order given.
    pub missing: Vec<String>,
}

impl AccountPresence {
    /// Whether every expected address is listed.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// Bulk update (write shape)
// ---------------------------------------------------------------------------------------

/// A warmup reply rate as the write API takes it: a fraction from 0.0 to 1.0 (it reads back
/// as a percent in `payload.warmup.reply_rate`; §4.1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct ReplyRate(f64);

impl ReplyRate {
    /// A fraction in `0.0..=1.0` (e.g. `0.3` for 30%).
    pub fn from_fraction(f: f64) -> Result<Self> {
        if f.is_finite() && (0.0..=1.0).contains(&f) {
            Ok(ReplyRate(f))
        } else {
            Err(Error::invalid_input(
                "plusvibe",
                format!("warmup_reply_rate: {f} is not a fraction between 0 and 1"),
            ))
        }
    }

    /// A whole percent in `0..=100` (e.g. `30`).
    pub fn from_percent(p: u8) -> Result<Self> {
        Self::from_fraction(f64::from(p) / 100.0)
    }

    /// The fraction.
    pub fn fraction(self) -> f64 {
        self.0
    }

    /// The percent, as the account reads it back.
    pub fn percent(self) -> f64 {
        self.0 * 100.0
    }
}

impl TryFrom<f64> for ReplyRate {
    type Error = String;
    fn try_from(f: f64) -> std::result::Result<Self, String> {
        ReplyRate::from_fraction(f).map_err(|e| e.to_string())
    }
}

impl From<ReplyRate> for f64 {
    fn from(r: ReplyRate) -> f64 {
        r.0
    }
}

/// Warmup schedule (`warmup_schedule`; the only way to set a warmup time zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmupSchedule {
    /// IANA time zone, e.g. `"America/New_York"`.
    pub tz: String,
    /// Start, `"HH:MM"`.
    pub from_time: String,
    /// End, `"HH:MM"`.
    pub to_time: String,
    /// Days, e.g. `["Monday", "Tuesday"]`.
    pub days: Vec<String>,
}

/// Campaign-sending settings of `PUT /account/bulk-update` (§4.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendingSettings {
    /// Campaign sends per day (0 allowed: stops campaigns, warmup continues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u32>,
    /// Minutes between sends (reads back as `payload.sending_gap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_limit_in_min: Option<u32>,
    /// Slow campaign ramp-up; when set, `daily_limit` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_is_slow_rampup: Option<YesNo>,
    /// Randomize the daily limit by this percent (0–50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_limit_rand_pct: Option<u32>,
    /// Auto-pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_is_auto_pause: Option<YesNo>,
    /// Auto-pause: sending days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_auto_pause_send_days: Option<u32>,
    /// Auto-pause: paused days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_auto_pause_days: Option<u32>,
}

impl SendingSettings {
    /// The original design's sending settings: 30 per day, 5 minutes apart.
    pub fn recommended() -> Self {
        SendingSettings {
            daily_limit: Some(30),
            interval_limit_in_min: Some(5),
            ..Self::default()
        }
    }
}

/// Warmup settings of `PUT /account/bulk-update` (§4.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmupSettings {
    /// Warmup emails on day one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_initial_daily_limit: Option<u32>,
    /// Daily increment (reads back as `payload.warmup.increment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_pace_increment: Option<u32>,
    /// Maximum warmup emails per day (reads back as `payload.warmup.limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_max_daily_limit: Option<u32>,
    /// Reply rate as a 0–1 fraction (reads back in percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_reply_rate: Option<ReplyRate>,
    /// Randomize the warmup volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_randomize: Option<YesNo>,
    /// Randomization in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_randomize_num: Option<u32>,
    /// Slow warmup ramp-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_warmup_is_slow_rampup: Option<YesNo>,
    /// Schedule and time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_schedule: Option<WarmupSchedule>,
    /// Business type (e.g. "Generic business type"); sometimes rejected — see
    /// [`EmailAccounts::bulk_update`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_business_type: Option<String>,
    /// Add the signature to warmup emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_signature: Option<YesNo>,
}

impl WarmupSettings {
    /// The original design's warmup settings: start at 2/day, +2 per day up to 30, 30%
    /// replies, randomized by 20%, slow ramp-up.
    pub fn recommended() -> Self {
        WarmupSettings {
            warmup_initial_daily_limit: Some(2),
            warmup_pace_increment: Some(2),
            warmup_max_daily_limit: Some(30),
            warmup_reply_rate: Some(ReplyRate(0.3)),
            warmup_randomize: Some(YesNo::Yes),
            warmup_randomize_num: Some(20),
            bulk_warmup_is_slow_rampup: Some(YesNo::Yes),
            ..Self::default()
        }
    }
}

/// Everything `PUT /account/bulk-update` can change. Only the fields set are sent, and
/// only those change ("omitted fields remain unchanged", §4.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// Sender first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Sender last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// HTML signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Campaign-sending settings.
    #[serde(flatten)]
    pub sending: SendingSettings,
    /// Warmup settings.
    #[serde(flatten)]
    pub warmup: WarmupSettings,
    /// Writable fields this crate does not model yet, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AccountSettings {
    /// The original design's settings ([`SendingSettings::recommended`] and
    /// [`WarmupSettings::recommended`]), without names.
    pub fn recommended() -> Self {
        AccountSettings {
            sending: SendingSettings::recommended(),
            warmup: WarmupSettings::recommended(),
            ..Self::default()
        }
    }

    /// The same settings with the sender name set.
    pub fn with_name(
        mut self,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
    ) -> Self {
        self.first_name = Some(first_name.into());
        self.last_name = Some(last_name.into());
        self
    }

    fn validate(&self) -> Result<()> {
        if self.sending.bulk_is_slow_rampup.is_some() && self.sending.daily_limit.is_none() {
            return Err(Error::invalid_input(
                "plusvibe",
                "daily_limit: required when bulk_is_slow_rampup is set",
            ));
        }
        if self.sending.bulk_limit_rand_pct.is_some_and(|p| p > 50) {
            return Err(Error::invalid_input(
                "plusvibe",
                "bulk_limit_rand_pct: must be between 0 and 50",
            ));
        }
        let v = serde_json::to_value(self)
            .map_err(|e| Error::invalid_input("plusvibe", e.to_string()))?;
        if v.as_object().is_none_or(Map::is_empty) {
            return Err(Error::invalid_input(
                "plusvibe",
                "bulk update: no setting to change",
            ));
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct BulkUpdateBody<'a> {
    ids: &'a [AccountId],
    #[serde(flatten)]
    settings: &'a AccountSettings,
}

#[derive(Serialize)]
struct WarmupBody<'a> {
    ids: &'a [AccountId],
    warmup_status: &'a WarmupStatus,
}

/// The answer of `PATCH /account/bulk-update-warmup`: `{updated_count, updated_ids}` per
/// RU-NOTES (some integrators only see `{status}`, so every field is optional). Merged
/// over chunks when more than [`BULK_CHUNK`] ids are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmupUpdate {
    /// `"success"`, when sent.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub status: Option<String>,
    /// How many accounts changed.
    #[serde(default, deserialize_with = "crate::de::count")]
    pub updated_count: Option<u64>,
    /// The ids that exist (and were updated).
    #[serde(default, deserialize_with = "crate::de::list")]
    pub updated_ids: Vec<AccountId>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------
// Adding SMTP/IMAP accounts
// ---------------------------------------------------------------------------------------

/// Inline campaign settings of an account being added (§4.7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineSending {
    /// Campaign sends per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u32>,
    /// Minutes between sends (the add-time name of `interval_limit_in_min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval: Option<u32>,
    /// Campaign ramp-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_camp_rampup: Option<YesNo>,
    /// Campaign ramp-up start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camp_rampup_start: Option<u32>,
    /// Campaign ramp-up increment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camp_rampup_increment: Option<u32>,
}

impl InlineSending {
    /// The original design's: 30 per day, 5 minutes apart.
    pub fn recommended() -> Self {
        InlineSending {
            daily_limit: Some(30),
            min_interval: Some(5),
            ..Self::default()
        }
    }
}

/// Inline warmup settings of an account being added (§4.7, §6.3): with
/// `enable_warmup: "yes"` warmup starts in the same call, so no separate warmup step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineWarmup {
    /// Start warmup at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_warmup: Option<YesNo>,
    /// Warmup emails per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_daily_limit: Option<u32>,
    /// Warmup ramp-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_warmup_rampup: Option<YesNo>,
    /// Ramp-up start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_rampup_start: Option<u32>,
    /// Ramp-up increment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_rampup_increment: Option<u32>,
    /// Custom warmup words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_custom_words: Option<String>,
}

impl InlineWarmup {
    /// The original design's: warmup on, 30 per day, ramp-up from 2 by 2.
    pub fn recommended() -> Self {
        InlineWarmup {
            enable_warmup: Some(YesNo::Yes),
            warmup_daily_limit: Some(30),
            enable_warmup_rampup: Some(YesNo::Yes),
            warmup_rampup_start: Some(2),
            warmup_rampup_increment: Some(2),
            warmup_custom_words: None,
        }
    }
}

/// IMAP and SMTP servers of a regular account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServers {
    /// IMAP host.
    pub imap_host: String,
    /// IMAP port (993 for TLS).
    pub imap_port: u16,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port (465 for TLS, 587 for STARTTLS).
    pub smtp_port: u16,
}

impl MailServers {
    /// One host for both, on the TLS ports (IMAP 993, SMTP 465).
    pub fn same_host(host: impl Into<String>) -> Self {
        let host = host.into();
        MailServers {
            imap_host: host.clone(),
            imap_port: 993,
            smtp_host: host,
            smtp_port: 465,
        }
    }
}

/// An SMTP/IMAP account to add (`accounts[]` of `bulk-add-regular-accounts` and of the
/// partner upload). Passwords are secrets: `Debug` redacts them, the type has no
/// `Serialize`, and they are exposed only while building the request body.
#[derive(Clone)]
pub struct RegularAccount {
    /// Sender first name.
    pub first_name: String,
    /// Sender last name.
    pub last_name: String,
    /// The address.
    pub email: String,
    /// IMAP login.
    pub username: String,
    /// IMAP password.
    pub password: SecretString,
    /// IMAP host.
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: u16,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP login.
    pub smtp_username: String,
    /// SMTP password.
    pub smtp_password: SecretString,
    /// SMTP port.
    pub smtp_port: u16,
    /// Inline campaign settings.
    pub sending: InlineSending,
    /// Inline warmup settings.
    pub warmup: InlineWarmup,
}

impl fmt::Debug for RegularAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegularAccount")
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field(
                "imap",
                &format_args!("{}:{}", self.imap_host, self.imap_port),
            )
            .field(
                "smtp",
                &format_args!("{}:{}", self.smtp_host, self.smtp_port),
            )
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &"[REDACTED]")
            .field("sending", &self.sending)
            .field("warmup", &self.warmup)
            .finish()
    }
}

impl RegularAccount {
    /// An account whose IMAP and SMTP logins are its address and `password`, with no inline
    /// settings (add them with [`with_sending`](Self::with_sending) and
    /// [`with_warmup`](Self::with_warmup)).
    pub fn new(
        email: impl Into<String>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        servers: MailServers,
        password: SecretString,
    ) -> Self {
        let email = email.into();
        RegularAccount {
            first_name: first_name.into(),
            last_name: last_name.into(),
            username: email.clone(),
            smtp_username: email.clone(),
            email,
            smtp_password: password.clone(),
            password,
            imap_host: servers.imap_host,
            imap_port: servers.imap_port,
            smtp_host: servers.smtp_host,
            smtp_port: servers.smtp_port,
            sending: InlineSending::default(),
            warmup: InlineWarmup::default(),
        }
    }

    /// With these inline campaign settings.
    pub fn with_sending(mut self, sending: InlineSending) -> Self {
        self.sending = sending;
        self
    }

    /// With these inline warmup settings.
    pub fn with_warmup(mut self, warmup: InlineWarmup) -> Self {
        self.warmup = warmup;
        self
    }

    pub(crate) fn validate(&self, index: usize) -> Result<()> {
        let bad = |field: &str, why: &str| {
            Err(Error::invalid_input(
                "plusvibe",
                format!("accounts[{index}].{field}: {why}"),
            ))
        };
        if !self.email.contains('@') {
            return bad("email", "a valid email address is required");
        }
        if self.imap_host.trim().is_empty() {
            return bad("imap_host", "required");
        }
        if self.smtp_host.trim().is_empty() {
            return bad("smtp_host", "required");
        }
        if self.password.expose_secret().is_empty() {
            return bad("password", "required");
        }
        if self.smtp_password.expose_secret().is_empty() {
            return bad("smtp_password", "required");
        }
        Ok(())
    }

    /// The wire shape, exposing the passwords only into the request body.
    pub(crate) fn wire(&self) -> RegularAccountWire<'_> {
        RegularAccountWire {
            first_name: &self.first_name,
            last_name: &self.last_name,
            email: &self.email,
            username: &self.username,
            password: self.password.expose_secret(),
            imap_host: &self.imap_host,
            imap_port: self.imap_port,
            smtp_host: &self.smtp_host,
            smtp_username: &self.smtp_username,
            smtp_password: self.smtp_password.expose_secret(),
            smtp_port: self.smtp_port,
            sending: &self.sending,
            warmup: &self.warmup,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RegularAccountWire<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    username: &'a str,
    password: &'a str,
    imap_host: &'a str,
    imap_port: u16,
    smtp_host: &'a str,
    smtp_username: &'a str,
    smtp_password: &'a str,
    smtp_port: u16,
    #[serde(flatten)]
    sending: &'a InlineSending,
    #[serde(flatten)]
    warmup: &'a InlineWarmup,
}

#[derive(Serialize)]
struct BulkAddBody<'a> {
    accounts: Vec<RegularAccountWire<'a>>,
}

#[derive(Serialize)]
struct DeleteBody<'a> {
    email: &'a str,
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// Email-account operations (`client.email_accounts()`).
#[derive(Debug, Clone, Copy)]
pub struct EmailAccounts<'a> {
    pub(crate) client: &'a Client,
}

impl EmailAccounts<'_> {
    /// `GET /account/list`: one page (no totals, §1.5).
    pub async fn list(
        &self,
        workspace: &WorkspaceId,
        params: &ListAccounts,
    ) -> Result<Vec<EmailAccount>> {
        let req = params.apply(
            Client::scoped(Method::GET, "/account/list", workspace, None::<&()>).idempotent(),
        );
        Ok(self
            .client
            .core
            .send::<AccountListBody>(req)
            .await?
            .into_accounts())
    }

    /// Every account matching `filter` (its `skip`/`limit` are the starting offset and page
    /// size, default 0 and [`PAGE_SIZE`]): pages until one comes back short (§1.5), with a
    /// guard against a server that ignores `skip`.
    pub async fn list_all(
        &self,
        workspace: &WorkspaceId,
        filter: &ListAccounts,
    ) -> Result<Vec<EmailAccount>> {
        let limit = filter.limit.unwrap_or(PAGE_SIZE).max(1);
        let mut skip = filter.skip.unwrap_or(0);
        let mut all: Vec<EmailAccount> = Vec::new();
        loop {
            let params = ListAccounts {
                skip: Some(skip),
                limit: Some(limit),
                ..filter.clone()
            };
            let page = self.list(workspace, &params).await?;
            let n = page.len();
            // Infinite-loop guard: a page starting with an id we already have means the
            // server ignored `skip`.
            if let Some(first) = page.first()
                && all.iter().any(|a| a.id == first.id)
            {
                tracing::warn!(
                    vendor = "plusvibe",
                    skip,
                    "account list repeated a page; stopping"
                );
                break;
            }
            all.extend(page);
            if n < limit as usize {
                break;
            }
            skip = skip.saturating_add(limit);
        }
        Ok(all)
    }

    /// The account with this address, if listed (`list?email=`, §4.2).
    pub async fn find_by_email(
        &self,
        workspace: &WorkspaceId,
        email: &str,
    ) -> Result<Option<EmailAccount>> {
        let page = self.list(workspace, &ListAccounts::by_email(email)).await?;
        Ok(page
            .into_iter()
            .find(|a| a.email.eq_ignore_ascii_case(email)))
    }

    /// Which of `expected` addresses are listed in the workspace (one full listing;
    /// addresses compare case-insensitively). Poll this after an export or bulk add, which
    /// only *accept* accounts (§7 item 3).
    pub async fn presence<S: AsRef<str>>(
        &self,
        workspace: &WorkspaceId,
        expected: &[S],
    ) -> Result<AccountPresence> {
        let listed = self.list_all(workspace, &ListAccounts::default()).await?;
        let wanted = |email: &str| {
            expected
                .iter()
                .any(|e| e.as_ref().eq_ignore_ascii_case(email))
        };
        let found: Vec<EmailAccount> = listed.into_iter().filter(|a| wanted(&a.email)).collect();
        let missing = expected
            .iter()
            .map(AsRef::as_ref)
            .filter(|e| !found.iter().any(|a| a.email.eq_ignore_ascii_case(e)))
            .map(str::to_string)
            .collect();
        Ok(AccountPresence { found, missing })
    }

    /// `PUT /account/bulk-update`: apply `settings` to `ids` (partial update; sent in
    /// chunks of [`BULK_CHUNK`]). Safe to repeat.
    ///
    /// Some accounts reject `warmup_business_type` (§7 item 8): if the vendor answers 400
    /// naming that field, the chunk is sent once more without it, as NIKO does.
    pub async fn bulk_update(
        &self,
        workspace: &WorkspaceId,
        ids: &[AccountId],
        settings: &AccountSettings,
    ) -> Result<StatusResponse> {
        crate::check_object_ids("ids", ids.iter().map(AccountId::as_str))?;
        settings.validate()?;
        let mut last = StatusResponse::default();
        for chunk in ids.chunks(BULK_CHUNK) {
            last = match self.bulk_update_chunk(workspace, chunk, settings).await {
                Err(e)
                    if e.kind() == ErrorKind::Validation
                        && settings.warmup.warmup_business_type.is_some()
                        && e.vendor_message()
                            .is_some_and(|m| m.contains("warmup_business_type")) =>
                {
                    let mut without = settings.clone();
                    without.warmup.warmup_business_type = None;
                    tracing::warn!(
                        vendor = "plusvibe",
                        "bulk update rejected warmup_business_type; retrying without it"
                    );
                    self.bulk_update_chunk(workspace, chunk, &without).await?
                }
                other => other?,
            };
        }
        Ok(last)
    }

    async fn bulk_update_chunk(
        &self,
        workspace: &WorkspaceId,
        ids: &[AccountId],
        settings: &AccountSettings,
    ) -> Result<StatusResponse> {
        let body = BulkUpdateBody { ids, settings };
        let req = Client::scoped(Method::PUT, "/account/bulk-update", workspace, Some(&body))
            .idempotent();
        self.client.core.send(req).await
    }

    /// `PATCH /account/bulk-update-warmup`: set the warmup status of `ids` (account ids, not
    /// emails). PlusVibe accepts only `ACTIVE` and `INACTIVE`; anything else (e.g. a
    /// `WarmupStatus::Other("PAUSED")`) is sent as given and the vendor answers 400. Sent in
    /// chunks of [`BULK_CHUNK`]; safe to repeat.
    pub async fn bulk_update_warmup(
        &self,
        workspace: &WorkspaceId,
        ids: &[AccountId],
        status: WarmupStatus,
    ) -> Result<WarmupUpdate> {
        crate::check_object_ids("ids", ids.iter().map(AccountId::as_str))?;
        let mut merged = WarmupUpdate::default();
        for chunk in ids.chunks(BULK_CHUNK) {
            let body = WarmupBody {
                ids: chunk,
                warmup_status: &status,
            };
            let req = Client::scoped(
                Method::PATCH,
                "/account/bulk-update-warmup",
                workspace,
                Some(&body),
            )
            .idempotent();
            let part: WarmupUpdate = self.client.core.send(req).await?;
            merged.status = part.status.or(merged.status);
            merged.updated_count = match (merged.updated_count, part.updated_count) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            merged.updated_ids.extend(part.updated_ids);
            merged.extra.extend(part.extra);
        }
        Ok(merged)
    }

    /// `POST /account/bulk-add-regular-accounts`: add SMTP/IMAP accounts. Asynchronous: a
    /// success only means *accepted* (results are emailed to the account owner); poll
    /// [`presence`](Self::presence) until they appear. Never retried once it may have reached
    /// the vendor.
    pub async fn bulk_add_regular(
        &self,
        workspace: &WorkspaceId,
        accounts: &[RegularAccount],
    ) -> Result<StatusResponse> {
        if accounts.is_empty() {
            return Err(Error::invalid_input(
                "plusvibe",
                "accounts: at least one account is required",
            ));
        }
        for (i, a) in accounts.iter().enumerate() {
            a.validate(i)?;
        }
        let body = BulkAddBody {
            accounts: accounts.iter().map(RegularAccount::wire).collect(),
        };
        let req = Client::scoped(
            Method::POST,
            "/account/bulk-add-regular-accounts",
            workspace,
            Some(&body),
        )
        .non_idempotent();
        self.client.core.send(req).await
    }

    /// `POST /account/delete`: delete the account with this **address** (PlusVibe deletes
    /// by email, not id; §4.8). Unrecoverable. An unknown address is an error (404).
    pub async fn delete(&self, workspace: &WorkspaceId, email: &str) -> Result<StatusResponse> {
        let body = DeleteBody { email };
        let req =
            Client::scoped(Method::POST, "/account/delete", workspace, Some(&body)).idempotent();
        self.client.core.send(req).await
    }

    /// [`delete`](Self::delete), treating "not found" as already gone: `Ok(true)` when
    /// deleted now, `Ok(false)` when it did not exist (a 404, or a message saying not found
    /// / does not exist, as NIKO does).
    pub async fn delete_if_exists(&self, workspace: &WorkspaceId, email: &str) -> Result<bool> {
        match self.delete(workspace, email).await {
            Ok(_) => Ok(true),
            Err(e) if is_gone(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn is_gone(e: &Error) -> bool {
    if e.kind() == ErrorKind::NotFound {
        return true;
    }
    e.status().is_some_and(|s| (400..500).contains(&s))
        && e.vendor_message().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("not found") || m.contains("does not exist") || m.contains("no such")
        })
}

//! Types shared by every resource: ids, open enums, pagination, the envelope, and the
//! lenient decoders for Zapmail's numbers-as-strings (zapmail.md §3, §9.4).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Defines a `#[serde(transparent)]` string id newtype with the usual conversions.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as sent by Zapmail.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }
    };
}

/// Defines an open string enum: known values get their own variant, anything else is kept
/// in `Other` and serialized back unchanged.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this crate does not know (yet), kept exactly as Zapmail sent it.
            Other(String),
        }

        impl $name {
            /// Every value this crate knows, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)+
                    Self::Other(s) => s,
                }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($value => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::from(s.as_str())
            }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(s.as_str()))
            }
        }
    };
}

pub(crate) use open_enum;

id_type!(
    /// A workspace id (a UUID); also the value of the `x-workspace-key` header (zapmail.md §2).
    WorkspaceId
);
id_type!(
    /// A domain id (a UUID); the key of the mailbox-creation body (zapmail.md §6.9).
    DomainId
);
id_type!(
    /// A mailbox id.
    MailboxId
);
id_type!(
    /// A third-party (sequencer) account id registered for exports (zapmail.md §6.10).
    ThirdPartyAccountId
);
id_type!(
    /// A DNS record id.
    DnsRecordId
);
id_type!(
    /// A domain tag id.
    TagId
);
id_type!(
    /// A domain connection request id.
    ConnectionRequestId
);

/// An export id. Zapmail documents it as an integer (`exportId=<int>`, zapmail.md §6.11);
/// it is held as text so a string id would decode too.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ExportId(pub String);

impl ExportId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for ExportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl AsRef<str> for ExportId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl From<&str> for ExportId {
    fn from(s: &str) -> Self {
        ExportId(s.to_string())
    }
}
impl From<String> for ExportId {
    fn from(s: String) -> Self {
        ExportId(s)
    }
}
impl From<u64> for ExportId {
    fn from(n: u64) -> Self {
        ExportId(n.to_string())
    }
}
impl<'de> Deserialize<'de> for ExportId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ExportId(s)),
            Value::Number(n) => Ok(ExportId(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected an export id (integer or string), got {other}"
            ))),
        }
    }
}

open_enum!(
    /// Status of a domain in the domain list (zapmail.md §6.7).
    DomainStatus {
        /// Registered and usable.
        Active => "ACTIVE",
        /// Disabled.
        Inactive => "INACTIVE",
        /// Bought, registration or DNS setup still running.
        Pending => "PENDING",
        /// Being set up.
        InProgress => "IN_PROGRESS",
        /// Registration expired.
        Expired => "EXPIRED",
    }
);

open_enum!(
    /// Status of a mailbox (zapmail.md §6.9; the full enum is unknown).
    MailboxStatus {
        /// Queued or being created.
        InProgress => "IN_PROGRESS",
        /// Created and usable.
        Active => "ACTIVE",
        /// Creation failed.
        Failed => "FAILED",
    }
);

open_enum!(
    /// Mailbox provider of a resource (changelog 2026-10-13, zapmail.md §2).
    ServiceProvider {
        /// Google Workspace.
        Google => "GOOGLE",
        /// Microsoft 365.
        Microsoft => "MICROSOFT",
    }
);

open_enum!(
    /// Sort order of filtered domain lists.
    SortOrder {
        /// Oldest first.
        Asc => "ASC",
        /// Newest first.
        Desc => "DESC",
    }
);

/// Pagination counters Zapmail adds to list responses (zapmail.md §4). Every field is
/// optional and accepts numbers or numeric strings.
///
/// Quirk: `nextPage` is `currentPage + 1` even on the last page; never loop on it. Use
/// [`Pagination::is_last_page`] (or the `list_all` helpers), which stop when
/// `page >= totalPages` or on an empty page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Items matching the search.
    #[serde(default, deserialize_with = "de_count")]
    pub total_searched_count: Option<u64>,
    /// The page returned (1-based).
    #[serde(default, deserialize_with = "de_count")]
    pub current_page: Option<u64>,
    /// `currentPage + 1`, even past the end (or `null` on some endpoints).
    #[serde(default, deserialize_with = "de_count")]
    pub next_page: Option<u64>,
    /// Number of pages.
    #[serde(default, deserialize_with = "de_count")]
    pub total_pages: Option<u64>,
    /// Total items (some endpoints).
    #[serde(default, deserialize_with = "de_count")]
    pub total_count: Option<u64>,
}

impl Pagination {
    /// Whether page `page` (1-based) with `items` rows is the last one: it is empty, or
    /// `page >= totalPages` (when known). `nextPage` is never consulted (zapmail.md §4).
    pub fn is_last_page(&self, page: u32, items: usize) -> bool {
        items == 0 || self.total_pages.is_some_and(|t| u64::from(page) >= t)
    }
}

/// Upper bound on pages the `list_all` helpers fetch, a guard against a vendor that never
/// returns an empty page and reports no `totalPages`.
pub const MAX_PAGES: u32 = 10_000;

/// The answer of a mutation whose `data` Zapmail does not document (often `null`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Ack {
    /// The status inside the body (mirrors HTTP; 202 for queued mailbox creation).
    #[serde(default, deserialize_with = "de_count_u16")]
    pub status: Option<u16>,
    /// Zapmail's message, e.g. `"DMARC record added successfully"`.
    #[serde(default)]
    pub message: Option<String>,
    /// Whatever `data` held (`Null` when absent).
    #[serde(default)]
    pub data: Value,
}

/// The success envelope `{status, message, data}` (zapmail.md §3).
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// Decode a number or a numeric string as a count; anything else is `None`.
pub(crate) fn de_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(count_of))
}

pub(crate) fn de_count_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(count_of)
        .and_then(|n| u16::try_from(n).ok()))
}

pub(crate) fn count_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parse a Zapmail price into an exact decimal.
///
/// Prices arrive as decimal strings in USD without `$` (`"12.99"`, `"0.00"` for taken
/// names) and sometimes as JSON numbers (wallet balance). `"NaN"` (unsupported TLDs),
/// empty strings, `null` and any other garbage give `None`: the price is unknown, which
/// callers must treat as "cannot be bought" rather than as free. A leading `$` is tolerated.
/// Floats are never involved: numbers are parsed from their JSON text.
pub fn parse_price(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::String(s) => s.trim().trim_start_matches('$').trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_str(&text))
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// serde helper: [`parse_price`] on an optional field.
pub(crate) fn de_price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(parse_price))
}

/// serde helper: a boolean that may arrive as a string or 0/1.
pub(crate) fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Some(Value::Number(n)) => n.as_u64().map(|n| n != 0),
        _ => None,
    })
}

/// serde helper: `null` as an empty collection.
pub(crate) fn de_null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Pick the `data` object of an envelope when there is one, else the body itself (for
/// endpoints whose envelope is not confirmed).
pub(crate) fn data_or_root(body: Value) -> Value {
    match body {
        Value::Object(mut map) if map.get("data").is_some_and(|d| !d.is_null()) => {
            map.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prices_are_exact_and_garbage_is_none() {
        assert_eq!(parse_price(&json!("12.99")), Some(Decimal::new(1299, 2)));
        assert_eq!(parse_price(&json!("0.00")), Some(Decimal::ZERO));
        assert_eq!(parse_price(&json!("$20.99")), Some(Decimal::new(2099, 2)));
        assert_eq!(parse_price(&json!(64)), Some(Decimal::from(64)));
        assert_eq!(parse_price(&json!(87.02)), Some(Decimal::new(8702, 2)));
        for bad in [
            json!("NaN"),
            json!(""),
            json!("abc"),
            json!(null),
            json!(true),
            json!("1.2.3"),
        ] {
            assert_eq!(parse_price(&bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_accept_strings_and_numbers() {
        assert_eq!(count_of(&json!("3")), Some(3));
        assert_eq!(count_of(&json!(7)), Some(7));
        assert_eq!(count_of(&json!("x")), None);
        assert_eq!(count_of(&json!(-1)), None);
    }

    #[test]
    fn pagination_stops_on_total_pages_or_empty_page() {
        let p: Pagination = serde_json::from_value(
            json!({"totalSearchedCount": "1", "currentPage": 1, "nextPage": 2, "totalPages": 1}),
        )
        .unwrap();
        assert!(p.is_last_page(1, 1));
        let p: Pagination =
            serde_json::from_value(json!({"currentPage": 1, "nextPage": 2, "totalPages": 0}))
                .unwrap();
        assert!(p.is_last_page(1, 0));
        let p: Pagination = serde_json::from_value(json!({"nextPage": null})).unwrap();
        assert!(!p.is_last_page(1, 10));
        assert!(p.is_last_page(2, 0));
    }

    #[test]
    fn open_enums_keep_unknown_values_and_roundtrip_known_ones() {
        let s: DomainStatus = serde_json::from_value(json!("ACTIVE")).unwrap();
        assert_eq!(s, DomainStatus::Active);
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("ACTIVE"));
        let u: DomainStatus = serde_json::from_value(json!("ARCHIVED")).unwrap();
        assert_eq!(u, DomainStatus::Other("ARCHIVED".into()));
        assert_eq!(serde_json::to_value(&u).unwrap(), json!("ARCHIVED"));
        for known in DomainStatus::KNOWN {
            assert!(!matches!(
                DomainStatus::from(*known),
                DomainStatus::Other(_)
            ));
        }
    }

    #[test]
    fn export_ids_decode_from_numbers_and_strings() {
        let a: ExportId = serde_json::from_value(json!(42)).unwrap();
        let b: ExportId = serde_json::from_value(json!("42")).unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_value::<ExportId>(json!([1])).is_err());
    }

    #[test]
    fn data_or_root_picks_the_envelope_data() {
        assert_eq!(
            data_or_root(json!({"status": 200, "data": {"a": 1}})),
            json!({"a": 1})
        );
        assert_eq!(data_or_root(json!({"a": 1})), json!({"a": 1}));
        assert_eq!(
            data_or_root(json!({"a": 1, "data": null})),
            json!({"a": 1, "data": null})
        );
    }
}
